import type { KafkaError } from '../errors/index.js'

/** Keys, values and header values: strings are encoded as UTF-8. */
export type RecordData = string | Buffer | Uint8Array

/**
 * Record headers: an object (`{ trace_id: 'abc' }`, an array value repeats the key), or an array
 * of `[key, value]` pairs in wire order, as the guide writes them (Kafka allows repeated keys).
 */
export type RecordHeaders =
  | Readonly<Record<string, RecordData | null | readonly (RecordData | null)[]>>
  | ReadonlyArray<readonly [string, RecordData | null]>

export interface ProducerRecord {
  topic: string
  /** Records with the same key go to the same partition (Java-compatible murmur2). */
  key?: RecordData | null
  /** Required; `null` writes a tombstone. */
  value: RecordData | null
  headers?: RecordHeaders
  /** Event time in ms since the epoch; defaults to the time of the produce call. */
  timestamp?: number
  /** Explicit partition; otherwise the partitioner decides. */
  partition?: number
}

export interface DeliveryReport {
  topic: string
  /** -1 when the record failed before a partition was chosen. */
  partition: number
  /**
   * Offset of the record in its partition; -1 with acks=0, when delivery failed, or when the
   * broker acknowledged the batch as a duplicate of one it already had (it does not say where).
   */
  offset: number
  /** The record's timestamp (the broker's log-append time on topics configured for it). */
  timestamp: number
  /**
   * The key and value as sent (strings UTF-8 encoded). For a batched record these are views of
   * the batch's bytes, not the Buffers you passed: equal content, and copy them (Buffer.from) if
   * you keep many reports around, so that the batch's memory can be freed.
   */
  key: Buffer | null
  value: Buffer | null
  /** In wire order; repeated keys are kept. */
  headers: ReadonlyArray<readonly [string, Buffer | null]>
}

/** Called exactly once per accepted record: `err` is null on success. */
export type DeliveryCallback = (err: KafkaError | null, report: DeliveryReport) => void
