import { RecordBatchBuilder, type RecordHeader } from '../protocol/index.js'
import type { DeliveryCallback } from './record.js'

/** One accepted record, kept until its delivery report is sent. */
export interface RecordEntry {
  readonly key: Buffer | null
  readonly value: Buffer | null
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

/**
 * Records for one partition that travel in one RecordBatch. The records are encoded into the
 * builder as they are appended (so the bytes counted against buffer.memory are the bytes we
 * send); `entries` keep what the delivery reports need.
 */
export class ProducerBatch {
  readonly entries: RecordEntry[] = []
  readonly builder: RecordBatchBuilder
  /**
   * Delivery deadline of the batch: its creation time + delivery.timeout.ms (as in Java), or the
   * earliest deadline of a record in it that was accepted before the batch existed.
   */
  deadline: number
  /** Produce attempts so far (1 after the first send). */
  attempts = 0
  /** Not to be sent again before this time (retry backoff). */
  retryAt = 0
  inFlight = false
  /** No more appends: it reached batch.size, or it was drained for sending. */
  closed = false
  reservedBytes = 0
  /** The bytes sent, built on first drain and reused by retries so a retry is the same batch. */
  wire: Buffer | null = null
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
  ) {
    this.builder = new RecordBatchBuilder(capacity)
    this.deadline = createdAt + deliveryTimeoutMs
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
    return this.entries.length
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
    if (this.closed) return false
    if (
      this.entries.length > 0 &&
      (this.builder.sizeInBytes + sizeBound > batchSize || this.entries.length >= maxRecords)
    ) {
      this.closed = true
      return false
    }
    this.builder.append(entry.timestamp, entry.key, entry.value, entry.headers)
    this.entries.push(entry)
    if (entry.deadline < this.deadline) this.deadline = entry.deadline
    this.reservedBytes += entry.bytes
    if (this.builder.sizeInBytes >= batchSize || this.entries.length >= maxRecords) this.closed = true
    return true
  }
}
