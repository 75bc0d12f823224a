import { KafkaError } from '../../errors/index.js'
import type { Clock } from '../../util/clock.js'
import { extensionProblem } from './oauthbearer.js'
import type { OAuthBearerToken, OAuthCallback } from './settings.js'
import { quoteBroker } from './text.js'

// Where OAUTHBEARER tokens come from: the application's callback (oauth_cb), called as rarely as
// possible and never trusted blindly.

/**
 * A token is replaced once 80 % of its lifetime (from when we got it) has passed, as librdkafka does:
 * a new connection or a re-authentication then never presents a token about to expire, and the
 * broker's session (bounded by the token's expiry, KIP-368) is long enough to be worth having.
 */
export const REFRESH_SHARE = 0.8

/**
 * Connections that need a token at the same time share one callback call. A call that has not
 * settled after this long is not waited for any more: a hung callback must not block every later
 * connection (each connection's own wait is bounded by socket.connection.setup.timeout.ms).
 */
export const STALE_CALL_MS = 60_000

/**
 * The largest token we send: Kafka's broker refuses SASL messages over sasl.server.max.receive.size
 * (512 KiB by default), and a larger token is more likely a mistake than a credential.
 */
const MAX_TOKEN_LENGTH = 512 * 1024

/** RFC 6750 §2.1 b64token: the characters a bearer token may have (a JWT's are among them). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** A token that passed the checks. The value is private: util.inspect and JSON show no secret. */
export class BearerToken {
  readonly #value: string

  constructor(
    value: string,
    readonly expiresAtMs: number,
    readonly principal: string | null,
    readonly extensions: Readonly<Record<string, string>>,
  ) {
    this.#value = value
  }

  /** The token itself; a method, not a getter, so that no inspection of the object calls it. */
  value(): string {
    return this.#value
  }
}

/** Why `raw` is not a usable token at `nowMs`, as a fixed text (never the token), or the token. */
export function checkToken(raw: unknown, nowMs: number): BearerToken | string {
  if (typeof raw !== 'object' || raw === null) return 'expected an object { token, expiresAtMs }'
  const t = raw as Partial<Record<keyof OAuthBearerToken, unknown>>
  if (typeof t.token !== 'string' || t.token.length === 0) return 'token must be a non-empty string'
  if (t.token.length > MAX_TOKEN_LENGTH) return `token is longer than ${MAX_TOKEN_LENGTH} characters`
  if (!B64TOKEN.test(t.token)) return 'token has characters outside the bearer token set of RFC 6750 §2.1'
  if (typeof t.expiresAtMs !== 'number' || !Number.isFinite(t.expiresAtMs)) {
    return 'expiresAtMs must be a finite number (ms since the epoch)'
  }
  if (t.expiresAtMs <= nowMs) {
    // confluent-kafka-python's oauth_cb returns the expiry in seconds: say so when it looks like that.
    const hint =
      t.expiresAtMs > 0 && t.expiresAtMs < 1e11 ? ' (it looks like seconds; expiresAtMs is in ms)' : ''
    return `the token has expired already: expiresAtMs ${t.expiresAtMs} is not after now (${nowMs})${hint}`
  }
  if (t.principal !== undefined && typeof t.principal !== 'string') return 'principal must be a string'
  let extensions: Record<string, string> = {}
  if (t.extensions !== undefined) {
    if (typeof t.extensions !== 'object' || t.extensions === null || Array.isArray(t.extensions)) {
      return 'extensions must be an object of strings'
    }
    extensions = { ...(t.extensions as Record<string, string>) }
    const problem = extensionProblem(extensions)
    if (problem) return problem
  }
  return new BearerToken(t.token, t.expiresAtMs, t.principal ?? null, Object.freeze(extensions))
}

/**
 * The current token of one authenticator: cached until REFRESH_SHARE of its lifetime has passed, then
 * fetched again from the callback.
 */
export class OAuthTokenSource {
  readonly #callback: OAuthCallback
  readonly #config: string | null
  readonly #clock: Clock
  #cached: { token: BearerToken; refreshAtMs: number } | null = null
  #inflight: { promise: Promise<BearerToken>; startedAt: number } | null = null
  /** Callback calls so far (tests). */
  calls = 0

  constructor(callback: OAuthCallback, config: string | null, clock: Clock) {
    this.#callback = callback
    this.#config = config
    this.#clock = clock
  }

  /**
   * A token that has not expired: the cached one while it is fresh, else a new one from the callback.
   * If the callback fails while the cached token is still valid, that one is used and the next call
   * tries again (librdkafka also keeps the old token until it expires). Rejects with `_AUTHENTICATION`.
   */
  async current(): Promise<BearerToken> {
    const now = this.#clock.now()
    const cached = this.#cached
    if (cached && now < cached.refreshAtMs && now < cached.token.expiresAtMs) return cached.token
    let call = this.#inflight
    if (!call || now - call.startedAt >= STALE_CALL_MS) {
      call = { promise: this.#fetch(), startedAt: now }
      this.#inflight = call
    }
    try {
      return await call.promise
    } catch (err) {
      const still = this.#cached
      if (still && this.#clock.now() < still.token.expiresAtMs) return still.token
      throw err
    } finally {
      if (this.#inflight === call) this.#inflight = null
    }
  }

  async #fetch(): Promise<BearerToken> {
    this.calls++
    let raw: unknown
    try {
      raw = await this.#callback(this.#config)
    } catch (err) {
      const said = err instanceof Error ? err.message : String(err)
      const old = this.#cached ? [this.#cached.token.value()] : []
      throw new KafkaError(
        '_AUTHENTICATION',
        `the OAUTHBEARER token callback (oauth_cb) failed: ${quoteBroker(said, old)}`,
        { cause: err },
      )
    }
    const now = this.#clock.now()
    const checked = checkToken(raw, now)
    if (typeof checked === 'string') {
      throw new KafkaError(
        '_AUTHENTICATION',
        `the OAUTHBEARER token callback (oauth_cb) returned an invalid token: ${checked}`,
      )
    }
    this.#cached = { token: checked, refreshAtMs: now + REFRESH_SHARE * (checked.expiresAtMs - now) }
    return checked
  }
}
