import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'
import { RecordBatchBuilder, decodeRecordBatches } from '../../../src/protocol/record-batch.js'
import { byteLengthOf, toBuffer, utf8Scratch } from '../../../src/protocol/record-bytes.js'

const T0 = 1_700_000_000_000
const opts = {
  producerId: 1n,
  producerEpoch: 0,
  baseSequence: 0,
  transactional: false,
  codec: getCodec('none'),
}

/**
 * Strings whose UTF-8 encoding has every shape the builder must get right: ASCII on both sides of
 * the JS-loop limit, 2-, 3- and 4-byte characters, lone surrogates (Buffer.from writes U+FFFD),
 * the empty string, and long strings that go through Buffer#write.
 */
const STRINGS: readonly string[] = [
  '',
  'k',
  'key-1',
  'key-123456',
  'x'.repeat(31),
  'x'.repeat(32),
  'x'.repeat(33),
  'a'.repeat(65),
  'j'.repeat(5000),
  '\x7f\x00\x01',
  'café', // 2-byte é
  'ÿ', // U+00FF: one Latin-1 unit, two UTF-8 bytes
  'Ω≈ç√∫', // 2 and 3 bytes
  '日本語のキー',
  '€',
  '😀', // surrogate pair: 4 bytes
  'a😀b𝄞c',
  '\ud800', // lone high surrogate
  '\udc00', // lone low surrogate
  'x\ud83dy', // high surrogate without its low one
  '\ude00\ud83d', // a pair in the wrong order
  'abc\ud800',
  '日'.repeat(40), // non-ASCII over the loop limit
  'é'.repeat(100) + 'a'.repeat(100),
]

function built(records: [key: string | Buffer | null, value: string | Buffer | null][]): Buffer {
  const b = new RecordBatchBuilder(64)
  for (const [k, v] of records) b.append(T0, k, v, null)
  return b.build(opts)
}

describe('string keys and values in a record batch', () => {
  it('byteLengthOf is the length of Buffer.from(s, "utf8"), -1 for null', () => {
    for (const s of STRINGS) assert.equal(byteLengthOf(s), Buffer.from(s, 'utf8').length, JSON.stringify(s))
    assert.equal(byteLengthOf(null), -1)
    assert.equal(byteLengthOf(Buffer.alloc(7)), 7)
    assert.equal(byteLengthOf('\ud800'), 3)
  })

  it('encodes each string exactly as a batch of Buffer.from(s) (key and value, one record each)', () => {
    for (const s of STRINGS) {
      const ours = built([[s, s]])
      const theirs = built([[Buffer.from(s, 'utf8'), Buffer.from(s, 'utf8')]])
      assert.deepEqual(ours, theirs, JSON.stringify(s))
    }
  })

  it('encodes many strings in one batch, mixed with Buffers and nulls, as Buffer.from would', () => {
    const records: [string | Buffer | null, string | Buffer | null][] = []
    for (const [i, s] of STRINGS.entries()) {
      records.push([s, STRINGS[(i + 7) % STRINGS.length]!])
      records.push([null, s])
      records.push([Buffer.from(s), null])
    }
    const asBuffers = records.map(([k, v]): [Buffer | null, Buffer | null] => [
      k === null ? null : Buffer.from(k),
      v === null ? null : Buffer.from(v),
    ])
    const ours = built(records)
    assert.deepEqual(ours, built(asBuffers))
    // And it reads back as those bytes.
    const decoded = decodeRecordBatches(ours)[0]!.records
    for (const [i, [k, v]] of asBuffers.entries()) {
      assert.deepEqual(decoded[i]!.key, k)
      assert.deepEqual(decoded[i]!.value, v)
    }
  })

  it('writes a string into a grown buffer (the batch starts smaller than the record)', () => {
    const s = '日本'.repeat(3000)
    const b = new RecordBatchBuilder(0)
    b.append(T0, 'k', s, null)
    assert.deepEqual(decodeRecordBatches(b.build(opts))[0]!.records[0]!.value, Buffer.from(s))
  })

  it('recordSizeUpperBound counts UTF-8 bytes: the same for a string as for its Buffer', () => {
    const headers = [['h', Buffer.from('x')]] as const
    for (const s of STRINGS) {
      const buf = Buffer.from(s, 'utf8')
      assert.equal(
        RecordBatchBuilder.recordSizeUpperBound(s, s, headers),
        RecordBatchBuilder.recordSizeUpperBound(buf, buf, headers),
        JSON.stringify(s),
      )
      assert.equal(
        RecordBatchBuilder.recordSizeBound(byteLengthOf(s), -1, null),
        RecordBatchBuilder.recordSizeUpperBound(buf, null, null),
      )
      // The bound still bounds what the record really takes.
      const b = new RecordBatchBuilder(64)
      const before = b.sizeInBytes
      b.append(T0, s, s, headers)
      assert.ok(b.sizeInBytes - before <= RecordBatchBuilder.recordSizeUpperBound(s, s, headers))
    }
  })

  it('bytesAt views of a string-built record are its UTF-8 bytes', () => {
    const b = new RecordBatchBuilder(64)
    b.append(T0, 'a😀', '\ud800é', null)
    assert.deepEqual(b.bytesAt(b.lastKeyStart, 5), Buffer.from('a😀'))
    assert.deepEqual(b.bytesAt(b.lastValueStart, 5), Buffer.from('\ud800é'))
  })

  it('toBuffer and utf8Scratch give the UTF-8 bytes', () => {
    for (const s of STRINGS) {
      assert.deepEqual(toBuffer(s), Buffer.from(s, 'utf8'))
      assert.deepEqual(Buffer.from(utf8Scratch(s)), Buffer.from(s, 'utf8'), JSON.stringify(s))
    }
    const buf = Buffer.from('x')
    assert.equal(toBuffer(buf), buf)
    assert.equal(toBuffer(null), null)
    assert.deepEqual(Buffer.from(utf8Scratch('é'.repeat(40_000))), Buffer.from('é'.repeat(40_000)))
  })
})
