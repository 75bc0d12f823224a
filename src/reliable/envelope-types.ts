// The dead-letter envelope and the spool entry: the formats the reliability layer writes, shared by
// the dead-letter routing (reliable-producer.ts) and the local spool (spool.ts). Both are JSON that
// outlives the process (in a topic, in a file), so every field is spelled out here and versioned.
//
// The guide's envelope has original_topic, original_key, original_value, error and error_code; the
// rest is what an operator needs to replay or diagnose a record without guessing: where it was
// going, how its bytes are encoded, whether the value was cut, when and after how many attempts it
// failed. Field names keep the guide's snake_case so its consumers read ours unchanged.

/** How a key, value or header value is carried: as text when it is valid UTF-8, else base64. */
export type EnvelopeEncoding = 'utf8' | 'base64'

/** One header of the original record (a null value stays null). */
export interface EnvelopeHeader {
  readonly key: string
  readonly value: string | null
  readonly encoding: EnvelopeEncoding | null
}

/** The JSON value of a record in a dead-letter topic. */
export interface DeadLetterEnvelope {
  /** Format version: 1. */
  readonly envelope_version: 1
  readonly original_topic: string
  /** The partition it was sent to, or null when it never got one (e.g. unknown topic). */
  readonly original_partition: number | null
  /** The key as text (encoding utf8) or base64 (encoding base64); null for no key. */
  readonly original_key: string | null
  readonly original_key_encoding: EnvelopeEncoding | null
  /** The value, or its first bytes when original_value_truncated; null for a null value. */
  readonly original_value: string | null
  readonly original_value_encoding: EnvelopeEncoding | null
  /** Size of the original value in bytes (before any truncation). */
  readonly original_value_bytes: number
  /** True when original_value holds only the first bytes (the envelope would not fit the topic). */
  readonly original_value_truncated: boolean
  /** The record's timestamp in ms, if it had one of its own. */
  readonly original_timestamp: number | null
  readonly original_headers: readonly EnvelopeHeader[]
  /** The final delivery error's message, and its code (KafkaError.code, e.g. MESSAGE_TOO_LARGE). */
  readonly error: string
  readonly error_code: string
  readonly error_retriable: boolean
  /** How many times the producer tried to deliver the original record (1 when unknown). */
  readonly attempts: number
  /** When the record failed for good, ISO 8601 in UTC. */
  readonly failed_at: string
}

/**
 * One line of the spool file (JSON lines): an envelope whose dead-letter write failed too. `id` is
 * unique per entry (a random UUID) so that a replay after a crash can be recognised in the topic.
 */
export interface SpoolEntry {
  /** Format version: 1. */
  readonly v: 1
  readonly id: string
  /** The dead-letter topic the envelope was meant for. */
  readonly dlq_topic: string
  readonly envelope: DeadLetterEnvelope
}
