import { KafkaError } from '../errors/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { AuthenticationOutcome } from './connection-options.js'

// Re-authentication of a ready connection before its SASL session expires (KIP-368).
//
// A broker with connections.max.reauth.ms (or an OAUTHBEARER token that expires) tells the client,
// in SaslAuthenticate v1+'s session_lifetime_ms, how long the session lasts, and closes the
// connection at the first request after it has expired. The client therefore authenticates again on
// the same socket in time: it stops starting requests (they wait here, in order), sends SaslHandshake
// and SaslAuthenticate, and lets the held requests go when the broker has accepted. Requests already
// on the wire are not disturbed: a broker answers in order, so their answers come before the
// handshake's, and the connection matches answers by correlation id anyway.

/** The longest a timer can wait: Node fires a larger delay at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The earliest a re-authentication starts after the previous one. Java has no floor, but a broker
 * (hostile, or with a token about to expire) answering a lifetime of a few ms would otherwise keep the
 * connection re-authenticating in a loop. A session shorter than this ends before we re-authenticate,
 * and the broker closes the connection: an ordinary reconnect, paced by reconnect.backoff.ms.
 */
export const MIN_REAUTHENTICATION_DELAY_MS = 1000

/**
 * When to re-authenticate, in ms from now, for a session of `sessionLifetimeMs`; null when the
 * session does not expire. As Java's SaslClientAuthenticator (KIP-368): a random point between 85 %
 * and 95 % of the lifetime, the 85 % leaving room for network latency and clock drift, the random
 * 10 % spreading the re-authentications of many connections opened at once.
 */
export function reauthenticationDelayMs(sessionLifetimeMs: number, random: RandomSource): number | null {
  if (!Number.isFinite(sessionLifetimeMs) || sessionLifetimeMs <= 0) return null
  const share = 0.85 + 0.1 * Math.min(Math.max(random(), 0), 1)
  return Math.min(
    Math.max(Math.floor(sessionLifetimeMs * share), MIN_REAUTHENTICATION_DELAY_MS),
    MAX_TIMER_MS,
  )
}

export interface ReauthenticationOptions {
  readonly clock: Clock
  readonly random: RandomSource
  /** For messages: the broker's host:port. */
  readonly address: string
  /** Bound on one re-authentication, as on the first one (socket.connection.setup.timeout.ms). */
  readonly timeoutMs: number
  /** Runs the authentication step again on the ready connection; its own requests are not held. */
  readonly run: () => Promise<AuthenticationOutcome | void>
  /** Closes the connection with `err` (a failed or timed-out re-authentication). */
  readonly fail: (err: KafkaError) => void
}

interface Held {
  /** Sends the request now (the connection's send, which writes synchronously). */
  readonly start: () => void
  readonly reject: (err: KafkaError) => void
}

/**
 * The re-authentication schedule and hold of one connection. The connection calls `schedule` after
 * every successful authentication, routes its requests through `hold` while `holding`, and calls
 * `stop` when it closes (cancelling the timer and failing what is held).
 */
export class Reauthentication {
  private timer: TimerHandle | null = null
  private deadline: TimerHandle | null = null
  private running = false
  private stopped = false
  private held: Held[] = []

  constructor(private readonly opts: ReauthenticationOptions) {}

  /** Whether a re-authentication is in progress: new requests must go through {@link hold}. */
  get holding(): boolean {
    return this.running
  }

  /** Requests waiting for the re-authentication to finish. */
  get heldCount(): number {
    return this.held.length
  }

  /** After an authentication: plans the next one if the broker's session expires. */
  schedule(outcome: AuthenticationOutcome | void): void {
    if (this.stopped) return
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = null
    const delay = reauthenticationDelayMs(outcome?.sessionLifetimeMs ?? 0, this.opts.random)
    if (delay === null) return
    // The clock's timers do not keep the process alive (systemClock unrefs them).
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null
      void this.begin()
    }, delay)
  }

  /**
   * Keeps a request back until the re-authentication is over; `send` is called then, in the order
   * the requests came. Resolves or rejects as that send does, or rejects with the connection's close
   * error if the re-authentication fails.
   */
  hold<T>(send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.held.push({ start: () => void send().then(resolve, reject), reject })
    })
  }

  private async begin(): Promise<void> {
    if (this.stopped || this.running) return
    this.running = true
    const { clock, timeoutMs, address } = this.opts
    this.deadline = clock.setTimeout(() => {
      this.deadline = null
      this.opts.fail(
        new KafkaError('_TRANSPORT', `${address}: re-authentication timed out after ${timeoutMs} ms`, {
          retriable: true,
        }),
      )
    }, timeoutMs)
    let outcome: AuthenticationOutcome | void
    try {
      outcome = await this.opts.run()
    } catch (err) {
      // A failed re-authentication ends the connection (KIP-368: the broker would close it anyway when
      // the session expires); a new connection authenticates from scratch.
      if (!this.stopped) this.opts.fail(KafkaError.wrap(err, '_AUTHENTICATION'))
      return
    } finally {
      if (this.deadline) clock.clearTimeout(this.deadline)
      this.deadline = null
    }
    if (this.stopped) return
    this.running = false
    this.schedule(outcome)
    const held = this.held
    this.held = []
    // Each start writes its request synchronously, so they reach the socket in the order they came.
    for (const h of held) h.start()
  }

  /** The connection closed: no more re-authentication; held requests fail with `err`. */
  stop(err: KafkaError): void {
    this.stopped = true
    this.running = false
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    if (this.deadline) this.opts.clock.clearTimeout(this.deadline)
    this.timer = null
    this.deadline = null
    const held = this.held
    this.held = []
    for (const h of held) h.reject(err)
  }
}
