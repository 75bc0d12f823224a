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

// The report and the callback are config/'s (a configuration holds a delivery callback too).
export type { DeliveryCallback, DeliveryReport } from '../config/index.js'
