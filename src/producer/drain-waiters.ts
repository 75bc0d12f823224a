import type { Clock, TimerHandle } from '../util/clock.js'
import { onAbort } from './abort.js'

/**
 * flush()'s waits. Each ends at the first of: no record outstanding (drained()), its timeout, its
 * AbortSignal aborting. flush() then reads how many records are still outstanding; a wait never
 * rejects, as librdkafka's flush() returns the count instead of failing.
 */
export class DrainWaiters {
  private readonly waiters: (() => void)[] = []

  constructor(private readonly clock: Clock) {}

  /** Resolves when drained, after `timeoutMs` (Infinity: no bound) or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
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

  /** No record is outstanding any more: every wait ends. */
  drained(): void {
    for (const w of this.waiters.splice(0)) w()
  }
}
