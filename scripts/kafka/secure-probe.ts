// A raw probe of a secured listener (security.ts), sharing no code with src/ as probe.ts: TLS through
// node:tls, then optionally SASL PLAIN with hand-encoded SaslHandshake v1 and SaslAuthenticate v1, then
// one Metadata v4 request. It shows what the broker offers and enforces without any Kafka client:
// which mechanisms a listener enables, the session lifetime it grants (connections.max.reauth.ms,
// KIP-368), which certificates it accepts, and what it advertises.

import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { decodeMetadata, encodeMetadataRequest, type ProbeResult } from './probe.js'

export interface SecureProbeOptions {
  host: string
  port: number
  /** TLS options (ca, cert, key, passphrase, servername, ...); without them, plain TCP. */
  tls?: ConnectionOptions
  /** SASL PLAIN credentials: the probe authenticates before Metadata. */
  plain?: { username: string; password: string }
  /** Default 5 s for the whole exchange. */
  timeoutMs?: number
}

export interface SecureProbeResult {
  /** The mechanisms the listener enables, from the SaslHandshake answer; null without `plain`. */
  readonly mechanisms: readonly string[] | null
  /** SaslAuthenticate's session_lifetime_ms (0: no re-authentication); null without `plain`. */
  readonly sessionLifetimeMs: number | null
  /** The Metadata answer: the brokers as this listener advertises them. */
  readonly metadata: ProbeResult
}

const API_KEY_SASL_HANDSHAKE = 17
const API_KEY_SASL_AUTHENTICATE = 36
const CLIENT_ID = Buffer.from('reliable-kafka-secure-probe', 'utf8')

/** A request frame with header v1 (api key, version, correlation id, client id) and `body`. */
function frame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(10)
  header.writeInt16BE(apiKey, 0)
  header.writeInt16BE(version, 2)
  header.writeInt32BE(correlationId, 4)
  header.writeInt16BE(CLIENT_ID.length, 8)
  const size = Buffer.alloc(4)
  size.writeInt32BE(header.length + CLIENT_ID.length + body.length)
  return Buffer.concat([size, header, CLIENT_ID, body])
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.alloc(2)
  len.writeInt16BE(b.length)
  return Buffer.concat([len, b])
}

function bytes(b: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeInt32BE(b.length)
  return Buffer.concat([len, b])
}

/** Reads big-endian fields from a response body, after checking its correlation id. */
class BodyReader {
  private o = 4
  constructor(
    private readonly body: Buffer,
    correlationId: number,
  ) {
    const got = body.readInt32BE(0)
    if (got !== correlationId)
      throw new Error(`secure probe: correlation id ${got}, expected ${correlationId}`)
  }
  int16(): number {
    const v = this.body.readInt16BE(this.o)
    this.o += 2
    return v
  }
  int32(): number {
    const v = this.body.readInt32BE(this.o)
    this.o += 4
    return v
  }
  int64(): number {
    const v = Number(this.body.readBigInt64BE(this.o))
    this.o += 8
    return v
  }
  string(): string | null {
    const len = this.int16()
    if (len < 0) return null
    const s = this.body.toString('utf8', this.o, this.o + len)
    this.o += len
    return s
  }
  skipBytes(): void {
    // Not `this.o += this.int32()`: that reads this.o before int32() moves it.
    const len = this.int32()
    this.o += Math.max(0, len)
  }
}

/** One connection: write a frame, await the next response frame's body. */
class Exchange {
  private received = Buffer.alloc(0)
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null
  private failure: Error | null = null

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk])
      this.deliver()
    })
    socket.on('error', (err) => this.fail(err))
    socket.on('close', () => this.fail(new Error('secure probe: the broker closed the connection')))
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.waiter?.reject(this.failure)
    this.waiter = null
  }

  private deliver(): void {
    if (!this.waiter || this.received.length < 4) return
    const size = this.received.readInt32BE(0)
    if (this.received.length < 4 + size) return
    const body = this.received.subarray(4, 4 + size)
    this.received = this.received.subarray(4 + size)
    const w = this.waiter
    this.waiter = null
    w.resolve(body)
  }

  request(request: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
      this.socket.write(request)
      this.deliver()
    })
  }
}

/** The socket at once (so it can always be destroyed) and a promise of its connection (TLS: handshake). */
function open(opts: SecureProbeOptions): { socket: Socket; connected: Promise<void> } {
  let onConnect = (): void => undefined
  const connected = new Promise<void>((resolve) => (onConnect = resolve))
  const socket = opts.tls
    ? tlsConnect({ host: opts.host, port: opts.port, ...opts.tls }, onConnect)
    : netConnect({ host: opts.host, port: opts.port }, onConnect)
  const failed = new Promise<never>((_, reject) => socket.on('error', reject))
  return { socket, connected: Promise.race([connected, failed]) }
}

async function converse(socket: Socket, opts: SecureProbeOptions): Promise<SecureProbeResult> {
  const ex = new Exchange(socket)
  let correlationId = 1
  let mechanisms: string[] | null = null
  let sessionLifetimeMs: number | null = null
  if (opts.plain) {
    const handshakeId = correlationId++
    const hs = new BodyReader(
      await ex.request(frame(API_KEY_SASL_HANDSHAKE, 1, handshakeId, str('PLAIN'))),
      handshakeId,
    )
    const hsError = hs.int16()
    const count = hs.int32()
    mechanisms = []
    for (let i = 0; i < count; i++) mechanisms.push(hs.string() ?? '')
    if (hsError !== 0)
      throw new Error(`secure probe: SaslHandshake error ${hsError}, enabled: ${mechanisms.join(',')}`)
    const authId = correlationId++
    const token = Buffer.from(`\0${opts.plain.username}\0${opts.plain.password}`, 'utf8')
    const auth = new BodyReader(
      await ex.request(frame(API_KEY_SASL_AUTHENTICATE, 1, authId, bytes(token))),
      authId,
    )
    const authError = auth.int16()
    const message = auth.string()
    if (authError !== 0) throw new Error(`secure probe: SaslAuthenticate error ${authError}: ${message}`)
    auth.skipBytes()
    sessionLifetimeMs = auth.int64()
  }
  const metadataId = correlationId++
  const body = await ex.request(encodeMetadataRequest(metadataId, 4))
  return { mechanisms, sessionLifetimeMs, metadata: decodeMetadata(body, metadataId, 4) }
}

/**
 * Connects to a secured listener (TLS if `tls` is given), authenticates with SASL PLAIN if `plain` is
 * given, and asks for Metadata. Rejects with the TLS error (its `code`, e.g.
 * ERR_TLS_CERT_ALTNAME_INVALID), the broker's SASL error (58 is SASL_AUTHENTICATION_FAILED), a closed
 * connection (a rejected client certificate) or a timeout.
 */
export async function probeSecureListener(opts: SecureProbeOptions): Promise<SecureProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 5000
  const { socket, connected } = open(opts)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`secure probe: no answer from ${opts.host}:${opts.port} in ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([connected.then(() => converse(socket, opts)), timeout])
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}
