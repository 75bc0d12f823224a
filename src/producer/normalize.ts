// Buffer from its module, not the global: on Node 20 the global is a getter, called on every use
// (~10 ns a record on produce()'s path, issue 14).
import { Buffer } from 'node:buffer'
import { KafkaError } from '../errors/index.js'
import { byteLengthOf, type RecordBytes, type RecordHeader } from '../protocol/index.js'
import type { RecordEntry } from './batch.js'
import type { DeliveryCallback, ProducerRecord, RecordData, RecordHeaders } from './record.js'

/**
 * A record after validation: key and value with their encoded lengths, headers in wire order, a
 * timestamp. A string key or value stays a string (see {@link RecordBytes}): it is encoded into its
 * batch when appended, and hashed by the partitioner without a Buffer. The same object later
 * serves as its batch entry (callback, reserved bytes, deadline filled in on acceptance), so the
 * per-record path allocates one object of ours instead of two; every field exists from the
 * constructor on, so V8 keeps one shape for all of them.
 */
export class NormalizedRecord implements RecordEntry {
  callback: DeliveryCallback | undefined = undefined
  bytes = 0
  deadline = 0
  /** Its bytes are copies of the caller's (see {@link detached}). */
  private owned = false

  constructor(
    public topic: string,
    public key: RecordBytes | null,
    /** UTF-8 bytes of the key, -1 for null (see {@link byteLengthOf}). */
    public keyLength: number,
    public value: RecordBytes | null,
    public valueLength: number,
    public headers: RecordHeader[] | null,
    public timestamp: number,
    /** -1 when the partitioner decides. */
    public partition: number,
  ) {}

  /** An empty record for {@link normalizeRecord}'s `into`. */
  static blank(): NormalizedRecord {
    return new NormalizedRecord('', null, -1, null, -1, null, 0, -1)
  }

  /** Makes this a new record, as the constructor would (for normalizeRecord's `into`). */
  fill(
    topic: string,
    key: RecordBytes | null,
    keyLength: number,
    value: RecordBytes | null,
    valueLength: number,
    headers: RecordHeader[] | null,
    timestamp: number,
    partition: number,
  ): this {
    this.topic = topic
    this.key = key
    this.keyLength = keyLength
    this.value = value
    this.valueLength = valueLength
    this.headers = headers
    this.timestamp = timestamp
    this.partition = partition
    this.callback = undefined
    this.bytes = 0
    this.deadline = 0
    this.owned = false
    return this
  }

  /**
   * Lets go of the caller's key, value, headers and callback, so that a reused record (produce())
   * does not keep the last caller's bytes alive until the next call.
   */
  clear(): void {
    this.key = null
    this.value = null
    this.headers = null
    this.callback = undefined
  }

  /**
   * A copy whose key, value and header values are this producer's own bytes. A record that is not
   * encoded into its batch at the call (its topic's metadata is unknown, or send() waits for buffer
   * space) is held for a while; a caller that reuses its Buffer after produce() returns must not
   * change what gets written (what was accepted is what is sent). Strings are immutable, so they
   * are kept as they are; header values are copied whatever they came from (the cold path).
   */
  detached(): NormalizedRecord {
    if (this.owned) return this
    const headers =
      this.headers === null
        ? null
        : this.headers.map(([k, v]): RecordHeader => [k, v === null ? null : copy(v)])
    const own = new NormalizedRecord(
      this.topic,
      ownBytes(this.key),
      this.keyLength,
      ownBytes(this.value),
      this.valueLength,
      headers,
      this.timestamp,
      this.partition,
    )
    own.owned = true
    return own
  }
}

function ownBytes(d: RecordBytes | null): RecordBytes | null {
  return d === null || typeof d === 'string' ? d : copy(d)
}

function copy(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length)
  b.copy(out)
  return out
}

/** Kafka's topic name rule (Topic.validate): 1..249 of [a-zA-Z0-9._-], not "." or "..". */
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/

/**
 * The last name that passed: producers mostly write to one topic, so the regex runs once. Starts as
 * a value no topic can equal (a string would let that string through unchecked: `''` did).
 */
let lastValidTopic: string | null = null

export function validateTopic(topic: unknown): string {
  if (topic === lastValidTopic) return topic as string
  if (typeof topic !== 'string' || !TOPIC_RE.test(topic) || topic === '.' || topic === '..') {
    throw new KafkaError(
      'INVALID_TOPIC_EXCEPTION',
      `invalid topic name ${JSON.stringify(topic)}: a topic is 1 to 249 characters of [a-zA-Z0-9._-] and not "." or ".."`,
    )
  }
  lastValidTopic = topic
  return topic
}

/** A key or value as the batch takes it: a string as it is (encoded when appended), bytes as a Buffer. */
function toRecordBytes(v: unknown, what: string): RecordBytes {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  throw new KafkaError(
    '_INVALID_ARG',
    `${what} must be a string, Buffer, Uint8Array or null, got ${v === undefined ? 'undefined' : typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : typeof v}`,
  )
}

/** Headers keep Buffers: they are rarer than keys and values, and not worth a second representation. */
function toBytes(v: unknown, what: string): Buffer {
  const b = toRecordBytes(v, what)
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b
}

/** A lower bound of the bytes `v` encodes to (0 for what toRecordBytes would refuse). */
function minBytes(v: unknown): number {
  if (typeof v === 'string') return v.length
  if (v instanceof Uint8Array) return v.byteLength
  return 0
}

function toNullableBytes(v: unknown, what: string): Buffer | null {
  return v === null ? null : toBytes(v, what)
}

function normalizeHeaders(h: RecordHeaders | undefined): RecordHeader[] | null {
  if (h === undefined || h === null) return null
  const out: RecordHeader[] = []
  if (Array.isArray(h)) {
    for (const pair of h as ReadonlyArray<readonly [string, RecordData | null]>) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
        throw new KafkaError('_INVALID_ARG', 'headers as an array must hold [key: string, value] pairs')
      }
      out.push([pair[0], toNullableBytes(pair[1], `header '${pair[0]}'`)])
    }
  } else if (typeof h === 'object') {
    for (const [k, v] of Object.entries(h)) {
      if (Array.isArray(v)) for (const item of v) out.push([k, toNullableBytes(item, `header '${k}'`)])
      else out.push([k, toNullableBytes(v, `header '${k}'`)])
    }
  } else {
    throw new KafkaError('_INVALID_ARG', 'headers must be an object or an array of [key, value] pairs')
  }
  return out.length > 0 ? out : null
}

/**
 * Validates a record handed to produce()/send() and measures its bytes. Throws a KafkaError
 * (`_INVALID_ARG`, `INVALID_TOPIC_EXCEPTION`) for input that can never be sent, so the mistake
 * surfaces at the call site instead of in a delivery report.
 */
export function normalizeRecord(
  record: ProducerRecord,
  now: number,
  maxRecordBytes = Infinity,
  /**
   * Filled in and returned instead of a new record: produce() reuses one, because a record there
   * lives only for the call (see Producer.produce). Not owned afterwards (detached() copies it).
   */
  into?: NormalizedRecord,
): NormalizedRecord {
  if (record === null || typeof record !== 'object') {
    throw new KafkaError(
      '_INVALID_ARG',
      'produce() takes a record object { topic, key?, value, headers?, timestamp?, partition? }',
    )
  }
  const topic = validateTopic(record.topic)
  if (!('value' in record) || record.value === undefined) {
    throw new KafkaError('_INVALID_ARG', `record for ${topic} has no value (pass null for a tombstone)`)
  }
  // A string encodes to at least one UTF-8 byte per UTF-16 code unit: a record that cannot fit is
  // refused before a huge string is encoded only to be thrown away (a 200 MB string costs ~0.5 s
  // of event loop and its size again in memory to encode).
  const atLeast = minBytes(record.value) + minBytes(record.key)
  if (atLeast > maxRecordBytes) {
    throw new KafkaError(
      'MESSAGE_TOO_LARGE',
      `record for ${topic} has at least ${atLeast} bytes of key and value, over message.max.bytes=${maxRecordBytes}`,
      { retriable: false },
    )
  }
  const value = record.value === null ? null : toRecordBytes(record.value, 'value')
  const key = record.key === undefined || record.key === null ? null : toRecordBytes(record.key, 'key')
  let timestamp = now
  if (record.timestamp !== undefined && record.timestamp !== null) {
    const t = record.timestamp
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
      throw new KafkaError(
        '_INVALID_ARG',
        `timestamp must be a non-negative integer of ms since the epoch, got ${String(t)}`,
      )
    }
    timestamp = t
  }
  let partition = -1
  if (record.partition !== undefined && record.partition !== null && record.partition !== -1) {
    const p = record.partition
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 0x7fffffff) {
      throw new KafkaError('_INVALID_ARG', `partition must be a non-negative integer, got ${String(p)}`)
    }
    partition = p
  }
  const headers = normalizeHeaders(record.headers)
  const keyLength = byteLengthOf(key)
  const valueLength = byteLengthOf(value)
  return into === undefined
    ? new NormalizedRecord(topic, key, keyLength, value, valueLength, headers, timestamp, partition)
    : into.fill(topic, key, keyLength, value, valueLength, headers, timestamp, partition)
}
