// The error model shared by every layer: one class, one table (error-table.ts) deciding the flags.
import {
  ABORTABLE_ERRORS,
  BROKER_ERRORS,
  FATAL_ERRORS,
  LOCAL_ERRORS,
  type KafkaErrorCode,
} from './error-table.js'

export interface ErrorInfo {
  /** Protocol error number; absent for local (`_`-prefixed) errors. */
  readonly kafkaCode?: number
  readonly name: KafkaErrorCode
  readonly retriable: boolean
  readonly description: string
}

export interface KafkaErrorOptions {
  kafkaCode?: number
  retriable?: boolean
  fatal?: boolean
  txnRequiresAbort?: boolean
  cause?: unknown
}

const byName = new Map<string, ErrorInfo>()
const byCode = new Map<number, ErrorInfo>()
for (const [kafkaCode, name, retriable, description] of BROKER_ERRORS) {
  // The rows are typed by their `as const` tables (error-table.ts); the loop only widens them.
  const info: ErrorInfo = { kafkaCode, name: name as KafkaErrorCode, retriable, description }
  byName.set(name, info)
  byCode.set(kafkaCode, info)
}
for (const [name, retriable, description] of LOCAL_ERRORS)
  byName.set(name, { name: name as KafkaErrorCode, retriable, description })

/** Looks an error up by protocol number or by name (broker name or local `_NAME`). */
export function errorInfo(codeOrName: number | string): ErrorInfo | undefined {
  return typeof codeOrName === 'number' ? byCode.get(codeOrName) : byName.get(codeOrName)
}

/** Every error the table knows, broker codes first (ascending), then the local ones. */
export function allErrorInfos(): ErrorInfo[] {
  return [...byName.values()]
}

export class KafkaError extends Error {
  /**
   * Kafka error name such as 'NOT_LEADER_OR_FOLLOWER', or a local one starting with '_': one of the
   * table's names ({@link KafkaErrorCode}), so a misspelled comparison does not compile.
   */
  readonly code: KafkaErrorCode
  readonly kafkaCode: number | undefined
  readonly retriable: boolean
  /** The producer cannot continue: by the table for a few codes (FATAL_ERRORS), else by the producer in context. */
  readonly fatal: boolean
  /** The current transaction must be aborted before the producer can continue (KIP-98, KIP-890). */
  readonly txnRequiresAbort: boolean

  constructor(code: KafkaErrorCode, message?: string, options?: KafkaErrorOptions) {
    const info = byName.get(code)
    super(
      message ?? info?.description ?? code,
      options?.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'KafkaError'
    this.code = code
    this.kafkaCode = options?.kafkaCode ?? info?.kafkaCode
    this.retriable = options?.retriable ?? info?.retriable ?? false
    this.fatal = options?.fatal ?? FATAL_ERRORS.has(code)
    this.txnRequiresAbort = options?.txnRequiresAbort ?? ABORTABLE_ERRORS.has(code)
  }

  /**
   * `err` itself when it is a KafkaError already; anything else that was thrown or rejected (an Error
   * from a socket, whatever an application callback threw) becomes a KafkaError with `code`, `err` as
   * its cause, and `message` (by default `String(err)`). `code` is the local error that says where the
   * failure came from: `_APPLICATION` for user code, `_TRANSPORT` for the network, ...
   */
  static wrap(err: unknown, code: KafkaErrorCode = '_APPLICATION', message?: string): KafkaError {
    if (err instanceof KafkaError) return err
    return new KafkaError(code, message ?? String(err), { cause: err })
  }

  /**
   * Builds the error for a protocol error number. An unknown number becomes UNKNOWN_SERVER_ERROR
   * (non-retriable, as Java's Errors.forCode does) but keeps the number in `kafkaCode`.
   */
  static fromKafkaCode(kafkaCode: number, message?: string | null): KafkaError {
    const info = byCode.get(kafkaCode)
    if (info === undefined) {
      // The number is all an operator can look up: it stays in the message, not only in kafkaCode.
      const unknown = `unknown broker error code ${kafkaCode}`
      return new KafkaError('UNKNOWN_SERVER_ERROR', message ? `${message}: ${unknown}` : unknown, {
        kafkaCode,
      })
    }
    return new KafkaError(info.name, message ?? info.description, { kafkaCode })
  }
}
