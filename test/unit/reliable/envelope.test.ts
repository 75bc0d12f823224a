// The dead-letter envelope: bytes carried as text or base64 and read back exactly, the cut that makes
// an envelope fit, and the record a replay reads back from it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import {
  buildEnvelope,
  deadLetterHeaders,
  decodeBytes,
  encodeBytes,
  fitEnvelope,
  recordFromEnvelope,
  recordOverhead,
  withoutValue,
  type FailedRecord,
} from '../../../src/reliable/envelope.js'

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const ERR = new KafkaError('MESSAGE_TOO_LARGE', 'produce to t[0]: too large')

function failed(over: Partial<FailedRecord> = {}): FailedRecord {
  return {
    topic: 't',
    partition: 2,
    key: null,
    value: null,
    headers: [],
    timestamp: null,
    attempts: 3,
    ...over,
  }
}

function roundTrip(b: Buffer | null): Buffer | null {
  // Through JSON text, as the envelope travels.
  const { text, encoding } = JSON.parse(JSON.stringify(encodeBytes(b))) as ReturnType<typeof encodeBytes>
  return decodeBytes(text, encoding, 'test')
}

describe('envelope: bytes', () => {
  it('all 256 byte values, together and each alone, come back exactly', () => {
    assert.deepEqual(encodeBytes(ALL_BYTES).encoding, 'base64')
    assert.deepEqual(roundTrip(ALL_BYTES), ALL_BYTES)
    for (let i = 0; i < 256; i++) {
      const b = Buffer.from([i])
      assert.deepEqual(roundTrip(b), b, `byte ${i}`)
      assert.equal(encodeBytes(b).encoding, i < 0x80 ? 'utf8' : 'base64', `byte ${i}`)
    }
  })

  it('valid UTF-8 travels as text (a BOM, NUL and multi-byte characters kept); anything else as base64', () => {
    for (const s of ['', 'plain', 'é ü 中文 😀', '\ufeffwith BOM', 'nul\u0000inside', '\u2028line sep']) {
      const b = Buffer.from(s, 'utf8')
      assert.deepEqual(encodeBytes(b), { text: s, encoding: 'utf8' })
      assert.deepEqual(roundTrip(b), b)
    }
    const invalid = [
      [0x80], // a lone continuation byte
      [0xc0, 0x80], // an overlong NUL
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate
      [0xe2, 0x82], // a truncated sequence
      [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
      [0x61, 0xff, 0x62],
    ]
    for (const bytes of invalid) {
      const b = Buffer.from(bytes)
      assert.equal(encodeBytes(b).encoding, 'base64', bytes.join(','))
      assert.deepEqual(roundTrip(b), b)
    }
    assert.deepEqual(encodeBytes(null), { text: null, encoding: null })
    assert.throws(() => decodeBytes('x', 'hex' as never, 'original_key'), { code: '_INVALID_ARG' })
  })
})

describe('envelope: build, headers, read back', () => {
  it('a record read back from its envelope is the record that failed, byte for byte', () => {
    const rec = failed({
      key: ALL_BYTES,
      value: Buffer.concat([Buffer.from('text then binary: '), ALL_BYTES]),
      headers: [
        ['a', Buffer.from('x')],
        ['bin', ALL_BYTES],
        ['none', null],
        ['a', Buffer.from('again')],
      ],
      timestamp: 1_700_000_000_123,
    })
    const env = JSON.parse(JSON.stringify(buildEnvelope(rec, ERR, 0))) as ReturnType<typeof buildEnvelope>
    assert.deepEqual(recordFromEnvelope(env), {
      topic: 't',
      key: rec.key,
      value: rec.value,
      headers: rec.headers,
      timestamp: rec.timestamp,
    })
    assert.deepEqual(
      [env.original_partition, env.attempts, env.error_code, env.error, env.error_retriable, env.failed_at],
      [2, 3, 'MESSAGE_TOO_LARGE', ERR.message, false, '1970-01-01T00:00:00.000Z'],
    )
    const none = recordFromEnvelope(buildEnvelope(failed({ partition: -1, attempts: 0 }), ERR, 0))
    assert.deepEqual(none, { topic: 't', key: null, value: null, headers: [] })
    assert.equal(buildEnvelope(failed({ partition: -1, attempts: 0 }), ERR, 0).original_partition, null)
    assert.equal(buildEnvelope(failed({ attempts: 0 }), ERR, 0).attempts, 1, 'at least 1')
  })

  it('the Kafka headers: original ones renamed original.<name> with their bytes, then dlq.error_code', () => {
    const rec = failed({
      headers: [
        ['h', ALL_BYTES],
        ['n', null],
      ],
    })
    assert.deepEqual(deadLetterHeaders(rec, ERR), [
      ['original.h', ALL_BYTES],
      ['original.n', null],
      ['dlq.error_code', Buffer.from('MESSAGE_TOO_LARGE')],
    ])
  })

  it('refuses to read back a truncated value or an unknown version', () => {
    const value = Buffer.alloc(100, 'v')
    const env = buildEnvelope(failed({ value }), ERR, 0)
    assert.throws(() => recordFromEnvelope(withoutValue(env, value)), {
      code: '_INVALID_ARG',
      message: /first bytes/,
    })
    assert.throws(() => recordFromEnvelope({ ...env, envelope_version: 2 as 1 }), { code: '_INVALID_ARG' })
  })
})

describe('envelope: the cut to fit', () => {
  const size = (env: object, overhead: number): number => overhead + Buffer.byteLength(JSON.stringify(env))

  it('an envelope that fits is not cut', () => {
    const value = Buffer.from('small')
    const env = buildEnvelope(failed({ value }), ERR, 0)
    assert.equal(fitEnvelope(env, value, 100, 1_000_000), env)
  })

  it('UTF-8: the longest prefix that fits, ending on a whole character, every other field kept', () => {
    const value = Buffer.from('aé😀"\\\n'.repeat(500), 'utf8')
    const key = Buffer.from('k')
    const env = buildEnvelope(failed({ key, value }), ERR, 0)
    const overhead = recordOverhead(key, deadLetterHeaders(failed({ key }), ERR))
    for (const limit of [700, 1_000, 2_345, 5_000]) {
      const cut = fitEnvelope(env, value, overhead, limit)
      assert.ok(size(cut, overhead) <= limit, `limit ${limit}`)
      assert.equal(cut.original_value_truncated, true)
      assert.equal(cut.original_value_encoding, 'utf8')
      assert.equal(cut.original_value_bytes, value.length)
      const kept = Buffer.from(cut.original_value!, 'utf8')
      assert.deepEqual(kept, value.subarray(0, kept.length), 'a prefix of the bytes')
      assert.ok(!cut.original_value!.includes('\ufffd'), 'no character cut in half')
      // One more character would not fit.
      const chars = [...value.toString('utf8')]
      const longer = { ...cut, original_value: chars.slice(0, [...cut.original_value!].length + 1).join('') }
      assert.ok(size(longer, overhead) > limit, `limit ${limit}: a longer prefix would fit`)
      const { original_value: _a, original_value_truncated: _b, ...rest } = cut
      const { original_value: _c, original_value_truncated: _d, ...full } = env
      assert.deepEqual(rest, full)
    }
  })

  it('binary: a base64 prefix of the bytes', () => {
    const value = Buffer.concat(Array.from({ length: 20 }, () => ALL_BYTES))
    const env = buildEnvelope(failed({ value }), ERR, 0)
    const cut = fitEnvelope(env, value, 100, 3_000)
    assert.ok(size(cut, 100) <= 3_000)
    assert.equal(cut.original_value_encoding, 'base64')
    const kept = Buffer.from(cut.original_value!, 'base64')
    assert.ok(kept.length > 1_500, `kept ${kept.length}`)
    assert.deepEqual(kept, value.subarray(0, kept.length))
  })

  it('when nothing but the metadata can fit, the value is dropped; when not even that, it is returned anyway', () => {
    const value = Buffer.alloc(10_000, 'x')
    const env = buildEnvelope(failed({ value }), ERR, 0)
    const bare = size(withoutValue(env, value), 0)
    const cut = fitEnvelope(env, value, 0, bare)
    assert.deepEqual([cut.original_value, cut.original_value_truncated], ['', true])
    const over = fitEnvelope(env, value, 0, bare - 1)
    assert.deepEqual([over.original_value, over.original_value_truncated], ['', true])
  })
})
