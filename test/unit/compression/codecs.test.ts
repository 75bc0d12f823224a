import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { codecForAttribute, getCodec, registerCodec, type Codec } from '../../../src/compression/index.js'
import { KafkaError } from '../../../src/protocol/errors.js'

describe('compression registry', () => {
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

  for (const name of ['snappy', 'zstd'] as const) {
    it(`${name} is not registered yet: _NOT_IMPLEMENTED naming it`, () => {
      assert.throws(
        () => getCodec(name),
        (e: unknown) => {
          assert.ok(e instanceof KafkaError)
          assert.equal(e.code, '_NOT_IMPLEMENTED')
          assert.match(e.message, new RegExp(name))
          assert.match(e.message, /not available yet/)
          return true
        },
      )
    })
  }

  it('registerCodec adds a codec and checks its attribute', () => {
    const fake: Codec = { name: 'zstd', attribute: 4, compress: (d) => d, decompress: (d) => d }
    assert.throws(() => registerCodec({ ...fake, attribute: 3 }), KafkaError)
    registerCodec(fake)
    assert.equal(codecForAttribute(4), fake)
  })

  it('unknown attribute values are _BAD_MSG', () => {
    assert.throws(
      () => codecForAttribute(7),
      (e: unknown) => e instanceof KafkaError && e.code === '_BAD_MSG',
    )
  })
})
