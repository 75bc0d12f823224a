import type { Clock, TimerHandle } from '../util/clock.js'
import { onAbort } from './abort.js'

/**
 * The records a producer accepted and has not reported yet (librdkafka's outq_len), and what hangs
 * on that count: flush()'s waits, which end when it reaches 0, and Node's keep-alive. Sockets are
 * unref'd, so a referenced handle keeps the process alive while a record is undelivered or
 * `alsoHold()` says so (a transactional call running), and lets it exit otherwise.
 */
export class OutstandingRecords {
  private n = 0
  private readonly waiters: (() => void)[] = []
  private keepAlive: NodeJS.Timeout | null = null

  constructor(
    private readonly clock: Clock,
    private readonly alsoHold: () => boolean,
  ) {}

  get count(): number {
    return this.n
  }

  /** One record accepted: it will be reported once, through done(). */
  accepted(): void {
    if (++this.n === 1) this.holdUpdate()
  }

  /** `k` records reported. */
  done(k: number): void {
    this.n -= k
    if (this.n === 0) {
      this.holdUpdate()
      for (const w of this.waiters.splice(0)) w()
    }
  }

  /**
   * flush()'s wait: resolves at the first of no record outstanding, `timeoutMs` (Infinity: no
   * bound) and `signal` aborting. It never rejects: flush() reads how many are left, as
   * librdkafka's returns the count instead of failing.
   */
  drained(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | null = null
      let unwatch: (() => void) | null = null
      const done = (): void => {
        if (timer) this.clock.clearTimeout(timer)
        unwatch?.()
        const i = this.waiters.indexOf(done)
        if (i >= 0) this.waiters.splice(i, 1)
        resolve()
      }
      this.waiters.push(done)
      if (Number.isFinite(timeoutMs)) timer = this.clock.setTimeout(done, Math.max(0, timeoutMs))
      if (signal) unwatch = onAbort(signal, done)
    })
  }

  /** Holds Node alive while something is outstanding or `alsoHold()`; lets go otherwise. */
  holdUpdate(): void {
    this.hold(this.n > 0 || this.alsoHold())
  }

  /** close() is done: nothing holds Node any more. */
  release(): void {
    this.hold(false)
  }

  private hold(on: boolean): void {
    if (on && !this.keepAlive) this.keepAlive = setInterval(() => {}, 1 << 30)
    else if (!on && this.keepAlive) {
      clearInterval(this.keepAlive)
      this.keepAlive = null
    }
  }
}
