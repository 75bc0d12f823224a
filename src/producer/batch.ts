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
}

/**
 * Records for one partition that travel in one RecordBatch. The records are encoded into the
 * builder as they are appended (so the bytes counted against buffer.memory are the bytes we
 * send); `entries` keep what the delivery reports need.
 */
export class ProducerBatch {
  readonly entries: RecordEntry[] = []
  readonly builder: RecordBatchBuilder
  /** Delivery deadline of the batch: its creation time + delivery.timeout.ms (as in Java). */
  readonly deadline: number
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
    this.reservedBytes += entry.bytes
    if (this.builder.sizeInBytes >= batchSize || this.entries.length >= maxRecords) this.closed = true
    return true
  }
}
