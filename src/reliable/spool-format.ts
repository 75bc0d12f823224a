// The spool file's line format: one SpoolEntry (envelope-types.ts) per line as JSON, UTF-8, each line
// ended by '\n'. JSON.stringify escapes every control character, '\n' included, so an entry never
// spans two lines, and since ES2019 it escapes lone surrogates too, so UTF-8 encoding loses nothing.
// Binary keys and values are already base64 inside the envelope: the file is text.
//
// Reading checks each line against the shape of the agreed format rather than trusting JSON.parse:
// a line that parses but is not an entry would otherwise fail later, in the middle of a replay.
import type { DeadLetterEnvelope, SpoolEntry } from './envelope-types.js'

/** What one line of the file turned out to be. */
export type DecodedLine =
  | { readonly kind: 'entry'; readonly entry: SpoolEntry }
  /** Nothing but whitespace: the '\n' an append writes before its data after a torn line leaves one. */
  | { readonly kind: 'blank' }
  | { readonly kind: 'invalid'; readonly reason: string }

/** '\n', the only line terminator of the format. */
export const NEWLINE = 0x0a
// fatal: bytes that are not UTF-8 are corruption, not text to patch with U+FFFD and parse anyway.
const UTF8 = new TextDecoder('utf-8', { fatal: true })

const ENCODINGS: readonly unknown[] = ['utf8', 'base64', null]

type Check = (v: unknown) => boolean
const isString: Check = (v) => typeof v === 'string'
const isStringOrNull: Check = (v) => v === null || typeof v === 'string'
const isCount: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isCountOrNull: Check = (v) => v === null || isCount(v)
const isTimestampOrNull: Check = (v) => v === null || (typeof v === 'number' && Number.isFinite(v))
const isBoolean: Check = (v) => typeof v === 'boolean'
const isEncoding: Check = (v) => ENCODINGS.includes(v)

/** Every field of DeadLetterEnvelope but original_headers (checked element by element). */
const ENVELOPE_FIELDS: readonly (readonly [keyof DeadLetterEnvelope, Check, string])[] = [
  ['envelope_version', (v) => v === 1, '1'],
  ['original_topic', isString, 'a string'],
  ['original_partition', isCountOrNull, 'a partition number or null'],
  ['original_key', isStringOrNull, 'a string or null'],
  ['original_key_encoding', isEncoding, "'utf8', 'base64' or null"],
  ['original_value', isStringOrNull, 'a string or null'],
  ['original_value_encoding', isEncoding, "'utf8', 'base64' or null"],
  ['original_value_bytes', isCount, 'a byte count'],
  ['original_value_truncated', isBoolean, 'a boolean'],
  ['original_timestamp', isTimestampOrNull, 'a number or null'],
  ['error', isString, 'a string'],
  ['error_code', isString, 'a string'],
  ['error_retriable', isBoolean, 'a boolean'],
  ['attempts', isCount, 'a count'],
  ['failed_at', isString, 'a string'],
]

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Why `value` is not a SpoolEntry, or null when it is one. Fields beyond the format are allowed (a
 * later minor addition must not make an older reader discard entries); missing or mistyped ones are not.
 */
export function spoolEntryProblem(value: unknown): string | null {
  if (!isObject(value)) return 'not a JSON object'
  if (value['v'] !== 1) return `v is ${JSON.stringify(value['v']) ?? 'missing'}, not 1`
  if (typeof value['id'] !== 'string' || value['id'] === '') return 'id is not a non-empty string'
  if (typeof value['dlq_topic'] !== 'string') return 'dlq_topic is not a string'
  const envelope = value['envelope']
  if (!isObject(envelope)) return 'envelope is not an object'
  for (const [field, check, expected] of ENVELOPE_FIELDS) {
    if (!check(envelope[field])) return `envelope.${field} is not ${expected}`
  }
  const headers = envelope['original_headers']
  if (!Array.isArray(headers)) return 'envelope.original_headers is not an array'
  for (const [i, h] of headers.entries()) {
    if (!isObject(h) || !isString(h['key']) || !isStringOrNull(h['value']) || !isEncoding(h['encoding'])) {
      return `envelope.original_headers[${i}] is not { key, value, encoding }`
    }
  }
  return null
}

/** Decodes one line (without its '\n'). Never throws: anything unreadable comes back as 'invalid'. */
export function decodeLine(bytes: Uint8Array): DecodedLine {
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    return { kind: 'invalid', reason: 'not valid UTF-8' }
  }
  if (text.trim() === '') return { kind: 'blank' }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { kind: 'invalid', reason: 'not valid JSON' }
  }
  const problem = spoolEntryProblem(value)
  return problem === null
    ? { kind: 'entry', entry: value as SpoolEntry }
    : { kind: 'invalid', reason: `not a spool entry (${problem})` }
}

/**
 * The bytes that append() writes for `entries`: one '\n'-terminated JSON line each. Each entry is
 * checked as read() will see it (after a JSON round trip), so what goes in is what comes out; a value
 * JSON cannot carry (a BigInt, a cycle) or a wrong shape throws TypeError and nothing is written.
 */
export function encodeEntries(entries: readonly SpoolEntry[]): Buffer {
  const lines: string[] = []
  for (const [i, entry] of entries.entries()) {
    let line: string
    try {
      line = JSON.stringify(entry)
    } catch (err) {
      throw new TypeError(`Spool entry ${i} cannot be written as JSON: ${(err as Error).message}`, {
        cause: err,
      })
    }
    const problem = line === undefined ? 'not a JSON object' : spoolEntryProblem(JSON.parse(line))
    if (problem !== null) throw new TypeError(`Spool entry ${i} is not a SpoolEntry: ${problem}`)
    lines.push(line)
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8')
}
