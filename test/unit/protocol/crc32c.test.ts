import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32c, crc32cImplementation, crc32cPortable } from '../../../src/protocol/crc32c.js'

describe('crc32c', () => {
  it('matches the standard check value for "123456789"', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  })
  it('is 0 for empty input', () => {
    assert.equal(crc32c(Buffer.alloc(0)), 0)
  })
  it('matches RFC 3720 (iSCSI) vector: 32 zero bytes -> 0x8A9136AA', () => {
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa)
  })
  it('RFC 3720 vector: 32 bytes of 0xFF -> 0x62A8AB43', () => {
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
  })
  it('is the same computed in pieces, at any offset and length (slicing-by-8 tail handling)', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) & 0xff))
    const whole = crc32c(data)
    for (const cut of [1, 7, 8, 9, 333]) {
      assert.equal(crc32c(data, crc32c(data, 0, 0, cut), cut), whole)
    }
    assert.equal(crc32c(data, 0, 3, 20), crc32c(data.subarray(3, 20)))
  })
})

describe('crc32c native and portable agree', () => {
  it('uses @node-rs/crc32 when installed (it is an optional dependency of this package)', () => {
    assert.equal(
      crc32cImplementation,
      process.env['RELIABLE_KAFKA_PORTABLE_CRC'] === '1' ? 'portable' : 'native',
    )
  })
  it('gives the portable result for every size, offset and continuation', () => {
    let seed = 1
    const data = Buffer.alloc(70_000)
    for (let i = 0; i < data.length; i++) data[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff
    for (const [start, end] of [
      [0, 0],
      [0, 63],
      [0, 64],
      [3, 1000],
      [17, 70_000],
      [65_000, 70_000],
    ] as const) {
      assert.equal(crc32c(data, 0, start, end), crc32cPortable(data, 0, start, end), `[${start}, ${end})`)
    }
    const view = new Uint8Array(data.buffer, data.byteOffset + 5, 9_000)
    assert.equal(crc32c(view), crc32cPortable(view))
    const first = crc32c(data, 0, 0, 30_000)
    assert.equal(crc32c(data, first, 30_000, 70_000), crc32cPortable(data))
  })
})
