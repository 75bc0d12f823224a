import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'
import { lz4Frame } from '../../../src/compression/lz4-frame.js'
import { KafkaError } from '../../../src/errors/index.js'

test('lz4 writes a standard LZ4 frame with independent blocks, as Kafka requires', () => {
  const codec = getCodec('lz4')
  assert.equal(codec.attribute, 3)
  const data = Buffer.from('kafka '.repeat(50_000))
  const frame = codec.compress(data)
  assert.equal(frame.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic')
  const flg = frame[4]!
  assert.equal(flg >> 6, 1, 'frame version 01')
  assert.equal((flg >> 5) & 1, 1, 'block independence flag set')
  assert.ok(frame.length < data.length / 10)
  assert.ok(codec.decompress(frame).equals(data))
})

// The frame is ours (src/compression/lz4-frame.ts) around lz4-napi's blocks, so its header, its block
// boundaries and its stored blocks are checked here against lz4-napi's own frame encoder and decoder.
const lz4 = createRequire(import.meta.url)('lz4-napi') as {
  compressFrameSync(data: Buffer): Buffer
  decompressFrameSync(data: Buffer): Buffer
}

/** The frame's blocks: [stored uncompressed?, bytes in the frame] each, after the 7-byte header. */
function blocksOf(frame: Buffer): [boolean, number][] {
  const out: [boolean, number][] = []
  let at = 7
  for (;;) {
    const field = frame.readUInt32LE(at)
    if (field === 0) break
    const size = field & 0x7fffffff
    out.push([field >>> 31 === 1, size])
    at += 4 + size
  }
  assert.equal(at + 4, frame.length, 'the end mark ends the frame (no content checksum)')
  return out
}

test("lz4's frame header (64 KiB blocks, no checksums) is the one lz4's own encoder writes for them", () => {
  const data = Buffer.from('kafka '.repeat(1_000))
  const ours = getCodec('lz4').compress(data)
  // lz4-napi picks 64 KiB blocks (BD 0x40) for an input this small: its header must equal ours,
  // header checksum (xxHash32 of FLG and BD) included.
  const theirs = lz4.compressFrameSync(data)
  assert.equal(theirs[5], 0x40)
  assert.deepEqual([...ours.subarray(0, 7)], [...theirs.subarray(0, 7)])
  assert.ok(lz4.decompressFrameSync(ours).equals(data))
})

test('lz4 cuts the records into 64 KiB blocks and stores a block that does not shrink as it is', async () => {
  const codec = getCodec('lz4')
  // 150 KiB compressible, then 100 KiB of random bytes: blocks 1-2 compressed, 3 mixed, 4 stored.
  const data = Buffer.concat([Buffer.from('kafka '.repeat(25_600)), randomBytes(100 * 1024)])
  const frame = codec.compress(data)
  const blocks = blocksOf(frame)
  assert.equal(blocks.length, 4)
  assert.deepEqual(
    blocks.map(([stored]) => stored),
    [false, false, false, true],
  )
  assert.equal(blocks[3]![1], data.length - 3 * 64 * 1024, 'a stored block holds its input as it is')
  assert.ok(lz4.decompressFrameSync(frame).equals(data))
  assert.ok(codec.decompress(frame).equals(data))
  // Off the JavaScript thread, the same bytes.
  assert.ok((await codec.compressAsync!(data)).equals(frame))
})

test('lz4 of incompressible records is never larger than the records plus the framing', () => {
  const data = Buffer.from(randomBytes(45_000).toString('base64')) // 60,000 bytes: one block
  const frame = getCodec('lz4').compress(data)
  assert.deepEqual(blocksOf(frame), [[true, data.length]])
  assert.equal(frame.length, 7 + 4 + data.length + 4)
  assert.ok(lz4.decompressFrameSync(frame).equals(data))
})

test('an empty input is a frame with no block', () => {
  const frame = getCodec('lz4').compress(Buffer.alloc(0))
  assert.equal(frame.length, 11)
  assert.equal(lz4.decompressFrameSync(frame).length, 0)
})

test("lz4Frame refuses a block whose compressor's length prefix is not its input's length", () => {
  const block = Buffer.from('abc')
  const packed = Buffer.from([4, 0, 0, 0, 0x30, 0x61, 0x62, 0x63])
  assert.throws(
    () => lz4Frame([block], [packed]),
    (e: unknown) => e instanceof KafkaError && e.code === '_BAD_COMPRESSION',
  )
})
