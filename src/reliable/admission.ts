import { KafkaError } from '../errors/index.js'
import type { Producer } from '../producer/producer.js'
import type { DeliveryCallback, ProducerRecord } from '../producer/record.js'
import type { Clock, TimerHandle } from '../util/clock.js'

interface Waiter {
  readonly record: ProducerRecord
  readonly callback: DeliveryCallback
  readonly resolve: () => void
  readonly reject: (err: KafkaError) => void
  timer: TimerHandle | null
}

/**
 * Hands records to `producer.produce()` in call order, waiting up to max.block.ms for buffer space
 * when the producer's buffer is full: what Producer.send() does, but keeping produce()'s callback.
 * The dead-letter envelope needs the report of a failed record (its partition, its bytes as sent),
 * and send() rejects with the error alone. Waiters are served first come, first served, and a new
 * record waits behind them, so records keep the order of the calls (same key, same order).
 *
 * Space frees when records get their reports; every record of this producer is ours, so the
 * ReliableProducer calls wakeup() from each report, and no polling is needed.
 */
export class Admission {
  private readonly queue: Waiter[] = []
  private scheduled = false

  constructor(
    private readonly producer: Producer,
    private readonly clock: Clock,
    private readonly maxBlockMs: number,
  ) {}

  /** Records waiting for buffer space. */
  get waiting(): number {
    return this.queue.length
  }

  /**
   * Produces `record` now and returns null, or returns a promise that resolves once it was
   * produced. Throws (or rejects with) produce()'s error, and `_QUEUE_FULL` when no space came
   * within max.block.ms. Once admitted, `callback` is called exactly once.
   */
  admit(record: ProducerRecord, callback: DeliveryCallback): Promise<void> | null {
    if (this.queue.length === 0) {
      try {
        this.producer.produce(record, callback)
        return null
      } catch (err) {
        if (!(err instanceof KafkaError) || err.code !== '_QUEUE_FULL') throw err
      }
    }
    // The caller may reuse its buffers as soon as send() returns: wait with a copy.
    const copy = detached(record)
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { record: copy, callback, resolve, reject, timer: null }
      w.timer = this.clock.setTimeout(() => this.expire(w), this.maxBlockMs)
      this.queue.push(w)
    })
  }

  /** A record of the producer got its report, so space may be free: admit waiters, in order. */
  wakeup(): void {
    if (this.queue.length === 0 || this.scheduled) return
    this.scheduled = true
    // Not inside the delivery callback that freed the space: the producer is in the middle of
    // reporting a batch there, and the next record's produce() can wait for that to finish.
    queueMicrotask(() => {
      this.scheduled = false
      this.drain()
    })
  }

  /** Rejects every waiter with `err` (close()). */
  failAll(err: KafkaError): void {
    for (const w of this.queue.splice(0)) this.settle(w, err)
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const w = this.queue[0]!
      let error: KafkaError | null = null
      try {
        this.producer.produce(w.record, w.callback)
      } catch (err) {
        if (err instanceof KafkaError && err.code === '_QUEUE_FULL') return
        error = KafkaError.wrap(err)
      }
      this.queue.shift()
      this.settle(w, error)
    }
  }

  private expire(w: Waiter): void {
    const i = this.queue.indexOf(w)
    if (i < 0) return
    this.queue.splice(i, 1)
    w.timer = null
    this.settle(
      w,
      new KafkaError(
        '_QUEUE_FULL',
        `producer queue still full after max.block.ms=${this.maxBlockMs}: records are not being ` +
          'delivered as fast as they are sent (is the cluster reachable?)',
        { retriable: true },
      ),
    )
  }

  private settle(w: Waiter, err: KafkaError | null): void {
    if (w.timer) this.clock.clearTimeout(w.timer)
    w.timer = null
    if (err) w.reject(err)
    else w.resolve()
  }
}

/** A copy of the record's bytes: strings are immutable, Buffers and Uint8Arrays are not. */
function detached(record: ProducerRecord): ProducerRecord {
  const copy = (v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v)
  const out = { ...record, key: copy(record.key), value: copy(record.value) } as ProducerRecord
  if (Array.isArray(record.headers)) {
    out.headers = (record.headers as ReadonlyArray<readonly [string, unknown]>).map(
      ([k, v]) => [k, copy(v)] as [string, Buffer | string | null],
    )
  }
  return out
}
