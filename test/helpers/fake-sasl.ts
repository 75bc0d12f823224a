// A SASL-speaking broker for unit tests, on top of FakeCluster: SaslHandshake and SaslAuthenticate
// for PLAIN, SCRAM-SHA-256/512 (the server side of RFC 5802, computed here with node:crypto) and
// OAUTHBEARER (RFC 7628, with its error document), plus the session lifetime of KIP-368. Answers on a
// connection go out in request order, as a real broker's do, so a held Metadata answer also holds
// the SASL answers behind it (what a re-authentication meets with requests in flight). Every answer
// can be tampered with, to play a hostile broker.

import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'
import {
  SaslAuthenticateApi,
  SaslHandshakeApi,
  type SaslAuthenticateRequest,
  type SaslAuthenticateResponse,
  type SaslHandshakeRequest,
  type SaslHandshakeResponse,
} from '../../src/protocol/index.js'
import { Connection, type AuthenticationStep, type ConnectionOptions } from '../../src/network/connection.js'
import { ManualClock } from '../../src/util/clock.js'
import {
  DEFAULT_API_VERSIONS,
  FakeCluster,
  type FakeConnection,
  type ReceivedRequest,
} from './fake-broker.js'

export const SASL_API_VERSIONS = [
  ...DEFAULT_API_VERSIONS,
  { apiKey: 17, minVersion: 0, maxVersion: 1 }, // SaslHandshake
  { apiKey: 36, minVersion: 0, maxVersion: 2 }, // SaslAuthenticate
]

/** One SaslAuthenticate round as the broker saw it. */
export interface SaslRound {
  readonly connection: FakeConnection
  readonly mechanism: string
  /** 1 for the first SaslAuthenticate after a SaslHandshake. */
  readonly round: number
  readonly authBytes: Buffer
  readonly apiVersion: number
}

/** What a tamper hook may do with an answer: replace it, hold it forever, or close the connection. */
export type Tampered = SaslAuthenticateResponse | 'hold' | 'close'

interface ScramState {
  clientFirstBare: string
  serverFirst: string
  nonce: string
  user: string
}

interface ConnState {
  mechanism: string | null
  round: number
  scram: ScramState | null
  oauthFailed: boolean
  /** Answers in request order: an entry goes out once it and every entry before it are ready. */
  queue: { ready: boolean; send: () => void }[]
}

const ok = (authBytes = Buffer.alloc(0), sessionLifetimeMs = 0n): SaslAuthenticateResponse => ({
  errorCode: 0,
  errorMessage: null,
  authBytes,
  sessionLifetimeMs,
})

const failed = (errorMessage: string): SaslAuthenticateResponse => ({
  errorCode: 58,
  errorMessage,
  authBytes: Buffer.alloc(0),
  sessionLifetimeMs: 0n,
})

export class FakeSaslBroker {
  readonly cluster: FakeCluster
  enabled = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']
  /** PLAIN and SCRAM credentials. */
  readonly users = new Map<string, string>([['alice', 'alice-secret']])
  salt = Buffer.from('a salt of the fake broker')
  iterations = 4096
  serverNonce = 'fake-server-nonce'
  /** The session lifetime in each successful final answer (KIP-368), for SaslAuthenticate v1+. */
  sessionLifetimeMs = 0
  /** OAUTHBEARER: null accepts the token, a string is the RFC 7628 status to refuse it with. */
  checkToken: (token: string, extensions: Record<string, string>) => string | null = () => null
  /** Replaces the SaslHandshake answer (the default lists `enabled`). */
  handshake: ((req: SaslHandshakeRequest) => SaslHandshakeResponse | 'hold') | null = null
  /** Sees every SaslAuthenticate answer before it goes; returns it or another one. */
  tamper: ((round: SaslRound, answer: SaslAuthenticateResponse) => Tampered) | null = null
  /** Holds Metadata answers until release(). */
  holdMetadata = false
  readonly rounds: SaslRound[] = []
  /** Bearer tokens received, in order. */
  readonly tokens: string[] = []
  private readonly state = new Map<FakeConnection, ConnState>()
  private readonly heldMetadata: { ready: boolean }[] = []

  constructor(cluster?: FakeCluster) {
    this.cluster =
      cluster ?? new FakeCluster({ topics: { a: { partitions: 1 } }, apiVersions: SASL_API_VERSIONS })
    this.cluster.interceptor = (req, respond, conn) => this.intercept(req, respond, conn)
  }

  /** Lets the held Metadata answers go (in order, with whatever waits behind them). */
  release(): void {
    for (const e of this.heldMetadata.splice(0)) e.ready = true
    for (const c of this.state.keys()) this.flush(c)
  }

  /** Requests received by the cluster, by API name. */
  requestNames(): string[] {
    return this.cluster.requests.map((r) => r.apiName)
  }

  private conn(c: FakeConnection): ConnState {
    let s = this.state.get(c)
    if (!s) this.state.set(c, (s = { mechanism: null, round: 0, scram: null, oauthFailed: false, queue: [] }))
    return s
  }

  private flush(c: FakeConnection): void {
    const q = this.conn(c).queue
    while (q.length > 0 && q[0]!.ready) q.shift()!.send()
  }

  private enqueue(c: FakeConnection, send: () => void, ready = true): { ready: boolean } {
    const entry = { ready, send }
    this.conn(c).queue.push(entry)
    this.flush(c)
    return entry
  }

  private intercept(req: ReceivedRequest, respond: () => void, c: FakeConnection): 'hold' | 'close' {
    if (req.apiKey === SaslHandshakeApi.apiKey) {
      const body = req.body as SaslHandshakeRequest
      const s = this.conn(c)
      const res = this.handshake?.(body) ?? {
        errorCode: this.enabled.includes(body.mechanism) ? 0 : 33,
        mechanisms: this.enabled,
      }
      if (res === 'hold') return 'hold'
      s.mechanism = res.errorCode === 0 ? body.mechanism : null
      s.round = 0
      s.scram = null
      s.oauthFailed = false
      this.enqueue(c, () => c.send(SaslHandshakeApi, req.apiVersion, req.correlationId, res))
      return 'hold'
    }
    if (req.apiKey === SaslAuthenticateApi.apiKey) {
      const s = this.conn(c)
      const authBytes = (req.body as SaslAuthenticateRequest).authBytes
      const round: SaslRound = {
        connection: c,
        mechanism: s.mechanism ?? '',
        round: ++s.round,
        authBytes,
        apiVersion: req.apiVersion,
      }
      this.rounds.push(round)
      let answer = this.answer(s, authBytes)
      if (answer.errorCode === 0 && req.apiVersion >= 1 && this.isFinal(s, round)) {
        answer = { ...answer, sessionLifetimeMs: BigInt(this.sessionLifetimeMs) }
      }
      const tampered = this.tamper ? this.tamper(round, answer) : answer
      if (tampered === 'close') return 'close'
      if (tampered === 'hold') return 'hold'
      this.enqueue(c, () => c.send(SaslAuthenticateApi, req.apiVersion, req.correlationId, tampered))
      return 'hold'
    }
    if (req.apiName === 'Metadata' && this.holdMetadata) {
      this.heldMetadata.push(this.enqueue(c, respond, false))
      return 'hold'
    }
    this.enqueue(c, respond)
    return 'hold'
  }

  /** Whether a successful answer in `round` ends the exchange (where the session lifetime goes). */
  private isFinal(s: ConnState, round: SaslRound): boolean {
    if (s.mechanism === 'OAUTHBEARER') return !s.oauthFailed
    return s.mechanism?.startsWith('SCRAM-') ? round.round === 2 : true
  }

  private answer(s: ConnState, bytes: Buffer): SaslAuthenticateResponse {
    switch (s.mechanism) {
      case 'PLAIN': {
        const [, user, password] = bytes.toString('utf8').split('\0')
        return user !== undefined && this.users.get(user) === password
          ? ok()
          : failed('Authentication failed: Invalid username or password')
      }
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        return this.scram(s, s.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512', bytes.toString('utf8'))
      case 'OAUTHBEARER':
        return this.oauth(s, bytes.toString('utf8'))
      default:
        return { ...failed('no SaslHandshake before SaslAuthenticate'), errorCode: 34 }
    }
  }

  private scram(s: ConnState, hash: 'sha256' | 'sha512', msg: string): SaslAuthenticateResponse {
    const invalid = failed(
      `Authentication failed during authentication due to invalid credentials with SASL mechanism ${s.mechanism}`,
    )
    if (!s.scram) {
      const m = /^n,,(n=([^,]*),r=([^,]+))$/.exec(msg)
      if (!m) return failed('malformed client-first message')
      const user = m[2]!.replace(/=2C/g, ',').replace(/=3D/g, '=')
      const nonce = m[3]! + this.serverNonce
      const serverFirst = `r=${nonce},s=${this.salt.toString('base64')},i=${this.iterations}`
      s.scram = { clientFirstBare: m[1]!, serverFirst, nonce, user }
      return ok(Buffer.from(serverFirst))
    }
    const m = /^(c=biws,r=([^,]+)),p=([A-Za-z0-9+/=]+)$/.exec(msg)
    if (!m || m[2] !== s.scram.nonce) return failed('malformed client-final message')
    const password = this.users.get(s.scram.user)
    if (password === undefined) return invalid
    const salted = pbkdf2Sync(password, this.salt, this.iterations, hash === 'sha256' ? 32 : 64, hash)
    const authMessage = `${s.scram.clientFirstBare},${s.scram.serverFirst},${m[1]}`
    const clientKey = createHmac(hash, salted).update('Client Key').digest()
    const storedKey = createHash(hash).update(clientKey).digest()
    const signature = createHmac(hash, storedKey).update(authMessage).digest()
    const proof = Buffer.from(m[3]!, 'base64')
    if (proof.length !== signature.length) return invalid
    const recovered = Buffer.from(proof.map((b, i) => b ^ signature[i]!))
    if (!timingSafeEqual(createHash(hash).update(recovered).digest(), storedKey)) return invalid
    const serverKey = createHmac(hash, salted).update('Server Key').digest()
    const serverSignature = createHmac(hash, serverKey).update(authMessage).digest()
    return ok(Buffer.from(`v=${serverSignature.toString('base64')}`))
  }

  private oauth(s: ConnState, msg: string): SaslAuthenticateResponse {
    if (s.oauthFailed) {
      return msg === '\x01'
        ? failed(
            'Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER',
          )
        : failed('expected %x01 after the error')
    }
    // RFC 7628 §3.1 frames the message with %x01 (kvsep).
    // eslint-disable-next-line no-control-regex
    const m = /^n,(?:a=[^,]*)?,\x01auth=Bearer ([^\x01]+)\x01((?:[A-Za-z]+=[^\x01]+\x01)*)\x01$/.exec(msg)
    if (!m) return failed('Invalid OAUTHBEARER client first message')
    const extensions: Record<string, string> = {}
    for (const pair of m[2]!.split('\x01').filter((p) => p.length > 0)) {
      const eq = pair.indexOf('=')
      extensions[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    this.tokens.push(m[1]!)
    const status = this.checkToken(m[1]!, extensions)
    if (status === null) return ok()
    s.oauthFailed = true
    return ok(Buffer.from(JSON.stringify({ status, scope: 'kafka' })))
  }
}

/** A connection to the fake broker's broker1:9092 with `step` as its authentication step. */
export function saslConnection(
  broker: FakeSaslBroker,
  step: AuthenticationStep,
  opts: Partial<ConnectionOptions> = {},
): { conn: Connection; clock: ManualClock; closes: unknown[] } {
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock()
  const closes: unknown[] = []
  const conn = new Connection({
    host: 'broker1',
    port: 9092,
    nodeId: 1,
    clientId: 'unit',
    requestTimeoutMs: 30_000,
    connectTimeoutMs: 10_000,
    transport: broker.cluster.transport,
    authenticate: step,
    onClose: (_c, err) => closes.push(err),
    ...opts,
    clock,
  })
  return { conn, clock, closes }
}
