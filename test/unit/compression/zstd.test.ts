// zstd: standard frames from node:zlib (Node >= 22.15) or from @toondepauw/node-zstd, interchangeable.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'
import { createZstdCodec, hasZlibZstd, type ZstdImplementation } from '../../../src/compression/zstd.js'
import { KafkaError } from '../../../src/errors/index.js'

const ZSTD_MAGIC = 0xfd2fb528 // 28 B5 2F FD, little-endian
const data = Buffer.from(
  Array.from({ length: 40_000 }, (_, i) => `{"seq":${i},"kind":"k${i % 13}"}`).join(','),
)

describe('zstd', () => {
  it(`the registered codec uses ${hasZlibZstd() ? 'node:zlib' : '@toondepauw/node-zstd'} on Node ${process.version}`, () => {
    const codec = getCodec('zstd')
    assert.equal(codec.attribute, 4)
    const frame = codec.compress(data)
    assert.equal(frame.readUInt32LE(0), ZSTD_MAGIC)
    assert.ok(codec.decompress(frame).equals(data))
  })

  const impls: ZstdImplementation[] = hasZlibZstd() ? ['zlib', 'package'] : ['package']
  for (const impl of impls) {
    it(`${impl}: standard frames (magic 28 B5 2F FD), levels, empty input`, () => {
      const codec = createZstdCodec(impl)
      for (const input of [Buffer.alloc(0), data]) {
        const frame = codec.compress(input)
        assert.deepEqual([...frame.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd])
        assert.ok(codec.decompress(frame).equals(input))
      }
      const l1 = codec.compress(data, 1)
      const l19 = codec.compress(data, 19)
      assert.ok(l19.length < l1.length, `level 19 (${l19.length}) < level 1 (${l1.length})`)
      assert.ok(codec.decompress(l19).equals(data))
    })

    it(`${impl}: corrupt data is _BAD_MSG`, () => {
      const codec = createZstdCodec(impl)
      const frame = Buffer.from(codec.compress(data))
      assert.throws(
        () => codec.decompress(frame.subarray(0, frame.length >> 1)),
        (e: unknown) => e instanceof KafkaError && e.code === '_BAD_MSG',
      )
    })
  }

  it(
    'node:zlib and @toondepauw/node-zstd read each other’s frames',
    { skip: !hasZlibZstd() && 'no zstd in node:zlib' },
    () => {
      const z = createZstdCodec('zlib')
      const p = createZstdCodec('package')
      for (const level of [1, 3, 9]) {
        assert.ok(p.decompress(z.compress(data, level)).equals(data))
        assert.ok(z.decompress(p.compress(data, level)).equals(data))
      }
    },
  )

  it(
    'forcing node:zlib where it has no zstd is _NOT_IMPLEMENTED',
    { skip: hasZlibZstd() && 'this Node has zstd' },
    () => {
      assert.throws(
        () => createZstdCodec('zlib'),
        (e: unknown) => e instanceof KafkaError && e.code === '_NOT_IMPLEMENTED',
      )
    },
  )
})
