/**
 * Time and timers, injected everywhere a deadline matters (accumulator linger, delivery timeouts,
 * backoff, request timeouts) so that those paths can be unit-tested with a manual clock instead of
 * real sleeps. Production code uses {@link systemClock}.
 */
export interface TimerHandle {
  /** Opaque; pass it back to {@link Clock.clearTimeout}. */
  readonly __timer?: never
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms))
    // Timers never keep the process alive on their own: a producer with work pending keeps its
    // sockets (or the user's flush promise) referenced instead.
    t.unref()
    return t as unknown as TimerHandle
  },
  clearTimeout(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout)
  },
}

/**
 * A clock that only moves when told to. Timers fire in deadline order (ties in creation order)
 * during {@link ManualClock.advance}.
 */
export class ManualClock implements Clock {
  private time: number
  private seq = 0
  private readonly timers = new Map<number, { at: number; fn: () => void; seq: number }>()

  constructor(start = 1_700_000_000_000) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn, seq: id })
    return { id } as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as unknown as { id: number }).id)
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms
    for (;;) {
      let next: { id: number; at: number; fn: () => void; seq: number } | undefined
      for (const [id, t] of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = { id, ...t }
        }
      }
      if (!next) break
      this.timers.delete(next.id)
      this.time = Math.max(this.time, next.at)
      next.fn()
    }
    this.time = target
  }

  get pendingTimers(): number {
    return this.timers.size
  }
}
