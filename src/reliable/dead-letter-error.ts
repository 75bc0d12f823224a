import { KafkaError } from '../errors/index.js'
import type { SpoolEntry } from './envelope-types.js'

/**
 * What ReliableProducer.send() rejects with when a record failed for good and could be put neither
 * in its dead-letter topic nor in the spool (none configured, or the append failed): the one case
 * where the record is in no place the producer manages, so the caller gets everything needed to
 * keep it elsewhere. Code and flags are the record's own final error (`original`), so code that
 * switches on `err.code` sees what happened to the record; `cause` is the dead-letter write's error.
 */
export class DeadLetterError extends KafkaError {
  override readonly name: string = 'DeadLetterError'
  /** The envelope (untruncated) and the dead-letter topic it was meant for. */
  readonly entry: SpoolEntry
  /** The record's final delivery error. */
  readonly original: KafkaError
  /** Why the dead-letter write failed. */
  readonly deadLetterError: KafkaError
  /** Why appending to the spool failed; null when no spool is configured. */
  readonly spoolError: KafkaError | null

  constructor(
    entry: SpoolEntry,
    original: KafkaError,
    deadLetterError: KafkaError,
    spoolError: KafkaError | null,
  ) {
    super(
      original.code,
      `${original.message}; its dead-letter write to ${entry.dlq_topic || '(no topic)'} failed too ` +
        `(${deadLetterError.code}: ${deadLetterError.message})` +
        (spoolError
          ? `, and so did the spool (${spoolError.code}: ${spoolError.message})`
          : ', and no spool is set'),
      { kafkaCode: original.kafkaCode, retriable: original.retriable, cause: deadLetterError },
    )
    this.entry = entry
    this.original = original
    this.deadLetterError = deadLetterError
    this.spoolError = spoolError
  }
}
