import { createHash, createHmac, randomBytes as cryptoRandomBytes, timingSafeEqual } from 'node:crypto'
import type { SaslFail, SaslMechanism, SaslSession } from './mechanism.js'
import { SaltedPasswordCache, type ScramHash } from './salted-password-cache.js'
import { quoteBroker, quoteName, redact, serverText } from './text.js'

// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677; in Kafka since KIP-84): the password never
// crosses the wire, and the server proves that it knows the credential too.
//
//   client-first  n,,n=<user>,r=<client nonce>
//   server-first  r=<client nonce + server nonce>,s=<salt, base64>,i=<iterations>
//   client-final  c=biws,r=<nonce>,p=<ClientProof, base64>
//   server-final  v=<ServerSignature, base64>   (or e=<error>)
//
// Every server message is parsed strictly: a broker's bytes decide how much CPU we spend and what we
// accept as proof, so anything out of the grammar ends the exchange.

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

/**
 * RFC 7677 §4: at least 4096 iterations (Kafka's ScramMechanism has the same minimum): fewer make the
 * stored credential cheap to attack, and a server offering fewer is misconfigured or hostile.
 */
export const MIN_ITERATIONS = 4096

/**
 * The most iterations we are willing to compute. The server picks the count, and PBKDF2's cost grows
 * with it: a hostile broker asking for 2^31 would burn minutes of CPU on every connection attempt.
 * Kafka's own tools create credentials with at most 16384; Kafka-compatible brokers may use more, so
 * the bound is generous (about a second of CPU on the thread pool for SHA-512) yet finite.
 */
export const MAX_ITERATIONS = 1_000_000

/** Bytes of randomness in our nonce: 192 bits, as base64 (32 printable characters, no ','). */
const NONCE_BYTES = 24

/** The GS2 header (RFC 5802 §7): no channel binding ('n'), no authorization identity. */
export const GS2_HEADER = 'n,,'

/** RFC 5802 §7 printable: the characters of a nonce, %x21-7E except ','. */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/
/** Base64 with padding (RFC 4648 §4), as RFC 5802 requires for s=, p= and v=. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const ITERATION_COUNT = /^[1-9][0-9]{0,9}$/
/** An attribute of an extension: one letter, '=' (RFC 5802 §7 attr-val). */
const ATTRIBUTE = /^[A-Za-z]=/
const MAX_NONCE_LENGTH = 1024
const MAX_SALT_BYTES = 1024

export function hashOf(mechanism: ScramMechanismName): ScramHash {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512'
}

/** RFC 5802 §5.1 saslname: '=' becomes '=3D' and ',' becomes '=2C' (in that order, as Kafka's ScramFormatter). */
export function scramUsername(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

/** client-first-message-bare: what the AuthMessage starts with (the full message adds GS2_HEADER). */
export function clientFirstMessageBare(username: string, nonce: string): string {
  return `n=${scramUsername(username)},r=${nonce}`
}

export interface ServerFirst {
  /** Our nonce followed by the server's. */
  readonly nonce: string
  readonly salt: Buffer
  readonly iterations: number
}

function base64(text: string, maxBytes: number): Buffer | null {
  if (text.length === 0 || !BASE64.test(text)) return null
  const bytes = Buffer.from(text, 'base64')
  return bytes.length > maxBytes ? null : bytes
}

/**
 * Parses a server-first-message (RFC 5802 §7): `[m=...,]r=<nonce>,s=<salt>,i=<count>[,<ext>...]`.
 * Returns the parts, or the reason it is refused (a fixed text: no server bytes are echoed).
 */
export function parseServerFirst(message: string, clientNonce: string): ServerFirst | string {
  const attrs = message.split(',')
  if (attrs[0]!.startsWith('m='))
    return 'the server requires a SCRAM extension (m=) this client does not know'
  const [r, s, i, ...extensions] = attrs
  if (!r?.startsWith('r=')) return 'no nonce (r=) where expected'
  const nonce = r.slice(2)
  if (nonce.length > MAX_NONCE_LENGTH || !PRINTABLE.test(nonce)) return 'malformed nonce'
  // RFC 5802 §5.1: the server appends its own nonce to ours; the same nonce or another prefix means a
  // replayed or forged message.
  if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    return 'the nonce does not extend the client nonce'
  }
  if (!s?.startsWith('s=')) return 'no salt (s=) where expected'
  const salt = base64(s.slice(2), MAX_SALT_BYTES)
  if (!salt) return 'malformed salt (s=): not base64, empty or too long'
  if (!i?.startsWith('i=')) return 'no iteration count (i=) where expected'
  const count = i.slice(2)
  if (!ITERATION_COUNT.test(count)) return 'malformed iteration count (i=)'
  const iterations = Number(count)
  if (iterations < MIN_ITERATIONS)
    return `iteration count ${iterations} is below the minimum of ${MIN_ITERATIONS}`
  if (iterations > MAX_ITERATIONS)
    return `iteration count ${iterations} is above the maximum of ${MAX_ITERATIONS}`
  if (extensions.some((e) => !ATTRIBUTE.test(e))) return 'malformed attribute after the iteration count'
  return { nonce, salt, iterations }
}

/** client-final-message-without-proof: the channel binding (base64 of the GS2 header) and the nonce. */
export function clientFinalWithoutProof(nonce: string): string {
  return `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`
}

function hmac(hash: ScramHash, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest()
}

/**
 * RFC 5802 §3: the ClientProof we send and the ServerSignature the server must answer with, both
 * over AuthMessage = client-first-message-bare "," server-first-message "," client-final-without-proof.
 */
export function scramProof(
  hash: ScramHash,
  saltedPassword: Buffer,
  authMessage: string,
): { clientProof: Buffer; serverSignature: Buffer } {
  const clientKey = hmac(hash, saltedPassword, 'Client Key')
  const storedKey = createHash(hash).update(clientKey).digest()
  const clientSignature = hmac(hash, storedKey, authMessage)
  const clientProof = Buffer.alloc(clientKey.length)
  for (let k = 0; k < clientKey.length; k++) clientProof[k] = clientKey[k]! ^ clientSignature[k]!
  const serverKey = hmac(hash, saltedPassword, 'Server Key')
  return { clientProof, serverSignature: hmac(hash, serverKey, authMessage) }
}

/**
 * Parses a server-final-message (RFC 5802 §7): `v=<signature>` or `e=<error>`, optionally followed by
 * extensions. Returns the signature or the server's error, or the reason the message is refused.
 */
export function parseServerFinal(message: string): { verifier: Buffer } | { error: string } | string {
  const [first, ...extensions] = message.split(',')
  if (extensions.some((e) => !ATTRIBUTE.test(e))) return 'malformed attribute after the verifier'
  if (first!.startsWith('e=')) return { error: first!.slice(2) }
  if (!first!.startsWith('v=')) return 'neither a verifier (v=) nor an error (e=)'
  const verifier = base64(first!.slice(2), 64)
  return verifier ? { verifier } : 'malformed verifier (v=)'
}

type State = 'new' | 'first-sent' | 'final-sent' | 'done'

class ScramSession implements SaslSession {
  readonly #hash: ScramHash
  readonly #username: string
  readonly #password: string
  readonly #cache: SaltedPasswordCache
  readonly #nonce: () => string
  readonly #fail: SaslFail
  #state: State = 'new'
  #clientNonce = ''
  #clientFirstBare = ''
  #serverSignature: Buffer | null = null

  constructor(
    hash: ScramHash,
    username: string,
    password: string,
    cache: SaltedPasswordCache,
    nonce: () => string,
    fail: SaslFail,
  ) {
    this.#hash = hash
    this.#username = username
    this.#password = password
    this.#cache = cache
    this.#nonce = nonce
    this.#fail = fail
  }

  identity(): string {
    return `user ${quoteName(this.#username)}`
  }

  first(): Promise<Buffer> {
    this.#clientNonce = this.#nonce()
    this.#clientFirstBare = clientFirstMessageBare(this.#username, this.#clientNonce)
    this.#state = 'first-sent'
    return Promise.resolve(Buffer.from(GS2_HEADER + this.#clientFirstBare, 'utf8'))
  }

  async next(challenge: Buffer): Promise<Buffer | null> {
    const fail = (reason: string) => this.#fail('_AUTHENTICATION', reason)
    const text = serverText(challenge, fail)
    if (this.#state === 'first-sent') {
      const parsed = parseServerFirst(text, this.#clientNonce)
      if (typeof parsed === 'string') throw fail(`malformed server-first message: ${parsed}`)
      const salted = await this.#cache.get(this.#hash, parsed.salt, parsed.iterations)
      const withoutProof = clientFinalWithoutProof(parsed.nonce)
      const authMessage = `${this.#clientFirstBare},${text},${withoutProof}`
      const { clientProof, serverSignature } = scramProof(this.#hash, salted, authMessage)
      this.#serverSignature = serverSignature
      this.#state = 'final-sent'
      return Buffer.from(`${withoutProof},p=${clientProof.toString('base64')}`, 'utf8')
    }
    if (this.#state === 'final-sent') {
      const parsed = parseServerFinal(text)
      if (typeof parsed === 'string') throw fail(`malformed server-final message: ${parsed}`)
      if ('error' in parsed) {
        throw this.#fail(
          'SASL_AUTHENTICATION_FAILED',
          `server error: ${quoteBroker(parsed.error, [this.#password])}`,
        )
      }
      const expected = this.#serverSignature!
      if (parsed.verifier.length !== expected.length || !timingSafeEqual(parsed.verifier, expected)) {
        // RFC 5802 §9: the server must prove it knows the credential, or it may be an impostor that
        // accepts anyone. Never mistake it for a genuine broker.
        throw fail('server signature mismatch: the broker did not prove that it knows the credential')
      }
      this.#state = 'done'
      return null
    }
    throw fail(
      `unexpected server message ${this.#state === 'done' ? 'after the exchange ended' : 'before ours'}`,
    )
  }

  redact(text: string): string {
    return redact(text, [this.#password])
  }

  failureDetail(): null {
    return null
  }
}

export interface ScramMechanismOptions {
  /** Random bytes for nonces (default node:crypto's randomBytes). */
  randomBytes?: (size: number) => Buffer
  /** The whole client nonce (tests with fixed vectors); takes precedence over randomBytes. */
  nonce?: () => string
}

/** SCRAM-SHA-256 or SCRAM-SHA-512 with the given credentials (validated by validateSaslSettings). */
export class ScramMechanism implements SaslMechanism {
  readonly name: ScramMechanismName
  readonly #username: string
  readonly #password: string
  readonly #cache: SaltedPasswordCache
  readonly #nonce: () => string

  constructor(
    name: ScramMechanismName,
    username: string,
    password: string,
    opts: ScramMechanismOptions = {},
  ) {
    this.name = name
    this.#username = username
    this.#password = password
    this.#cache = new SaltedPasswordCache(password)
    const random = opts.randomBytes ?? cryptoRandomBytes
    this.#nonce = opts.nonce ?? (() => random(NONCE_BYTES).toString('base64'))
  }

  /** The salted passwords computed so far (tests: a reconnect must not compute again). */
  get cachedSaltedPasswords(): number {
    return this.#cache.size
  }

  session(fail: SaslFail): SaslSession {
    return new ScramSession(hashOf(this.name), this.#username, this.#password, this.#cache, this.#nonce, fail)
  }
}
