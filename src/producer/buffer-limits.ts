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
  /** When it started waiting (bufferpool-wait-time). */
  since: number
}

/** Hears how long send() calls wait and when the buffer is exhausted (the producer's metrics). */
export interface BufferObserver {
  /** A send() call waited `ms` for space: it got it, timed out or was aborted (Java's bufferpool-wait-time). */
  waited(ms: number): void
  /** A record was refused or failed because the buffer stayed full (Java's buffer-exhausted-records). */
  exhausted(): void
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
  /** One-shot listeners of {@link onceSpace}, called when space may have become free. */
  private spaceListeners: (() => void)[] = []
  /** Set by the producer's metrics (src/producer/metrics-binding.ts); null when they are off. */
  observer: BufferObserver | null = null

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
      const w: Waiter = {
        bytes,
        resolve,
        reject,
        timer: null,
        unwatch: NOTHING_TO_UNWATCH,
        since: this.clock.now(),
      }
      const leave = (): void => {
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
      }
      if (signal) {
        w.unwatch = onAbort(signal, () => {
          leave()
          if (w.timer) this.clock.clearTimeout(w.timer)
          this.observer?.waited(this.clock.now() - w.since)
          reject(aborted(signal, bytes))
          this.grant()
          this.spaceMayBeFree()
        })
      }
      w.timer = this.clock.setTimeout(() => {
        leave()
        w.unwatch()
        this.observer?.waited(this.clock.now() - w.since)
        this.observer?.exhausted()
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
        this.spaceMayBeFree()
      }, timeoutMs)
      this.waiters.push(w)
    })
  }

  release(bytes: number, count: number): void {
    this.usedBytes -= bytes
    this.usedCount -= count
    if (this.waiters.length > 0) this.grant()
    this.spaceMayBeFree()
  }

  /**
   * Calls `listener` once, the next time space is released or a waiter leaves the line (either may
   * let {@link tryAcquire} succeed again); returns a function that cancels it. For callers that
   * retry tryAcquire instead of waiting in line (the write stream, src/producer/write-stream.ts).
   * The listener runs synchronously inside release(), in the middle of a delivery: it must only
   * schedule its retry (queueMicrotask), never call the producer.
   */
  onceSpace(listener: () => void): () => void {
    this.spaceListeners.push(listener)
    return () => {
      const i = this.spaceListeners.indexOf(listener)
      if (i >= 0) this.spaceListeners.splice(i, 1)
    }
  }

  private spaceMayBeFree(): void {
    if (this.spaceListeners.length === 0) return
    const listeners = this.spaceListeners
    this.spaceListeners = []
    for (const l of listeners) l()
  }

  /** produce() refused a record with `_QUEUE_FULL`: it counts as buffer-exhausted. */
  refused(): void {
    this.observer?.exhausted()
  }

  /** Fails every waiter (close, fatal error). */
  rejectWaiters(err: KafkaError): void {
    for (const w of this.waiters.splice(0)) {
      if (w.timer) this.clock.clearTimeout(w.timer)
      w.unwatch()
      w.reject(err)
    }
    // Whoever retries tryAcquire now learns of the close or fatal error from its next call.
    this.spaceMayBeFree()
  }

  private grant(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!
      if (w.timer) this.clock.clearTimeout(w.timer)
      w.unwatch()
      this.usedBytes += w.bytes
      this.usedCount++
      this.observer?.waited(this.clock.now() - w.since)
      w.resolve()
    }
  }
}

function aborted(signal: AbortSignal, bytes: number): KafkaError {
  return abortError(signal, `aborted by its AbortSignal while waiting for buffer space (${bytes} bytes)`)
}
