// The ReliableProducer's public types: its options, what send() resolves with, its counters.
import type { ProducerConfig } from '../config/index.js'
import type { KafkaError } from '../errors/index.js'
import type { DeliveryReport, RecordData, RecordHeaders } from '../producer/record.js'
import type { SpoolEntry } from './envelope-types.js'

/**
 * Where a failed record of `topic` goes: a suffix appended to the topic's name (default `'.dlq'`,
 * the guide's `<topic>.dlq`), or a function returning the dead-letter topic's full name (e.g.
 * `() => 'all.dlq'` for one shared topic).
 */
export type DeadLetterTopic = string | ((topic: string) => string)

/**
 * Called when a dead-letter write failed too (Kafka unreachable, the dead-letter topic refused),
 * just before the entry is spooled. `entry` holds the full envelope (untruncated) and the
 * dead-letter topic; `error` is why the dead-letter write failed (the record's own error is in the
 * envelope). A notification: the spool append does not wait for a promise it returns, and what it
 * throws or rejects with is ignored, so a slow or failing hook can neither delay nor lose the record.
 */
export type DeadLetterFailureHook = (entry: SpoolEntry, error: KafkaError) => void | Promise<void>

/** The ReliableProducer's own options (its second constructor argument). */
export interface ReliableProducerOptions {
  /** Default `'.dlq'`: see {@link DeadLetterTopic}. */
  deadLetterTopic?: DeadLetterTopic
  /**
   * The dead-letter topic's `max.message.bytes`, when it is lower than the producer's
   * `message.max.bytes` (the producer cannot read topic configs): envelopes are cut to fit the
   * lower of the two. A broker that still refuses one as too large gets it again without the value.
   */
  deadLetterMaxBytes?: number
  /**
   * Settings of the dead-letter producer, over the data producer's configuration: e.g. a shorter
   * `delivery.timeout.ms` so that a record reaches the spool sooner while Kafka is down. acks=all and
   * idempotence stay forced on.
   */
  deadLetterConfig?: ProducerConfig
  onDeadLetterFailure?: DeadLetterFailureHook
  /**
   * A local JSON-lines file where records go when the dead-letter write fails too; `replaySpool()`
   * sends them again. `onWarning` hears about lines it had to skip (a torn last line after a crash).
   */
  spool?: { path: string; onWarning?: (message: string) => void }
  /**
   * Turns a value that is not a string, Buffer or Uint8Array into bytes. Default: JSON, refusing
   * what JSON cannot carry faithfully (see docs/reliability.md). What it throws becomes `_INVALID_ARG`.
   */
  serialize?: (value: unknown) => RecordData
}

/** Options of one ReliableProducer.send(). */
export interface ReliableSendOptions {
  headers?: RecordHeaders
  /** Event time in ms since the epoch; default the time of the call. Kept in the envelope. */
  timestamp?: number
}

/** send()'s outcome when the record failed for good and its envelope is in the dead-letter topic. */
export interface DeadLetteredOutcome {
  readonly deadLettered: true
  readonly spooled: false
  /** The report of the dead-letter record: its topic, partition and offset. */
  readonly dlq: DeliveryReport
  /** The record's final delivery error (also the envelope's `error` and `error_code`). */
  readonly error: KafkaError
  /** The envelope holds only the first bytes of the value, or none (`original_value_truncated`). */
  readonly truncated: boolean
}

/** send()'s outcome when the dead-letter write failed too and the envelope was appended to the spool. */
export interface SpooledOutcome {
  readonly deadLettered: false
  readonly spooled: true
  /** The record's final delivery error. */
  readonly error: KafkaError
  /** Why the dead-letter write failed. */
  readonly deadLetterError: KafkaError
  /** The spool entry's id (a random UUID). */
  readonly id: string
}

/** Where a record that failed for good went: tell the two apart by `deadLettered` (or `spooled`). */
export type DeadLetterOutcome = DeadLetteredOutcome | SpooledOutcome

/**
 * What ReliableProducer.send() resolves with: the delivery report when the record was written to
 * its topic, else a {@link DeadLetterOutcome}. `'deadLettered' in result` tells them apart.
 */
export type ReliableSendResult = DeliveryReport | DeadLetterOutcome

/** The ReliableProducer's counters since it was created (ReliableProducer.stats). */
export interface ReliableProducerStats {
  /** Records written to a dead-letter topic (acknowledged). */
  readonly routed: number
  /** Envelopes appended to the spool after their dead-letter write failed. */
  readonly spooled: number
  /** Spooled records acknowledged by their original topic during replaySpool(). */
  readonly replayed: number
  /** Dead-letter writes that failed (each one then goes to the hook and the spool, if set). */
  readonly deadLetterFailures: number
}
