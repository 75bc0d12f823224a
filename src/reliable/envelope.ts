// The dead-letter envelope (envelope-types.ts) written and read: a failed record and its error as
// the JSON value of a dead-letter record, the Kafka headers beside it, the cut that makes it fit the
// dead-letter topic, and the record read back from it for a replay. Pure functions, no I/O.
//
// Bytes are never reinterpreted: a key, value or header value that is valid UTF-8 travels as text
// (readable in any consumer, as the guide's .decode() did), anything else as base64, and the
// encoding field says which, so decoding gives back exactly the bytes that were sent.
import { isUtf8 } from 'node:buffer'
import { KafkaError } from '../errors/index.js'
import { BATCH_HEADER_SIZE, RecordBatchBuilder } from '../protocol/index.js'
import type { DeadLetterEnvelope, EnvelopeEncoding, EnvelopeHeader } from './envelope-types.js'
import type { HeaderPairs } from './payload.js'

/** Prefix of the original headers' names in the dead-letter record's Kafka headers. */
export const ORIGINAL_HEADER_PREFIX = 'original.'
/** The Kafka header of a dead-letter record that holds the error code, for consumers that skip the value. */
export const ERROR_CODE_HEADER = 'dlq.error_code'

/** A record that failed for good, as the envelope needs it. */
export interface FailedRecord {
  readonly topic: string
  /** -1 when it never got a partition. */
  readonly partition: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<readonly [string, Buffer | null]>
  /** The timestamp the caller gave, null when the producer chose it. */
  readonly timestamp: number | null
  /** Produce attempts, at least 1. */
  readonly attempts: number
}

/** Bytes as text when they are valid UTF-8, else base64; null stays null. */
export function encodeBytes(b: Buffer | null): { text: string | null; encoding: EnvelopeEncoding | null } {
  if (b === null) return { text: null, encoding: null }
  // isUtf8 refuses overlong forms and surrogates, so text always encodes back to the same bytes.
  if (isUtf8(b)) return { text: b.toString('utf8'), encoding: 'utf8' }
  return { text: b.toString('base64'), encoding: 'base64' }
}

/** The inverse of encodeBytes. */
export function decodeBytes(
  text: string | null,
  encoding: EnvelopeEncoding | null,
  what: string,
): Buffer | null {
  if (text === null) return null
  if (encoding === 'utf8') return Buffer.from(text, 'utf8')
  if (encoding === 'base64') return Buffer.from(text, 'base64')
  throw new KafkaError('_INVALID_ARG', `envelope ${what}: unknown encoding ${JSON.stringify(encoding)}`)
}

/** The full envelope of a failed record (nothing cut). */
export function buildEnvelope(rec: FailedRecord, error: KafkaError, failedAt: number): DeadLetterEnvelope {
  const key = encodeBytes(rec.key)
  const value = encodeBytes(rec.value)
  const headers: EnvelopeHeader[] = rec.headers.map(([k, v]) => {
    const h = encodeBytes(v)
    return { key: k, value: h.text, encoding: h.encoding }
  })
  return {
    envelope_version: 1,
    original_topic: rec.topic,
    original_partition: rec.partition >= 0 ? rec.partition : null,
    original_key: key.text,
    original_key_encoding: key.encoding,
    original_value: value.text,
    original_value_encoding: value.encoding,
    original_value_bytes: rec.value?.length ?? 0,
    original_value_truncated: false,
    original_timestamp: rec.timestamp,
    original_headers: headers,
    error: error.message,
    error_code: error.code,
    error_retriable: error.retriable,
    attempts: Math.max(1, rec.attempts),
    failed_at: new Date(failedAt).toISOString(),
  }
}

/** The dead-letter record's Kafka headers: the original ones renamed `original.<name>`, then the error code. */
export function deadLetterHeaders(rec: FailedRecord, error: KafkaError): HeaderPairs {
  const out: HeaderPairs = rec.headers.map(([k, v]) => [ORIGINAL_HEADER_PREFIX + k, v])
  out.push([ERROR_CODE_HEADER, Buffer.from(error.code, 'utf8')])
  return out
}

/** The envelope with only the first `n` bytes of `value` (fewer, to end on a character in UTF-8). */
function withPrefix(env: DeadLetterEnvelope, value: Buffer, n: number): DeadLetterEnvelope {
  let end = n
  // A UTF-8 value stays valid UTF-8: back up over continuation bytes (10xxxxxx) to a character start.
  if (env.original_value_encoding === 'utf8') while (end > 0 && (value[end]! & 0xc0) === 0x80) end--
  const prefix = value.subarray(0, end)
  return {
    ...env,
    original_value:
      env.original_value_encoding === 'utf8' ? prefix.toString('utf8') : prefix.toString('base64'),
    original_value_truncated: true,
  }
}

/** The envelope with no value bytes at all, still flagged truncated (the last resort). */
export function withoutValue(env: DeadLetterEnvelope, value: Buffer | null): DeadLetterEnvelope {
  return value === null ? env : withPrefix(env, value, 0)
}

/** What the dead-letter record costs besides its value, by the producer's own bound (message.max.bytes). */
export function recordOverhead(key: Buffer | null, headers: HeaderPairs): number {
  return RecordBatchBuilder.recordSizeUpperBound(key, null, headers) + BATCH_HEADER_SIZE
}

/**
 * The envelope, cut if needed so that the dead-letter record (`overhead` + the JSON) is at most
 * `limit` bytes: it keeps every field and the longest prefix of the value that fits, flagged
 * `original_value_truncated`. When even no value does not fit (a huge key or headers), the envelope
 * without value is returned anyway and the write fails as too large: the caller's failure path.
 */
export function fitEnvelope(
  env: DeadLetterEnvelope,
  value: Buffer | null,
  overhead: number,
  limit: number,
): DeadLetterEnvelope {
  const fits = (e: DeadLetterEnvelope): boolean => overhead + Buffer.byteLength(JSON.stringify(e)) <= limit
  if (value === null || value.length === 0 || fits(env)) return env
  // Binary search for the longest prefix that fits: a longer prefix never encodes shorter. Every
  // byte kept costs at least one byte of JSON, so no prefix longer than `limit` can fit.
  let lo = 0
  let hi = Math.min(value.length - 1, limit)
  let best = withPrefix(env, value, 0)
  if (!fits(best)) return best
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    const e = withPrefix(env, value, mid)
    if (fits(e)) {
      lo = mid
      best = e
    } else hi = mid - 1
  }
  return best
}

/** A record read back from an envelope, for its original topic. */
export interface RestoredRecord {
  topic: string
  key: Buffer | null
  value: Buffer | null
  headers: HeaderPairs
  timestamp?: number
}

/**
 * The original record of an envelope, byte for byte. Refuses (`_INVALID_ARG`) an envelope whose
 * value was cut: sending its first bytes as if they were the record would corrupt it.
 */
export function recordFromEnvelope(env: DeadLetterEnvelope): RestoredRecord {
  if (env.envelope_version !== 1) {
    throw new KafkaError('_INVALID_ARG', `unknown envelope_version ${JSON.stringify(env.envelope_version)}`)
  }
  if (env.original_value_truncated) {
    throw new KafkaError(
      '_INVALID_ARG',
      `the envelope of a record for ${env.original_topic} holds only the first bytes of its value ` +
        `(${env.original_value_bytes} bytes originally): it cannot be sent again as it was`,
    )
  }
  const rec: RestoredRecord = {
    topic: env.original_topic,
    key: decodeBytes(env.original_key, env.original_key_encoding, 'original_key'),
    value: decodeBytes(env.original_value, env.original_value_encoding, 'original_value'),
    headers: env.original_headers.map((h) => [h.key, decodeBytes(h.value, h.encoding, `header ${h.key}`)]),
  }
  if (env.original_timestamp !== null) rec.timestamp = env.original_timestamp
  return rec
}
