import type { Metadata, TopicInfo } from '../cluster/metadata.js'
import { KafkaError } from '../errors/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { abortError, onAbort } from './abort.js'
import type { NormalizedRecord } from './normalize.js'
import type { DeliveryCallback } from './record.js'

/** A record accepted while its topic's metadata is not known yet. */
export interface WaitingRecord {
  /** The producer's own copy of the caller's bytes (see NormalizedRecord.detached). */
  readonly record: NormalizedRecord
  /** Bytes counted against buffer.memory for it. */
  readonly bytes: number
  readonly callback: DeliveryCallback | undefined
  readonly acceptedAt: number
}

export interface MetadataWaitOptions {
  clock: Clock
  metadata: Pick<Metadata, 'topic' | 'topicError' | 'addTopic'>
  deliveryTimeoutMs: number
  topicMetadataPropagationMaxMs: number
  /** The partition for a record of a topic now known; throws a KafkaError for a bad one. */
  choosePartition: (w: WaitingRecord, info: TopicInfo) => number
  /** Hands a record whose topic is now known to the accumulator. */
  append: (w: WaitingRecord, partition: number) => void
  /** Reports a record that will not be sent (exactly once). */
  fail: (w: WaitingRecord, err: KafkaError) => void
}

/**
 * Records waiting for their topic's metadata (Java blocks send() in waitOnMetadata instead; we
 * accept the record and queue it here, so produce() never blocks). Every wait is bounded: a topic
 * the cluster says does not exist fails after topic.metadata.propagation.max.ms with
 * `_UNKNOWN_TOPIC` (it may just have been created), a topic error that waiting cannot cure fails at
 * once, and without any answer from the cluster a record waits until its delivery.timeout.ms.
 */
export class MetadataWaitQueue {
  private readonly waiting = new Map<string, WaitingRecord[]>()
  private timer: TimerHandle | null = null

  constructor(private readonly opts: MetadataWaitOptions) {}

  get size(): number {
    return this.waiting.size
  }

  /** Records and their bytes waiting for `topic` (statistics' partition -1, librdkafka's UA). */
  waitingFor(topic: string): { count: number; bytes: number } {
    const list = this.waiting.get(topic)
    let bytes = 0
    if (list) for (const w of list) bytes += w.bytes
    return { count: list?.length ?? 0, bytes }
  }

  /** Topics with records waiting. */
  get topics(): Iterable<string> {
    return this.waiting.keys()
  }

  /** Whether records wait for `topic`. */
  has(topic: string): boolean {
    return this.waiting.has(topic)
  }

  add(w: WaitingRecord): void {
    const topic = w.record.topic
    let list = this.waiting.get(topic)
    if (!list) this.waiting.set(topic, (list = []))
    list.push(w)
    this.opts.metadata.addTopic(topic)
    // Deadlines only grow with acceptance time, so a timer already armed is early enough.
    if (!this.timer) this.arm()
  }

  /** Metadata changed: records waiting for their topic go on, or fail when the wait is over. */
  onMetadata(): void {
    if (this.waiting.size === 0) return
    const now = this.opts.clock.now()
    for (const [topic, list] of this.waiting) {
      const info = this.opts.metadata.topic(topic)
      if (info) {
        this.waiting.delete(topic)
        for (const w of list) {
          let p: number
          try {
            p = this.opts.choosePartition(w, info)
          } catch (err) {
            this.opts.fail(w, KafkaError.wrap(err, '_APPLICATION'))
            continue
          }
          this.opts.append(w, p)
        }
        continue
      }
      const err = this.opts.metadata.topicError(topic)
      if (err && !err.retriable) {
        // TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION, …: waiting will not help.
        this.waiting.delete(topic)
        for (const w of list) this.opts.fail(w, err)
        continue
      }
      this.expire(topic, list, now, err)
    }
    this.arm()
  }

  /**
   * Takes out the record of `topic` whose callback is `callback`, if it is still waiting (send()
   * aborted); the caller reports it. Undefined when it has left (in a batch, or failed).
   */
  remove(topic: string, callback: DeliveryCallback): WaitingRecord | undefined {
    const list = this.waiting.get(topic)
    const i = list ? list.findIndex((w) => w.callback === callback) : -1
    if (i < 0) return undefined
    const [w] = list!.splice(i, 1)
    if (list!.length === 0) this.waiting.delete(topic)
    return w
  }

  /**
   * The callback of a send() whose record waits for its topic's metadata: until the record leaves
   * this queue, `signal` aborting takes it out and fails it with `_ABORTED` (it is never written).
   * In a batch it is beyond recall, and the promise settles with its delivery outcome.
   */
  abortable(topic: string, callback: DeliveryCallback, signal: AbortSignal): DeliveryCallback {
    const wrapped: DeliveryCallback = (err, report) => {
      unwatch()
      callback(err, report)
    }
    const unwatch = onAbort(signal, () => {
      const w = this.remove(topic, wrapped)
      if (w) {
        this.opts.fail(
          w,
          abortError(
            signal,
            `send() was aborted by its AbortSignal while the record waited for metadata of ${topic}`,
          ),
        )
      }
    })
    return wrapped
  }

  /** Fails every waiting record with `err` (close, fatal error, purge); returns how many. */
  failAll(err: KafkaError): number {
    const lists = [...this.waiting.values()]
    this.waiting.clear()
    let n = 0
    for (const list of lists) {
      for (const w of list) this.opts.fail(w, err)
      n += list.length
    }
    return n
  }

  close(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = null
  }

  private expire(topic: string, list: WaitingRecord[], now: number, err: KafkaError | undefined): void {
    const { topicMetadataPropagationMaxMs: propagation, deliveryTimeoutMs } = this.opts
    const keep: WaitingRecord[] = []
    for (const w of list) {
      if (err && now >= w.acceptedAt + propagation) {
        this.opts.fail(
          w,
          new KafkaError(
            '_UNKNOWN_TOPIC',
            `topic ${topic} does not exist (still unknown after topic.metadata.propagation.max.ms=` +
              `${propagation}): ${err.message}`,
            { kafkaCode: err.kafkaCode, cause: err },
          ),
        )
      } else if (now >= w.acceptedAt + deliveryTimeoutMs) {
        this.opts.fail(
          w,
          new KafkaError(
            '_MSG_TIMED_OUT',
            `record for ${topic} not delivered within delivery.timeout.ms=${deliveryTimeoutMs}: ` +
              `no metadata for the topic` +
              (err ? ` (${err.message})` : ' (no broker answered)'),
            err ? { cause: err } : {},
          ),
        )
      } else keep.push(w)
    }
    if (keep.length === 0) this.waiting.delete(topic)
    else this.waiting.set(topic, keep)
  }

  private arm(): void {
    const clock = this.opts.clock
    if (this.timer) clock.clearTimeout(this.timer)
    this.timer = null
    let next = Infinity
    for (const list of this.waiting.values()) {
      for (const w of list) {
        next = Math.min(
          next,
          w.acceptedAt + this.opts.topicMetadataPropagationMaxMs,
          w.acceptedAt + this.opts.deliveryTimeoutMs,
        )
      }
    }
    if (next === Infinity) return
    this.timer = clock.setTimeout(
      () => {
        this.timer = null
        const now = clock.now()
        for (const [topic, list] of this.waiting)
          this.expire(topic, list, now, this.opts.metadata.topicError(topic))
        this.arm()
      },
      Math.max(0, next - clock.now()),
    )
  }
}
