// What ReliableProducer.send() is given, turned into the bytes of a record: keys and values as the
// producer takes them (strings as UTF-8, Buffers and Uint8Arrays as they are), any other value as
// JSON (the guide's json.dumps), and headers as [key, bytes] pairs in wire order, the one form the
// producer, the envelope and a replay all read the same way. Input that cannot be carried
// faithfully is refused here with `_INVALID_ARG`, before anything is sent.
import { KafkaError } from '../errors/index.js'
import type { RecordData, RecordHeaders } from '../producer/record.js'

/** Headers in wire order; a header may repeat. */
export type HeaderPairs = [string, Buffer | null][]

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object'
  return typeof v
}

/** A string, Buffer or Uint8Array as bytes (strings UTF-8); null for anything else. */
function asBytes(v: unknown): Buffer | null {
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  if (Buffer.isBuffer(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return null
}

/** The key: a string, Buffer or Uint8Array; null or undefined for none. */
export function keyBytes(key: unknown): Buffer | null {
  if (key === null || key === undefined) return null
  const b = asBytes(key)
  if (b === null) {
    throw new KafkaError(
      '_INVALID_ARG',
      `key must be a string, Buffer, Uint8Array or null, got ${describe(key)}`,
    )
  }
  return b
}

/**
 * The value: bytes as given, null as a tombstone (Kafka's null value), anything else through
 * `serialize` or, by default, strict JSON ({@link toJson}).
 */
export function valueBytes(value: unknown, serialize?: (value: unknown) => RecordData): Buffer | null {
  if (value === null) return null
  const direct = asBytes(value)
  if (direct !== null) return direct
  if (serialize === undefined) return Buffer.from(toJson(value), 'utf8')
  let out: unknown
  try {
    out = serialize(value)
  } catch (err) {
    throw new KafkaError(
      '_INVALID_ARG',
      `serialize() threw for the value: ${(err as Error)?.message ?? err}`,
      {
        cause: err,
      },
    )
  }
  const b = asBytes(out)
  if (b === null) {
    throw new KafkaError(
      '_INVALID_ARG',
      `serialize() must return a string, Buffer or Uint8Array, returned ${describe(out)}`,
    )
  }
  return b
}

/**
 * JSON that says what it was given. JSON.stringify throws for cycles and BigInt but quietly drops
 * or rewrites other values: `undefined`, a function or a symbol at the top gives no text at all,
 * inside an array becomes `null`, a function or symbol property disappears, NaN and Infinity become
 * `null`. A record that silently lost part of its value is worse than a refused one, so those are
 * refused, naming where. A property whose value is `undefined` is still left out, as JSON does:
 * that is how optional fields are written.
 */
export function toJson(value: unknown): string {
  const refuse = (what: string, key: string): never => {
    throw new KafkaError(
      '_INVALID_ARG',
      `value cannot be sent as JSON: ${what}${key === '' ? '' : ` at key ${JSON.stringify(key)}`}; ` +
        'pass a string or Buffer, or a serialize option',
    )
  }
  let text: string | undefined
  try {
    text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
      if (typeof v === 'function') refuse('a function', key)
      if (typeof v === 'symbol') refuse('a symbol', key)
      if (typeof v === 'number' && !Number.isFinite(v)) refuse(String(v), key)
      if (v === undefined && (key === '' || Array.isArray(this))) refuse('undefined', key)
      return v
    })
  } catch (err) {
    if (err instanceof KafkaError) throw err
    // A cycle or a BigInt (TypeError), or a toJSON() that threw.
    throw new KafkaError('_INVALID_ARG', `value cannot be sent as JSON: ${(err as Error)?.message ?? err}`, {
      cause: err,
    })
  }
  if (text === undefined) refuse(describe(value), '')
  return text!
}

/** Headers as [key, bytes] pairs in wire order (an object's array value repeats its key). */
export function headerPairs(headers: RecordHeaders | undefined): HeaderPairs {
  if (headers === undefined || headers === null) return []
  const out: HeaderPairs = []
  const add = (k: unknown, v: unknown): void => {
    if (typeof k !== 'string') throw new KafkaError('_INVALID_ARG', 'a header key must be a string')
    const b = v === null ? null : asBytes(v)
    if (b === null && v !== null) {
      throw new KafkaError(
        '_INVALID_ARG',
        `header '${k}' must be a string, Buffer, Uint8Array or null, got ${describe(v)}`,
      )
    }
    out.push([k, b])
  }
  if (Array.isArray(headers)) {
    for (const pair of headers as readonly unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new KafkaError('_INVALID_ARG', 'headers as an array must hold [key: string, value] pairs')
      }
      add(pair[0], pair[1])
    }
  } else if (typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) {
      if (Array.isArray(v)) for (const item of v) add(k, item)
      else add(k, v)
    }
  } else {
    throw new KafkaError('_INVALID_ARG', 'headers must be an object or an array of [key, value] pairs')
  }
  return out
}
