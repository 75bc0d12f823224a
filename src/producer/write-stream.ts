// producer.createWriteStream(): a Writable in object mode whose backpressure follows the producer's
// buffer limits (docs/producer.md, Streams). The stream writes into a RecordSink, which the Producer
// builds from itself; a layer above the producer (the ReliableProducer of src/reliable/) can hand in
// its own through createRecordWritable.
import { Writable } from 'node:stream'
import { KafkaError } from '../errors/index.js'
import { validateTopic } from './normalize.js'
import type { FlushOptions } from './options.js'
import type { DeliveryCallback, DeliveryReport, ProducerRecord, RecordData, RecordHeaders } from './record.js'

/**
 * A record written to a write stream: a {@link ProducerRecord} whose `topic` may be left out (the
 * stream's `topic` is used). Fields left out take the stream's defaults (`key`, `partition`,
 * `headers`); a field set here, `null` included, wins over the default.
 */
export interface WriteStreamRecord {
  /** Default: the stream's `topic`. */
  topic?: string
  /** Default: the stream's `key`, else none. */
  key?: RecordData | null
  /** Required; `null` writes a tombstone. */
  value: RecordData | null
  /** Default: the stream's `headers` (replaced, not merged, when set here). */
  headers?: RecordHeaders
  /** Event time in ms since the epoch; defaults to the time the producer accepts the record. */
  timestamp?: number
  /** Default: the stream's `partition`, else the partitioner decides. */
  partition?: number
}

/**
 * What a write stream takes without a `toRecord` mapper: a record object ({@link WriteStreamRecord}),
 * or a value alone (a string, Buffer or Uint8Array), which becomes `{ value }` with the stream's
 * defaults. Anything else fails the stream with `_INVALID_ARG`. (A stream in object mode cannot be
 * written `null`: write a tombstone as `{ key, value: null }`.)
 */
export type WriteStreamChunk = WriteStreamRecord | RecordData

/** What {@link WriteStreamOptions.onDeliveryError} decides for a record whose delivery failed. */
export type DeliveryErrorAction = 'fail' | 'ignore'

/** The options of `producer.createWriteStream()`. `T` is the type of the chunks written. */
export interface WriteStreamOptions<T = WriteStreamChunk> {
  /** The topic of every record that does not name its own. Checked at once (`INVALID_TOPIC_EXCEPTION`). */
  topic: string
  /** Default key of records that set none (their `key` left out). */
  key?: RecordData | null
  /** Default partition of records that set none. */
  partition?: number
  /** Default headers of records that set none. */
  headers?: RecordHeaders
  /**
   * Maps each chunk to its record (e.g. serialises an object to JSON). Its result is completed with
   * the defaults above. A mapper that throws fails the stream: with its error if that is a
   * KafkaError, else with `_INVALID_ARG` carrying it as `cause`.
   */
  toRecord?: (chunk: T) => WriteStreamRecord
  /**
   * Called for each record whose delivery failed, instead of failing the stream: return `'ignore'` to
   * go on, `'fail'` to fail the stream with the delivery error (what happens without this option). It
   * may return a promise (e.g. the record is being written to a dead-letter topic): the record counts
   * as pending until it settles, so the stream finishes only after it; a rejection (or a throw) fails
   * the stream with that error. Called for every failed record, also after the stream ended or was
   * destroyed.
   */
  onDeliveryError?: (
    err: KafkaError,
    report: DeliveryReport,
  ) => DeliveryErrorAction | Promise<DeliveryErrorAction>
  /**
   * Hears the delivery report of every record the stream handed to the producer, exactly once each,
   * also those that arrive after the stream failed or was destroyed. An exception it throws goes to
   * error_cb (`_APPLICATION`), as one from a produce() callback.
   */
  onDelivery?: DeliveryCallback
  /**
   * Records the stream buffers before `write()` returns false (Writable's highWaterMark, in records):
   * writes wait there while the producer's buffer is full, and during the one event-loop turn the
   * stream takes every 1,000 records. Default 16, Node's default in object mode. docs/producer.md,
   * Streams, has the whole rule.
   */
  highWaterMark?: number
}

/**
 * What a record stream writes into: the {@link Producer} (producer.createWriteStream builds one from
 * itself), or a layer above it with its own way of handling a record. Internal: not exported from
 * the package (src/index.ts); the ReliableProducer (src/reliable/) may use it.
 */
export interface RecordSink {
  /**
   * Accepts the record and calls `callback` exactly once with its final outcome, or throws. A
   * `_QUEUE_FULL` KafkaError means "no room now": the stream holds the record and calls produce again
   * after {@link onceSpace} fires. Any other error fails the stream (the record was not accepted).
   */
  produce(record: ProducerRecord, callback: DeliveryCallback): void
  /**
   * Sends what is queued without waiting for linger.ms, until `signal` aborts (the stream aborts it
   * once its own records have their outcomes); the result is not used. Called by the stream's final.
   */
  flush(options: FlushOptions & { signal: AbortSignal }): Promise<unknown>
  /**
   * Calls `listener` once, soon after room may have been made (produce may succeed again); returns a
   * function that cancels it. May call it synchronously from inside the sink: the stream only
   * schedules its retry from it.
   */
  onceSpace(listener: () => void): () => void
}

/**
 * Records accepted in a row before the stream lets the event loop turn once (setImmediate before
 * the write callback): a source that never waits (a generator, an in-memory array) would otherwise
 * keep the sender from writing and reading sockets until the buffer is full, so every record would
 * wait behind a full buffer.memory. The W1 bench loop yields as often.
 */
const YIELD_EVERY = 1000

/** A write whose record the sink refused with `_QUEUE_FULL`: retried when space is freed. */
interface HeldWrite {
  record: ProducerRecord
  callback: (err?: Error | null) => void
}

/**
 * The Writable that `producer.createWriteStream()` returns (object mode). Besides the Writable API it
 * counts its records: {@link accepted} by the producer, {@link delivered}, {@link failed}, and
 * {@link pending} (accepted, outcome not known yet).
 */
export class ProducerWriteStream<T = WriteStreamChunk> extends Writable {
  private readonly sink: RecordSink
  private readonly topic: string
  private readonly defaults: {
    key: RecordData | null | undefined
    partition: number | undefined
    headers: RecordHeaders | undefined
  }
  private readonly toRecord: ((chunk: T) => WriteStreamRecord) | undefined
  private readonly onDeliveryError: WriteStreamOptions<T>['onDeliveryError']
  private readonly onDelivery: DeliveryCallback | undefined
  private acceptedCount = 0
  /** Records accepted since the stream last let the event loop turn ({@link YIELD_EVERY}). */
  private sinceYield = 0
  private deliveredCount = 0
  private failedCount = 0
  /** Records whose outcome is final (a report, and onDeliveryError's promise settled if any). */
  private settledCount = 0
  private held: HeldWrite | null = null
  private cancelSpace: (() => void) | null = null
  private finalCallback: ((err?: Error | null) => void) | null = null
  private stopFlush: AbortController | null = null
  private failure: KafkaError | null = null

  /** Use producer.createWriteStream() (or createRecordWritable for another sink). */
  constructor(sink: RecordSink, options: WriteStreamOptions<T>) {
    if (options === null || typeof options !== 'object') {
      throw new KafkaError(
        '_INVALID_ARG',
        'createWriteStream() takes an options object with at least { topic }',
      )
    }
    for (const f of ['toRecord', 'onDeliveryError', 'onDelivery'] as const) {
      if (options[f] !== undefined && typeof options[f] !== 'function') {
        throw new KafkaError('_INVALID_ARG', `createWriteStream(): ${f} must be a function`)
      }
    }
    const hwm = options.highWaterMark
    if (hwm !== undefined && (typeof hwm !== 'number' || !Number.isInteger(hwm) || hwm < 1)) {
      throw new KafkaError(
        '_INVALID_ARG',
        `createWriteStream(): highWaterMark must be an integer >= 1, not ${String(hwm)}`,
      )
    }
    super({ objectMode: true, ...(hwm !== undefined ? { highWaterMark: hwm } : {}) })
    this.sink = sink
    this.topic = validateTopic(options.topic)
    this.defaults = { key: options.key, partition: options.partition, headers: options.headers }
    this.toRecord = options.toRecord
    this.onDeliveryError = options.onDeliveryError
    this.onDelivery = options.onDelivery
  }

  /** Records the producer accepted from this stream. */
  get accepted(): number {
    return this.acceptedCount
  }

  /** Records reported delivered. */
  get delivered(): number {
    return this.deliveredCount
  }

  /** Records reported failed (whatever onDeliveryError decided). */
  get failed(): number {
    return this.failedCount
  }

  /** Records accepted whose outcome is not final yet (no report, or onDeliveryError still running). */
  get pending(): number {
    return this.acceptedCount - this.settledCount
  }

  override _write(chunk: T, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    let record: ProducerRecord
    try {
      record = this.recordOf(chunk)
    } catch (e) {
      callback(KafkaError.wrap(e, '_INVALID_ARG'))
      return
    }
    this.tryProduce(record, callback)
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.pending === 0) {
      callback()
      return
    }
    this.finalCallback = callback
    const stop = new AbortController()
    this.stopFlush = stop
    // The flush only makes the producer send at once; the stream ends when its own records are done.
    this.sink.flush({ signal: stop.signal }).catch(() => undefined)
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.cancelSpace?.()
    this.cancelSpace = null
    const held = this.held
    this.held = null
    this.stopFlush?.abort()
    this.stopFlush = null
    this.finalCallback = null
    // The record waiting for room was never accepted: its write fails, as the buffered ones do.
    held?.callback(
      err ??
        new KafkaError('_DESTROY', 'the write stream was destroyed before the producer accepted the record'),
    )
    callback(err)
  }

  /** The record of a chunk: mapped, checked for shape, completed with the stream's defaults. */
  private recordOf(chunk: T): ProducerRecord {
    const c: unknown = this.toRecord ? this.toRecord(chunk) : chunk
    const d = this.defaults
    if (typeof c === 'string' || c instanceof Uint8Array) {
      return { topic: this.topic, key: d.key, value: c, headers: d.headers, partition: d.partition }
    }
    if (c === null || typeof c !== 'object' || Array.isArray(c)) {
      throw new KafkaError(
        '_INVALID_ARG',
        `${this.toRecord ? 'toRecord() must return' : 'a write stream takes'} a record object { value, key?, headers?, partition?, ` +
          `timestamp?, topic? } or a string, Buffer or Uint8Array value${this.toRecord ? '' : ' (or pass toRecord)'}, ` +
          `not ${describe(c)}`,
      )
    }
    const r = c as WriteStreamRecord
    if (r.value === undefined) {
      throw new KafkaError(
        '_INVALID_ARG',
        'a record written to the stream has no value (pass null for a tombstone)',
      )
    }
    return {
      topic: r.topic === undefined ? this.topic : r.topic,
      key: r.key === undefined ? d.key : r.key,
      value: r.value,
      headers: r.headers === undefined ? d.headers : r.headers,
      timestamp: r.timestamp,
      partition: r.partition === undefined ? d.partition : r.partition,
    }
  }

  private tryProduce(record: ProducerRecord, callback: (err?: Error | null) => void): void {
    try {
      this.sink.produce(record, this.onReport)
    } catch (e) {
      if (e instanceof KafkaError && e.code === '_QUEUE_FULL') {
        // Hold the write (so the stream buffers, then write() returns false) until room is made.
        this.held = { record, callback }
        this.cancelSpace = this.sink.onceSpace(this.onSpace)
        return
      }
      callback(KafkaError.wrap(e))
      return
    }
    this.acceptedCount++
    if (++this.sinceYield < YIELD_EVERY) callback()
    else {
      this.sinceYield = 0
      setImmediate(callback)
    }
  }

  /** The sink made room: retry the held write once the sink's own work is done. */
  private readonly onSpace = (): void => {
    this.cancelSpace = null
    queueMicrotask(this.retryHeld)
  }

  private readonly retryHeld = (): void => {
    const held = this.held
    if (!held || this.destroyed) return
    this.held = null
    this.tryProduce(held.record, held.callback)
  }

  /** Every accepted record's one report (shared, so accepting a record allocates no closure). */
  private readonly onReport: DeliveryCallback = (err, report) => {
    if (err === null) {
      this.deliveredCount++
      this.settle()
    } else {
      this.failedCount++
      this.deliveryFailed(err, report)
    }
    // Last, so that a throw (reported to error_cb by the producer) cannot skip the bookkeeping.
    this.onDelivery?.(err, report)
  }

  private deliveryFailed(err: KafkaError, report: DeliveryReport): void {
    const hook = this.onDeliveryError
    if (!hook) {
      this.fail(err)
      this.settle()
      return
    }
    let action: DeliveryErrorAction | Promise<DeliveryErrorAction>
    try {
      action = hook(err, report)
    } catch (e) {
      this.fail(KafkaError.wrap(e))
      this.settle()
      return
    }
    if (typeof (action as Promise<DeliveryErrorAction> | null)?.then === 'function') {
      ;(action as Promise<DeliveryErrorAction>).then(
        (a) => this.decided(a, err),
        (e: unknown) => this.decided(null, KafkaError.wrap(e)),
      )
      return
    }
    this.decided(action as DeliveryErrorAction, err)
  }

  /** onDeliveryError's answer for a failed record (null: it threw `err`); the record is settled. */
  private decided(action: DeliveryErrorAction | null, err: KafkaError): void {
    if (action === 'fail' || action === null) this.fail(err)
    else if (action !== 'ignore') {
      this.fail(
        new KafkaError(
          '_INVALID_ARG',
          `onDeliveryError must return 'fail' or 'ignore', not ${describe(action)}`,
          {
            cause: err,
          },
        ),
      )
    }
    this.settle()
  }

  private settle(): void {
    this.settledCount++
    if (this.finalCallback && this.pending === 0) {
      const done = this.finalCallback
      this.finalCallback = null
      this.stopFlush?.abort()
      this.stopFlush = null
      done()
    }
  }

  /** The first failure fails the stream: 'error' with it, then destroyed. */
  private fail(err: KafkaError): void {
    if (this.failure) return
    this.failure = err
    this.destroy(err)
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`
  if (typeof v === 'string') return JSON.stringify(v)
  return typeof v
}

/**
 * The seam for a layer above the producer: a {@link ProducerWriteStream} writing into `sink` instead
 * of a Producer (e.g. a sink whose records that fail go to a dead-letter topic, calling the callback
 * with the final outcome). Internal: not exported from the package.
 */
export function createRecordWritable<T = WriteStreamChunk>(
  sink: RecordSink,
  options: WriteStreamOptions<T>,
): ProducerWriteStream<T> {
  return new ProducerWriteStream<T>(sink, options)
}
