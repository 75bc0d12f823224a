import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  codecForAttribute,
  getCodec,
  registerCodec,
  type Codec,
  type CompressionType,
} from '../../../src/compression/index.js'
import { loadOptional } from '../../../src/compression/optional.js'
import { KafkaError } from '../../../src/errors/index.js'

const ALL: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** > 1 MiB: compressible text, then incompressible bytes, so blocks of both kinds are exercised. */
function bigInput(): Buffer {
  const text = Buffer.from(
    Array.from({ length: 30_000 }, (_, i) => `{"event":"e-${i}","user":${i % 97}}`).join('\n'),
  )
  return Buffer.concat([text, randomBytes(512 * 1024), Buffer.from('tail')])
}

describe('compression registry', () => {
  for (const name of ALL.filter((n) => n !== 'none')) {
    it(`${name}: compressAsync (thread pool) output decodes to the input, at the bound level too`, async () => {
      const input = bigInput()
      const codec = getCodec(name)
      assert.equal(typeof codec.compressAsync, 'function', `${name} has an async path`)
      const async = await codec.compressAsync!(input)
      assert.ok(codec.decompress(async).equals(input))
      // node:zlib's async zstd streams the frame (no content size in its header), so only the
      // codecs whose two paths run the same encoder are compared byte for byte.
      if (name !== 'zstd') assert.ok(async.equals(codec.compress(input)))
      if (name === 'gzip' || name === 'zstd') {
        const leveled = getCodec(name, 1)
        const at1 = await leveled.compressAsync!(input)
        assert.ok(codec.decompress(at1).equals(input))
        // Level 1 and level 9 output differ, so the bound level really reached the encoder.
        const at9 = await getCodec(name, 9).compressAsync!(input)
        assert.notEqual(at1.length, at9.length)
      }
    })
  }

  it('none is the identity', () => {
    const data = Buffer.from('hello')
    assert.equal(getCodec('none').compress(data), data)
    assert.equal(codecForAttribute(0).name, 'none')
  })

  it('gzip round-trips and honours the level', () => {
    const data = Buffer.from('kafka '.repeat(1000))
    const gz = getCodec('gzip')
    assert.equal(gz.attribute, 1)
    const packed = gz.compress(data, 9)
    assert.ok(packed.length < data.length / 10)
    assert.deepEqual(gz.decompress(packed), data)
    assert.equal(codecForAttribute(0x11).name, 'gzip', 'only bits 0-2 select the codec')
  })

  for (const [i, name] of ALL.entries()) {
    it(`${name}: attribute ${i}, round trips of empty, small and > 1 MiB input`, () => {
      const codec = getCodec(name)
      assert.equal(codec.name, name)
      assert.equal(codec.attribute, i)
      assert.equal(codecForAttribute(i), codec)
      const big = bigInput()
      assert.ok(big.length > 1024 * 1024)
      for (const data of [Buffer.alloc(0), Buffer.from('x'), Buffer.from('kafka '.repeat(100)), big]) {
        const packed = codec.compress(data)
        assert.ok(codec.decompress(packed).equals(data), `${name}: ${data.length} bytes`)
      }
      if (name !== 'none') {
        const text = Buffer.from('kafka '.repeat(50_000))
        assert.ok(codec.compress(text).length < text.length / 10, `${name} compresses`)
      }
    })
  }

  it('getCodec(name, level) compresses at that level; null or undefined is the default', () => {
    const data = Buffer.from(
      Array.from({ length: 30_000 }, (_, i) => `${i % 1000}:${(i * 7919) % 10007},`).join(''),
    )
    for (const [name, low, high] of [
      ['gzip', 1, 9],
      ['zstd', 1, 19],
    ] as const) {
      const fast = getCodec(name, low)
      const best = getCodec(name, high)
      assert.equal(fast.name, name)
      assert.equal(fast.attribute, getCodec(name).attribute)
      const a = fast.compress(data)
      const b = best.compress(data)
      assert.ok(b.length < a.length, `${name}: level ${high} (${b.length}) < level ${low} (${a.length})`)
      assert.ok(fast.decompress(b).equals(data))
      assert.ok(getCodec(name).compress(data, high).equals(b), 'an explicit level still wins')
      assert.equal(getCodec(name, null), getCodec(name))
      assert.equal(getCodec(name, undefined), getCodec(name))
    }
    // No levels: snappy has none, lz4-napi's block compressor takes none. The level is ignored.
    for (const name of ['snappy', 'lz4'] as const) {
      assert.ok(getCodec(name, 0).compress(data).equals(getCodec(name).compress(data)))
    }
  })

  it('a missing optional package is _NOT_IMPLEMENTED naming the package and the install command', () => {
    assert.throws(
      () => loadOptional('reliable-kafka-no-such-codec-package', 'snappy'),
      (e: unknown) => {
        assert.ok(e instanceof KafkaError)
        assert.equal(e.code, '_NOT_IMPLEMENTED')
        assert.match(e.message, /compression\.type=snappy/)
        assert.match(e.message, /'reliable-kafka-no-such-codec-package'/)
        assert.match(e.message, /npm install reliable-kafka-no-such-codec-package/)
        return true
      },
    )
  })

  it('registerCodec adds a codec and checks its attribute', () => {
    const real = getCodec('zstd')
    const fake: Codec = { name: 'zstd', attribute: 4, compress: (d) => d, decompress: (d) => d }
    assert.throws(() => registerCodec({ ...fake, attribute: 3 }), KafkaError)
    try {
      registerCodec(fake)
      assert.equal(codecForAttribute(4), fake)
    } finally {
      registerCodec(real)
    }
  })

  it('unknown attribute values are _BAD_MSG', () => {
    assert.throws(
      () => codecForAttribute(7),
      (e: unknown) => e instanceof KafkaError && e.code === '_BAD_MSG',
    )
  })
})
