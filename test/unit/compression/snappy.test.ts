// Snappy as Kafka's Java client writes it: snappy-java's xerial framing around raw snappy blocks.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'
import { XERIAL_BLOCK_SIZE } from '../../../src/compression/snappy.js'
import { KafkaError } from '../../../src/errors/index.js'

const snappy = createRequire(import.meta.url)('snappy') as {
  compressSync(data: Buffer): Buffer
}
const HEADER = Buffer.from([
  0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
])

test('snappy writes the xerial header: magic, version 1, compatible version 1', () => {
  const codec = getCodec('snappy')
  assert.equal(codec.attribute, 2)
  const packed = codec.compress(Buffer.from('hello kafka'))
  assert.deepEqual(packed.subarray(0, 16), HEADER)
  assert.equal(packed.readInt32BE(16), packed.length - 20)
  assert.deepEqual(packed.subarray(20), snappy.compressSync(Buffer.from('hello kafka')), 'a raw block')
  assert.deepEqual(codec.compress(Buffer.alloc(0)), HEADER, 'empty input: the header alone')
})

test('snappy cuts the input into 32 KiB blocks, each with a big-endian length, as SnappyOutputStream', () => {
  const codec = getCodec('snappy')
  const data = Buffer.from('0123456789abcdef'.repeat(5_000)) // 80,000 bytes: blocks of 32 KiB, 32 KiB, 14,464
  const packed = codec.compress(data)
  let at = 16
  const blocks: Buffer[] = []
  while (at < packed.length) {
    const len = packed.readInt32BE(at)
    blocks.push(packed.subarray(at + 4, at + 4 + len))
    at += 4 + len
  }
  assert.equal(at, packed.length)
  assert.equal(blocks.length, 3)
  for (const [i, block] of blocks.entries()) {
    const chunk = data.subarray(i * XERIAL_BLOCK_SIZE, (i + 1) * XERIAL_BLOCK_SIZE)
    assert.deepEqual(block, snappy.compressSync(chunk))
  }
  assert.ok(codec.decompress(packed).equals(data))
})

test('snappy decodes a plain raw snappy block too (as librdkafka and snappy-java do)', () => {
  const codec = getCodec('snappy')
  const data = Buffer.from('raw snappy from some other producer '.repeat(3_000))
  assert.ok(codec.decompress(snappy.compressSync(data)).equals(data))
  assert.deepEqual(codec.decompress(snappy.compressSync(Buffer.alloc(0))), Buffer.alloc(0))
})

test('snappy decodes xerial data whose input was cut into blocks of another size', () => {
  // snappy-java lets a writer choose the block size; the reader must not assume 32 KiB.
  const data = Buffer.from('block size does not matter to the reader. '.repeat(4_000))
  const parts: Buffer[] = [HEADER]
  for (let at = 0; at < data.length; at += 1000) {
    const block = snappy.compressSync(data.subarray(at, at + 1000))
    const len = Buffer.alloc(4)
    len.writeInt32BE(block.length)
    parts.push(len, block)
  }
  assert.ok(getCodec('snappy').decompress(Buffer.concat(parts)).equals(data))
})

test('truncated or corrupt snappy data is _BAD_MSG', () => {
  const codec = getCodec('snappy')
  const packed = codec.compress(Buffer.from('some data to cut short '.repeat(100)))
  const isBadMsg = (e: unknown): boolean => e instanceof KafkaError && e.code === '_BAD_MSG'
  assert.throws(() => codec.decompress(packed.subarray(0, packed.length - 3)), isBadMsg)
  assert.throws(() => codec.decompress(packed.subarray(0, 18)), isBadMsg)
  const negative = Buffer.from(packed)
  negative.writeInt32BE(-1, 16)
  assert.throws(() => codec.decompress(negative), isBadMsg)
  assert.throws(() => codec.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])), isBadMsg)
})
