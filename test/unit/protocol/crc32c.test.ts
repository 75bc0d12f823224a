import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32c } from '../../../src/protocol/crc32c.js'

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
