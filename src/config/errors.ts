import { KafkaError } from '../errors/index.js'

/**
 * Thrown at construction for a configuration the producer cannot honour: an unknown key, a value of the
 * wrong type, out of range or not among the allowed values, two spellings of one key with different
 * values, or settings that contradict each other. Never retriable: the configuration must change.
 * The code is librdkafka's `_INVALID_ARG`, so code that switches on `err.code` treats it like any other
 * invalid-argument error.
 */
export class ConfigError extends KafkaError {
  override readonly name: string = 'ConfigError'
  /** The key the user wrote (the alias, when an alias was used), or the first of two conflicting keys. */
  readonly key: string
  /** For an unknown key: the closest known key by edit distance, when one is close enough. */
  readonly suggestion?: string

  constructor(key: string, message: string, options: { suggestion?: string; cause?: unknown } = {}) {
    super('_INVALID_ARG', message, { retriable: false, fatal: false, cause: options.cause })
    this.key = key
    if (options.suggestion !== undefined) this.suggestion = options.suggestion
  }
}
