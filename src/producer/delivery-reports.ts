import { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import { toBuffer } from '../protocol/index.js'
import type { ProducerBatch } from './batch.js'
import type { WaitingRecord } from './metadata-wait.js'
import type { DeliveryCallback, DeliveryReport } from './record.js'
import type { BatchOutcome } from './sender.js'

/** Reports of records without headers share one empty, frozen list. */
const NO_HEADERS: DeliveryReport['headers'] = Object.freeze([])

/**
 * Turns outcomes into delivery reports: one report per record of a batch (offset = base offset +
 * index, key, value and headers read back from the batch's bytes), or the report of a record that
 * failed before it reached a batch. Calls the record's own callback, or else the global dr_cb (as in
 * confluent-kafka, a per-record callback takes precedence). A throwing callback cannot break the
 * producer: it is reported to error_cb as `_APPLICATION`.
 */
export class DeliveryReporter {
  constructor(
    private readonly drCb: DeliveryCallback | null,
    private readonly onError: (err: KafkaError) => void,
    /** Hears record.delivered / record.failed, one per record, whether or not it has a callback. */
    private readonly events: Instrumentation,
  ) {}

  /** Reports every record of `batch`; returns how many records that was. */
  batch(batch: ProducerBatch, outcome: BatchOutcome): number {
    const err = outcome.ok ? null : outcome.error
    const base = outcome.ok ? outcome.baseOffset : -1
    const appendTime = outcome.ok && outcome.logAppendTime >= 0 ? outcome.logAppendTime : -1
    const count = batch.count
    const drCb = this.drCb
    const events = this.events
    if (err === null ? events.has('record.delivered') : events.has('record.failed')) {
      for (let i = 0; i < count; i++) {
        if (err === null) {
          events.emit('record.delivered', {
            topic: batch.topic,
            partition: batch.partition,
            offset: base >= 0 ? base + i : -1,
          })
        } else events.emit('record.failed', { topic: batch.topic, partition: batch.partition, error: err })
      }
    }
    for (let i = 0; i < count; i++) {
      const cb = batch.callbackAt(i) ?? drCb ?? undefined
      if (!cb) continue
      this.deliver(cb, err, {
        topic: batch.topic,
        partition: batch.partition,
        offset: base >= 0 ? base + i : -1,
        timestamp: appendTime >= 0 ? appendTime : batch.timestampAt(i),
        key: batch.keyAt(i),
        value: batch.valueAt(i),
        headers: batch.headersAt(i) ?? NO_HEADERS,
      })
    }
    return count
  }

  /** Reports a record that failed while it waited for its topic's metadata. */
  waiting(w: WaitingRecord, err: KafkaError): void {
    const r = w.record
    if (this.events.has('record.failed')) {
      this.events.emit('record.failed', { topic: r.topic, partition: r.partition, error: err })
    }
    this.deliver(w.callback, err, {
      topic: r.topic,
      partition: r.partition,
      offset: -1,
      timestamp: r.timestamp,
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      headers: r.headers ?? NO_HEADERS,
    })
  }

  private deliver(cb: DeliveryCallback | undefined, err: KafkaError | null, report: DeliveryReport): void {
    const fn = cb ?? this.drCb
    if (!fn) return
    try {
      fn(err, report)
    } catch (e) {
      this.onError(
        new KafkaError('_APPLICATION', `a delivery callback threw: ${(e as Error)?.message ?? String(e)}`, {
          cause: e,
        }),
      )
    }
  }
}
