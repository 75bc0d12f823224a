import { KafkaError } from '../errors/index.js'
import {
  type BatchBufferPool,
  POOLED_BUFFER_MIN_BYTES,
  RecordBatchBuilder,
  type RecordBytes,
  type RecordHeader,
} from '../protocol/index.js'
import type { DeliveryCallback } from './record.js'

/**
 * Where a batch is in its life. One state instead of a flag per fact, so that what may happen next
 * is written down once ({@link BATCH_TRANSITIONS}) and checked at every change.
 *
 * - `open`: takes appends.
 * - `sealed`: no more appends (it reached batch.size, or it is a part of a split batch); not
 *   compressed yet.
 * - `compressing`: its records are being compressed on libuv's thread pool.
 * - `ready`: compressed, or answered with a retriable error: it waits for its turn (and backoff).
 * - `inFlight`: in a Produce request that has no answer yet.
 * - `done`: it has its outcome (delivered, failed, expired) or was replaced by its split parts;
 *   it is out of its queue.
 */
export type BatchState = 'open' | 'sealed' | 'compressing' | 'ready' | 'inFlight' | 'done'

/** The legal changes of state. Anything else is a bug in the sender, and throws. */
export const BATCH_TRANSITIONS: Readonly<Record<BatchState, readonly BatchState[]>> = {
  // Full; compressed off-thread as soon as it is closed; drained as it is; failed (close, fatal).
  open: ['sealed', 'compressing', 'inFlight', 'done'],
  sealed: ['compressing', 'inFlight', 'done'],
  // Compressed; the thread pool failed (compressed inline at drain instead); expired meanwhile.
  compressing: ['ready', 'sealed', 'done'],
  ready: ['inFlight', 'done'],
  // Answered: retry (back to ready), or an outcome, or split into parts (done, parts go on).
  inFlight: ['ready', 'done'],
  done: [],
}

/** One accepted record, kept until its delivery report is sent. */
export interface RecordEntry {
  /** A string is encoded into the batch as UTF-8 when appended. */
  readonly key: RecordBytes | null
  /** The key's encoded bytes, -1 for null (what the batch writes as its length). */
  readonly keyLength: number
  readonly value: RecordBytes | null
  readonly valueLength: number
  readonly headers: RecordHeader[] | null
  readonly timestamp: number
  readonly callback: DeliveryCallback | undefined
  /** Bytes counted against buffer.memory for this record (released on delivery). */
  readonly bytes: number
  /**
   * When the record must have its outcome: accepted time + delivery.timeout.ms. A record that
   * waited for its topic's metadata keeps its original deadline in the batch it joins.
   */
  readonly deadline: number
}

/** Room for at least this many records per batch from the start (the arrays' first size before). */
const MIN_EXPECTED_RECORDS = 16
/** And at most this many (192 KiB of arrays), however many records the previous batch had. */
const MAX_EXPECTED_RECORDS = 8192

/**
 * Records for one partition that travel in one RecordBatch. The records are encoded into the
 * builder as they are appended (so the bytes counted against buffer.memory are the bytes we
 * send). What a delivery report needs besides the bytes is kept in flat arrays, not in an object
 * per record: a record waiting for its acknowledgement costs the garbage collector a callback
 * reference and a few numbers, and its key and value are read back from the batch's own bytes.
 */
export class ProducerBatch {
  private n = 0
  private callbacks: (DeliveryCallback | undefined)[] | null = null
  /** Per record: its timestamp. */
  private timestamps: Float64Array
  /** Per record: key start, key length, value start, value length (-1 length = null). */
  private positions: Int32Array
  private headerLists: (RecordHeader[] | null)[] | null = null
  readonly builder: RecordBatchBuilder
  /**
   * Delivery deadline of the batch: its creation time + delivery.timeout.ms (as in Java), or the
   * earliest deadline of a record in it that was accepted before the batch existed.
   */
  deadline: number
  private current: BatchState = 'open'
  /** Produce attempts so far (1 after the first send). */
  attempts = 0
  /** Not to be sent again before this time (retry backoff). */
  retryAt = 0
  /**
   * A part of a batch the broker refused as too large: like a resent batch, it goes only once
   * nothing ahead of it in its partition is in flight, so the parts land in order.
   */
  fromSplit = false
  /** When its current request was sent, kept only while someone listens to `batch.answered`. */
  sentAt = -1
  /** The last error that made it wait for a retry: the cause given when it times out. */
  lastError: KafkaError | null = null
  /**
   * Times the broker closed the connection before a large request carrying this batch was fully
   * written (a request over the broker's socket.request.max.bytes): it then goes alone, and after
   * a few such closes it is split or fails instead of being resent until delivery.timeout.ms.
   */
  unwrittenCloses = 0
  /** Compressing off-thread failed once; it is compressed inline at drain instead. */
  compressFailed = false
  reservedBytes = 0
  /** The largest record appended, in buffer.memory bytes (Java's maxRecordSize: record-size-max). */
  maxRecordBytes = 0
  /** The bytes sent, built on first drain and reused by retries so a retry is the same batch. */
  wire: Buffer | null = null
  /**
   * The Produce request that carries the batch now was handed to the kernel whole (the socket's
   * write callback ran, see {@link written}). A broker answers only what it has read, but a hostile
   * one may answer earlier: the buffer is reused only once our write of it is over.
   */
  requestWritten = false
  /** Identifies the request that carries the batch now (set by the sender; see requestWritten). */
  lastRequest: object | null = null
  /** A report read a key or value (views of the buffer), or keeps them for later (send()). */
  payloadKept = false
  /** The buffer went back to the pool: keys and values can no longer be read. */
  private recycled = false
  /** Delivered and ready to recycle but for the request's write, which had not finished. */
  private recycleWhenWritten = false
  /** Idempotence stamp (KIP-98): -1 until an idempotent producer drains the batch. */
  producerId = -1n
  producerEpoch = -1
  baseSequence = -1

  constructor(
    readonly topic: string,
    readonly partition: number,
    capacity: number,
    readonly createdAt: number,
    deliveryTimeoutMs: number,
    /**
     * How many records to make room for in the per-record arrays (they grow beyond it). Sized
     * well, the arrays are allocated once instead of doubling from 16 records: in W1's batches of
     * ~300 records the doubling was a fifth of the bytes the producer allocated per record.
     */
    expectedRecords = MIN_EXPECTED_RECORDS,
    /** Where a large batch takes its buffer from, and gives it back to after delivery ({@link recycle}). */
    private readonly pool: BatchBufferPool | null = null,
  ) {
    this.builder = new RecordBatchBuilder(capacity, pool)
    this.deadline = createdAt + deliveryTimeoutMs
    const room = Math.min(Math.max(expectedRecords, MIN_EXPECTED_RECORDS), MAX_EXPECTED_RECORDS)
    this.timestamps = new Float64Array(room)
    this.positions = new Int32Array(4 * room)
  }

  get state(): BatchState {
    return this.current
  }

  /** Changes state; throws on a change {@link BATCH_TRANSITIONS} does not allow. */
  moveTo(next: BatchState): void {
    if (!BATCH_TRANSITIONS[this.current].includes(next)) {
      throw new Error(
        `batch for ${this.topic}[${this.partition}]: illegal state change ${this.current} → ${next}`,
      )
    }
    this.current = next
  }

  /** In a Produce request that has no answer yet. */
  get inFlight(): boolean {
    return this.current === 'inFlight'
  }

  /** Takes no more appends. */
  get closed(): boolean {
    return this.current !== 'open'
  }

  /** Whether the batch carries an idempotence stamp (it has been sent under that stamp). */
  get stamped(): boolean {
    return this.baseSequence >= 0
  }

  stamp(producerId: bigint, epoch: number, baseSequence: number): void {
    this.producerId = producerId
    this.producerEpoch = epoch
    this.baseSequence = baseSequence
    this.wire = null
  }

  /** Drops the stamp after an epoch bump; the batch is stamped and built again when drained. */
  unstamp(): void {
    this.producerId = -1n
    this.producerEpoch = -1
    this.baseSequence = -1
    this.wire = null
  }

  get count(): number {
    return this.n
  }

  /** Whether any record has its own callback (else only the global dr_cb can be called). */
  get hasCallbacks(): boolean {
    return this.callbacks !== null
  }

  callbackAt(i: number): DeliveryCallback | undefined {
    return this.callbacks === null ? undefined : this.callbacks[i]
  }

  timestampAt(i: number): number {
    return this.timestamps[i]!
  }

  /** A view of record i's key in the batch's bytes. Throws `_STATE` once the batch was recycled. */
  keyAt(i: number): Buffer | null {
    if (this.recycled) throw this.recycledError('key')
    this.payloadKept = true
    return this.builder.bytesAt(this.positions[4 * i]!, this.positions[4 * i + 1]!)
  }

  /** A view of record i's value in the batch's bytes. Throws `_STATE` once the batch was recycled. */
  valueAt(i: number): Buffer | null {
    if (this.recycled) throw this.recycledError('value')
    this.payloadKept = true
    return this.builder.bytesAt(this.positions[4 * i + 2]!, this.positions[4 * i + 3]!)
  }

  /**
   * After a successful delivery, once every delivery callback of the batch has returned: gives a
   * large buffer back to the producer's pool, unless something may still read it: a report whose
   * key or value was read (the callback may keep those views) or kept (send() resolves with its
   * report). While the request's write has not finished, it waits for that ({@link written}).
   * Returns whether the buffer was given back now.
   */
  recycle(): boolean {
    const pool = this.pool
    if (pool === null || this.payloadKept || this.current !== 'done') return false
    if (this.builder.capacity < POOLED_BUFFER_MIN_BYTES) return false
    if (!this.requestWritten) {
      // The answer came before Node reported the write done. That is legitimate: Node reports the
      // requests it wrote in one writev together, and the broker may answer the first of them
      // while the last is still being written. The buffer goes back once the write is over.
      this.recycleWhenWritten = true
      return false
    }
    this.recycled = true
    this.wire = null
    this.builder.release(pool)
    return true
  }

  /** The request carrying the batch was written whole: a {@link recycle} that waited for it happens now. */
  written(): void {
    this.requestWritten = true
    if (this.recycleWhenWritten) {
      this.recycleWhenWritten = false
      this.recycle()
    }
  }

  private recycledError(what: string): KafkaError {
    return new KafkaError(
      '_STATE',
      `the ${what} of a delivered record in a batch of ${POOLED_BUFFER_MIN_BYTES / 1024} KiB or more can be ` +
        'read only while its delivery callback runs: the batch memory is reused once the callbacks return. ' +
        `Read report.${what} in the callback (the view then stays valid), or use send(), whose report keeps it.`,
    )
  }

  headersAt(i: number): RecordHeader[] | null {
    return this.headerLists === null ? null : (this.headerLists[i] ?? null)
  }

  /** The records' key and value lengths summed (statistics' txbytes); a walk over the batch. */
  get keyValueBytes(): number {
    const p = this.positions
    let sum = 0
    for (let i = 0; i < this.n; i++) sum += Math.max(0, p[4 * i + 1]!) + Math.max(0, p[4 * i + 3]!)
    return sum
  }

  get sizeInBytes(): number {
    return this.builder.sizeInBytes
  }

  /**
   * Appends when the record fits within batch.size (an empty batch always takes its first
   * record, however large: message.max.bytes was checked before). Returns false when the caller
   * must start a new batch.
   */
  tryAppend(entry: RecordEntry, sizeBound: number, batchSize: number, maxRecords: number): boolean {
    if (this.current !== 'open') return false
    const n = this.n
    if (n > 0 && (this.builder.sizeInBytes + sizeBound > batchSize || n >= maxRecords)) {
      this.current = 'sealed'
      return false
    }
    const b = this.builder
    b.appendSized(entry.timestamp, entry.key, entry.keyLength, entry.value, entry.valueLength, entry.headers)
    if (n === this.timestamps.length) this.grow()
    const p = this.positions
    p[4 * n] = b.lastKeyStart
    p[4 * n + 1] = entry.keyLength
    p[4 * n + 2] = b.lastValueStart
    p[4 * n + 3] = entry.valueLength
    this.timestamps[n] = entry.timestamp
    if (entry.callback !== undefined) {
      // Allocated on the first record that has a callback; earlier slots read as undefined.
      ;(this.callbacks ??= [])[n] = entry.callback
    }
    if (entry.headers !== null) (this.headerLists ??= [])[n] = entry.headers
    this.n = n + 1
    if (entry.deadline < this.deadline) this.deadline = entry.deadline
    this.reservedBytes += entry.bytes
    if (entry.bytes > this.maxRecordBytes) this.maxRecordBytes = entry.bytes
    if (b.sizeInBytes >= batchSize || this.n >= maxRecords) this.current = 'sealed'
    return true
  }

  /** Doubles the per-record arrays (more records than expected). */
  private grow(): void {
    const timestamps = new Float64Array(this.timestamps.length * 2)
    timestamps.set(this.timestamps)
    this.timestamps = timestamps
    const positions = new Int32Array(this.positions.length * 2)
    positions.set(this.positions)
    this.positions = positions
  }
}
