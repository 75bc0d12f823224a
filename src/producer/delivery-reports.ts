import { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import { toBuffer } from '../protocol/index.js'
import type { ProducerBatch } from './batch.js'
import { BatchReport, NO_HEADERS } from './batch-report.js'
import type { WaitingRecord } from './metadata-wait.js'
import type { DeliveryCallback, DeliveryReport } from './record.js'
import type { BatchOutcome } from './sender.js'

/**
 * Turns outcomes into delivery reports: one report per record of a batch (offset = base offset +
 * index; key, value and headers read back from the batch's bytes only if the callback reads them,
 * see {@link BatchReport}), or the report of a record that failed before it reached a batch. Calls
 * the record's own callback, or else the global dr_cb (as in confluent-kafka, a per-record callback
 * takes precedence). A throwing callback cannot break the producer: it is reported to error_cb as
 * `_APPLICATION`.
 */
export class DeliveryReporter {
  constructor(
    private readonly drCb: DeliveryCallback | null,
    private readonly onError: (err: KafkaError) => void,
    /** Hears record.delivered / record.failed, one per record, whether or not it has a callback. */
    private readonly events: Instrumentation,
  ) {}

  /**
   * Reports every record of `batch`; returns how many records that was. After a delivery, once the
   * callbacks have returned, a large batch's buffer goes back to the pool unless a report's key or
   * value was read or kept (ProducerBatch.recycle): reports are valid for that during the callback.
   */
  batch(batch: ProducerBatch, outcome: BatchOutcome): number {
    const count = this.reportBatch(batch, outcome)
    if (outcome.ok) batch.recycle()
    return count
  }

  private reportBatch(batch: ProducerBatch, outcome: BatchOutcome): number {
    const err = outcome.ok ? null : outcome.error
    const base = outcome.ok ? outcome.baseOffset : -1
    const appendTime = outcome.ok && outcome.logAppendTime >= 0 ? outcome.logAppendTime : -1
    const count = batch.count
    const { topic, partition } = batch
    const events = this.events
    if (err === null ? events.has('record.delivered') : events.has('record.failed')) {
      for (let i = 0; i < count; i++) {
        if (err === null) {
          events.emit('record.delivered', { topic, partition, offset: base >= 0 ? base + i : -1 })
        } else events.emit('record.failed', { topic, partition, error: err })
      }
    }
    const drCb = this.drCb
    // Nobody to call: no global callback and no record with its own (counting producers, streams
    // that only await flush) — skip the walk over the records.
    if (!drCb && !batch.hasCallbacks) return count
    for (let i = 0; i < count; i++) {
      // The record's own callback wins over the global one, as in confluent-kafka.
      const fn = batch.callbackAt(i) ?? drCb
      if (!fn) continue
      const ts = appendTime >= 0 ? appendTime : batch.timestampAt(i)
      this.call(fn, err, new BatchReport(batch, i, topic, partition, base >= 0 ? base + i : -1, ts))
    }
    return count
  }

  /** Reports a record that failed while it waited for its topic's metadata. */
  waiting(w: WaitingRecord, err: KafkaError): void {
    const r = w.record
    if (this.events.has('record.failed')) {
      this.events.emit('record.failed', { topic: r.topic, partition: r.partition, error: err })
    }
    const fn = w.callback ?? this.drCb
    if (!fn) return
    this.call(fn, err, {
      topic: r.topic,
      partition: r.partition,
      offset: -1,
      timestamp: r.timestamp,
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      headers: r.headers ?? NO_HEADERS,
    })
  }

  /** Calls one callback; a throw goes to error_cb as _APPLICATION, never into the producer. */
  private call(fn: DeliveryCallback, err: KafkaError | null, report: DeliveryReport): void {
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
