import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'
import { crc32c } from '../../../src/protocol/crc32c.js'
import { KafkaError } from '../../../src/errors/index.js'
import { RecordBatchBuilder, decodeRecordBatches } from '../../../src/protocol/record-batch.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex')

const T0 = 1_700_000_000_000 // 0x0000018BCFE56800
const producer = { producerId: 1000n, producerEpoch: 5, baseSequence: 7, transactional: false }

function twoRecordBatch(): RecordBatchBuilder {
  const b = new RecordBatchBuilder(128)
  b.append(T0, Buffer.from('k1'), Buffer.from('v1'), [['h', Buffer.from('x')]])
  b.append(T0 + 5, null, Buffer.from('v2'), null)
  return b
}

// Derived by hand from the v2 layout (KIP-98). Varints are zigzag: n >= 0 -> 2n, -1 -> 1.
const GOLDEN = hex(`
  0000000000000000   // baseOffset 0 (the broker assigns offsets)
  00000049           // batchLength = 85 total - 12 (baseOffset + batchLength)
  ffffffff           // partitionLeaderEpoch -1
  02                 // magic 2
  33a05533           // CRC32C of bytes 21..84 (checked below against crc32c())
  0000               // attributes: no compression, create time, not transactional, not control
  00000001           // lastOffsetDelta = 1 (two records)
  0000018bcfe56800   // baseTimestamp = first record's timestamp
  0000018bcfe56805   // maxTimestamp = T0 + 5
  00000000000003e8   // producerId 1000
  0005               // producerEpoch 5
  00000007           // baseSequence 7
  00000002           // records count 2
  // record 0: length 14 -> 1c
  1c 00              // length, attributes
  00 00              // timestampDelta 0, offsetDelta 0
  04 6b31            // key length 2, "k1"
  04 7631            // value length 2, "v1"
  02                 // 1 header
  02 68 02 78        // header key length 1 "h", value length 1 "x"
  // record 1: length 8 -> 10
  10 00              // length, attributes
  0a 02              // timestampDelta 5 -> 0a, offsetDelta 1 -> 02
  01                 // key length -1 (null)
  04 7632            // value length 2, "v2"
  00                 // no headers
`)

describe('RecordBatch v2', () => {
  it('builds the golden bytes', () => {
    const b = twoRecordBatch()
    assert.equal(b.count, 2)
    assert.equal(b.sizeInBytes, GOLDEN.length)
    const out = b.build({ ...producer, codec: getCodec('none') })
    assert.equal(out.toString('hex'), GOLDEN.toString('hex'))
    assert.equal(crc32c(GOLDEN.subarray(21)), GOLDEN.readUInt32BE(17))
  })

  it('decodes the golden bytes', () => {
    const [batch, ...rest] = decodeRecordBatches(GOLDEN)
    assert.equal(rest.length, 0)
    assert.ok(batch)
    assert.equal(batch.producerId, 1000n)
    assert.equal(batch.producerEpoch, 5)
    assert.equal(batch.baseSequence, 7)
    assert.equal(batch.compression, 'none')
    assert.equal(batch.timestampType, 'create')
    assert.equal(batch.transactional, false)
    assert.equal(batch.lastOffsetDelta, 1)
    assert.equal(batch.maxTimestamp, T0 + 5)
    assert.deepEqual(batch.records, [
      {
        offset: 0n,
        timestamp: T0,
        key: Buffer.from('k1'),
        value: Buffer.from('v1'),
        headers: [['h', Buffer.from('x')]],
      },
      { offset: 1n, timestamp: T0 + 5, key: null, value: Buffer.from('v2'), headers: [] },
    ])
  })

  it('re-stamps the header on a second build without touching the first result', () => {
    const b = twoRecordBatch()
    const first = b.build({ ...producer, codec: getCodec('none') })
    const firstHex = first.toString('hex')
    const second = b.build({
      ...producer,
      producerEpoch: 6,
      baseSequence: 0,
      transactional: true,
      codec: getCodec('none'),
    })
    assert.equal(first.toString('hex'), firstHex)
    const [d] = decodeRecordBatches(second)
    assert.equal(d?.producerEpoch, 6)
    assert.equal(d?.transactional, true)
    assert.equal(d?.records.length, 2)
  })

  it('builds in place again, without a copy, after a build that was never handed on', () => {
    const b = twoRecordBatch()
    const first = b.build({ ...producer, codec: getCodec('none') })
    b.discardUnsentBuild()
    const second = b.build({ ...producer, producerEpoch: 6, codec: getCodec('none') })
    // The same memory: the header was stamped again in the builder's own buffer.
    assert.equal(second.buffer, first.buffer)
    assert.equal(second.byteOffset, first.byteOffset)
    assert.equal(decodeRecordBatches(second)[0]?.producerEpoch, 6)
    // Without the discard the next build copies, as for a result that went out.
    const third = b.build({ ...producer, producerEpoch: 7, codec: getCodec('none') })
    assert.ok(third.buffer !== second.buffer || third.byteOffset !== second.byteOffset, 'a copy')
    assert.equal(decodeRecordBatches(second)[0]?.producerEpoch, 6)
    // Still no appends after a build.
    assert.throws(() => b.append(T0, null, Buffer.from('late'), null), /after build/)
  })

  it('gzip batches round-trip and compress once', () => {
    const b = new RecordBatchBuilder(64)
    for (let i = 0; i < 100; i++)
      b.append(T0 + i, Buffer.from(`key-${i}`), Buffer.from('x'.repeat(100)), null)
    let calls = 0
    const gzip = getCodec('gzip')
    const counting = { ...gzip, compress: (d: Buffer) => (calls++, gzip.compress(d)) }
    const out1 = b.build({ ...producer, codec: counting })
    const out2 = b.build({ ...producer, producerEpoch: 9, codec: counting })
    assert.equal(calls, 1)
    assert.ok(out1.length < b.sizeInBytes / 4)
    const [d] = decodeRecordBatches(out2)
    assert.equal(d?.compression, 'gzip')
    assert.equal(d?.producerEpoch, 9)
    assert.equal(d?.records.length, 100)
    assert.deepEqual(d?.records[99]?.key, Buffer.from('key-99'))
    assert.equal(d?.records[99]?.timestamp, T0 + 99)
  })

  it('handles out-of-order timestamps (negative deltas) and large deltas', () => {
    const b = new RecordBatchBuilder(10)
    b.append(T0, null, null, null)
    b.append(T0 - 1000, null, null, null)
    b.append(T0 + 2 ** 40, null, null, [['k', null]])
    const [d] = decodeRecordBatches(b.build({ ...producer, codec: getCodec('none') }))
    assert.deepEqual(
      d?.records.map((r) => r.timestamp),
      [T0, T0 - 1000, T0 + 2 ** 40],
    )
    assert.equal(d?.baseTimestamp, T0)
    assert.equal(d?.maxTimestamp, T0 + 2 ** 40)
    assert.deepEqual(d?.records[2]?.headers, [['k', null]])
  })

  it('recordSizeUpperBound bounds the real growth', () => {
    const b = new RecordBatchBuilder(10)
    const headers = [['ünïcode', Buffer.alloc(300)]] as const
    const before = b.sizeInBytes
    b.append(T0 + 2 ** 40, Buffer.alloc(200), Buffer.alloc(70000), headers)
    const grown = b.sizeInBytes - before
    const bound = RecordBatchBuilder.recordSizeUpperBound(Buffer.alloc(200), Buffer.alloc(70000), headers)
    assert.ok(grown <= bound, `${grown} <= ${bound}`)
  })

  it('decodes consecutive batches and ignores a truncated trailing batch', () => {
    const two = Buffer.concat([GOLDEN, GOLDEN, GOLDEN.subarray(0, 40)])
    assert.equal(decodeRecordBatches(two).length, 2)
  })

  it('rejects a CRC mismatch with _BAD_MSG', () => {
    const bad = Buffer.from(GOLDEN)
    bad[bad.length - 2] ^= 1
    assert.throws(
      () => decodeRecordBatches(bad),
      (e: unknown) => e instanceof KafkaError && e.code === '_BAD_MSG',
    )
  })
})
