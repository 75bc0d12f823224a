import { KafkaError } from '../errors/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { abortError, onAbort } from './abort.js'

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (e: KafkaError) => void
  timer: TimerHandle | null
  /** Stops watching the caller's AbortSignal (a no-op without one). */
  unwatch: () => void
}

const NOTHING_TO_UNWATCH = (): void => {}

/**
 * Admission control for records not yet delivered, by bytes (buffer.memory) and by count
 * (queue.buffering.max.messages). produce() asks with {@link tryAcquire} and fails fast with
 * `_QUEUE_FULL`; send() waits in FIFO order up to max.block.ms (Java's BufferPool is fair the same
 * way: a record waiting longer is served first, and fast-path callers do not overtake waiters).
 */
export class BufferLimits {
  private usedBytes = 0
  private usedCount = 0
  private readonly waiters: Waiter[] = []

  private readonly maxCount: number

  /** `maxCount` 0 means no count limit (queue.buffering.max.messages=0, as Java has none). */
  constructor(
    private readonly maxBytes: number,
    maxCount: number,
    private readonly clock: Clock,
  ) {
    this.maxCount = maxCount > 0 ? maxCount : Infinity
  }

  get bytes(): number {
    return this.usedBytes
  }

  get count(): number {
    return this.usedCount
  }

  get availableBytes(): number {
    return Math.max(0, this.maxBytes - this.usedBytes)
  }

  get waiting(): number {
    return this.waiters.length
  }

  private fits(bytes: number): boolean {
    // A record larger than the whole buffer is admitted alone when the buffer is empty, otherwise
    // it could never be sent (message.max.bytes already bounds a single record).
    return (this.usedBytes + bytes <= this.maxBytes || this.usedBytes === 0) && this.usedCount < this.maxCount
  }

  /** Takes space now if there is some and nobody is queued ahead; false otherwise. */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(bytes)) return false
    this.usedBytes += bytes
    this.usedCount++
    return true
  }

  /**
   * Waits in line for space, up to `timeoutMs`; rejects with `_QUEUE_FULL` when the time is up, and
   * with `_ABORTED` when `signal` aborts first (having taken nothing).
   */
  acquire(bytes: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted(signal, bytes))
    if (this.tryAcquire(bytes)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { bytes, resolve, reject, timer: null, unwatch: NOTHING_TO_UNWATCH }
      const leave = (): void => {
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
      }
      if (signal) {
        w.unwatch = onAbort(signal, () => {
          leave()
          if (w.timer) this.clock.clearTimeout(w.timer)
          reject(aborted(signal, bytes))
          this.grant()
        })
      }
      w.timer = this.clock.setTimeout(() => {
        leave()
        w.unwatch()
        reject(
          new KafkaError(
            '_QUEUE_FULL',
            `no buffer space for ${bytes} bytes within max.block.ms=${timeoutMs} ` +
              `(${this.usedCount} records / ${this.usedBytes} bytes waiting for delivery)`,
            { retriable: true },
          ),
        )
        // The head may have been the one blocking smaller requests behind it.
        this.grant()
      }, timeoutMs)
      this.waiters.push(w)
    })
  }

  release(bytes: number, count: number): void {
    this.usedBytes -= bytes
    this.usedCount -= count
    if (this.waiters.length > 0) this.grant()
  }

  /** Fails every waiter (close, fatal error). */
  rejectWaiters(err: KafkaError): void {
    for (const w of this.waiters.splice(0)) {
      if (w.timer) this.clock.clearTimeout(w.timer)
      w.unwatch()
      w.reject(err)
    }
  }

  private grant(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!
      if (w.timer) this.clock.clearTimeout(w.timer)
      w.unwatch()
      this.usedBytes += w.bytes
      this.usedCount++
      w.resolve()
    }
  }
}

function aborted(signal: AbortSignal, bytes: number): KafkaError {
  return abortError(signal, `aborted by its AbortSignal while waiting for buffer space (${bytes} bytes)`)
}
