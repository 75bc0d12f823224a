import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'

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
