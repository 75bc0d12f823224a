import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { Reader } from '../../../src/protocol/reader.js'
import {
  REF_THRESHOLD,
  Writer,
  sizeOfUvarint,
  sizeOfVarint,
  sizeOfVarlong,
} from '../../../src/protocol/writer.js'

const roundTrip = (write: (w: Writer) => void): Reader => {
  const w = new Writer(16)
  write(w)
  return new Reader(w.finish())
}

describe('Writer/Reader primitives', () => {
  it('round-trips fixed-width integers, floats, bools and uuids', () => {
    const uuid = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex')
    const r = roundTrip((w) =>
      w
        .int8(-128)
        .int16(-32768)
        .uint16(65535)
        .int32(-2147483648)
        .uint32(4294967295)
        .int64(-(2n ** 63n))
        .float64(Math.PI)
        .bool(true)
        .bool(false)
        .uuid(uuid),
    )
    assert.equal(r.int8(), -128)
    assert.equal(r.int16(), -32768)
    assert.equal(r.uint16(), 65535)
    assert.equal(r.int32(), -2147483648)
    assert.equal(r.uint32(), 4294967295)
    assert.equal(r.int64(), -(2n ** 63n))
    assert.equal(r.float64(), Math.PI)
    assert.equal(r.bool(), true)
    assert.equal(r.bool(), false)
    assert.deepEqual(r.uuid(), uuid)
    assert.equal(r.remaining, 0)
  })

  it('writes big-endian', () => {
    const w = new Writer()
    w.int16(0x0102).int32(0x03040506)
    assert.equal(w.finish().toString('hex'), '010203040506')
  })

  for (const v of [0, -1, 1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31)]) {
    it(`varint ${v}`, () => {
      const w = new Writer()
      w.varint(v)
      const buf = w.finish()
      assert.equal(buf.length, sizeOfVarint(v))
      assert.equal(new Reader(buf).varint(), v)
    })
  }

  it('varint bytes follow zigzag (0 -> 00, -1 -> 01, 1 -> 02, 2^31-1 -> fe ff ff ff 0f)', () => {
    const enc = (v: number): string => new Writer().varint(v).finish().toString('hex')
    assert.equal(enc(0), '00')
    assert.equal(enc(-1), '01')
    assert.equal(enc(1), '02')
    assert.equal(enc(2 ** 31 - 1), 'feffffff0f')
    assert.equal(enc(-(2 ** 31)), 'ffffffff0f')
  })

  const longs = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1700000000000, 2 ** 53 - 1, -(2 ** 53 - 1)]
  for (const v of longs) {
    it(`varlong ${v} (number and bigint agree)`, () => {
      const a = new Writer().varlong(v).finish()
      const b = new Writer().varlong(BigInt(v)).finish()
      assert.deepEqual(a, b)
      assert.equal(a.length, sizeOfVarlong(v))
      assert.equal(new Reader(a).varlong(), v)
      assert.equal(new Reader(a).varlongBig(), BigInt(v))
    })
  }

  it('varlong 2^53-1 encodes as zigzag 2^54-2', () => {
    const expected = new Writer().varlong(2n ** 53n - 1n).finish()
    assert.equal(expected.toString('hex'), 'feffffffffffff1f')
    assert.equal(
      new Writer()
        .varlong(2 ** 53 - 1)
        .finish()
        .toString('hex'),
      'feffffffffffff1f',
    )
  })

  it('varlong handles the int64 extremes as bigint', () => {
    for (const v of [2n ** 63n - 1n, -(2n ** 63n)]) {
      const buf = new Writer().varlong(v).finish()
      assert.equal(buf.length, 10)
      assert.equal(new Reader(buf).varlongBig(), v)
      assert.throws(
        () => new Reader(buf).varlong(),
        (e: unknown) => e instanceof KafkaError && e.code === '_BAD_MSG',
      )
    }
  })

  it('sizeOf* agree with the bytes written on both sides of every power of two', () => {
    for (let j = 0; j <= 52; j++) {
      for (const v of [2 ** j - 1, 2 ** j, -(2 ** j), 1 - 2 ** j]) {
        assert.equal(sizeOfVarlong(v), new Writer().varlong(v).finish().length, `varlong ${v}`)
      }
    }
    for (let j = 0; j <= 31; j++) {
      for (const v of [2 ** j - 1, 2 ** j, -(2 ** j), 1 - 2 ** j]) {
        if (v < -(2 ** 31) || v > 2 ** 31 - 1) continue
        assert.equal(sizeOfVarint(v), new Writer().varint(v).finish().length, `varint ${v}`)
      }
      for (const v of [2 ** j - 1, 2 ** j, 2 ** (j + 1) - 1]) {
        if (v > 2 ** 32 - 1) continue
        assert.equal(sizeOfUvarint(v), new Writer().uvarint(v).finish().length, `uvarint ${v}`)
      }
    }
  })

  it('unsigned varints up to 2^32-1', () => {
    for (const v of [0, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1]) {
      const buf = new Writer().uvarint(v).finish()
      assert.equal(buf.length, sizeOfUvarint(v))
      assert.equal(new Reader(buf).uvarint(), v)
    }
  })

  it('strings: classic, nullable, compact, compact nullable, utf8', () => {
    const r = roundTrip((w) =>
      w
        .string('héllo')
        .nullableString(null)
        .nullableString('x')
        .compactString('')
        .compactNullableString(null)
        .compactNullableString('ü'),
    )
    assert.equal(r.string(), 'héllo')
    assert.equal(r.nullableString(), null)
    assert.equal(r.nullableString(), 'x')
    assert.equal(r.compactString(), '')
    assert.equal(r.compactNullableString(), null)
    assert.equal(r.compactNullableString(), 'ü')
  })

  it('null encodings: int16 -1, int32 -1, compact 0', () => {
    const w = new Writer()
    w.nullableString(null).nullableBytes(null).compactNullableString(null).compactNullableBytes(null)
    w.arrayLength(null).compactArrayLength(null)
    assert.equal(w.finish().toString('hex'), 'ffff' + 'ffffffff' + '00' + '00' + 'ffffffff' + '00')
  })

  it('bytes and arrays', () => {
    const data = Buffer.from([1, 2, 3])
    const r = roundTrip((w) =>
      w
        .bytes(data)
        .nullableBytes(null)
        .compactBytes(data)
        .compactNullableBytes(null)
        .arrayLength(0)
        .compactArrayLength(0),
    )
    assert.deepEqual(r.bytes(), data)
    assert.equal(r.nullableBytes(), null)
    assert.deepEqual(r.compactBytes(), data)
    assert.equal(r.compactNullableBytes(), null)
    assert.equal(r.arrayLength(), 0)
    assert.equal(r.compactArrayLength(), 0)
  })

  it('skips unknown tagged fields', () => {
    const w = new Writer()
    w.uvarint(2).uvarint(5).uvarint(3).raw(Buffer.from('abc')).uvarint(9).uvarint(0).int8(42)
    const r = new Reader(w.finish())
    r.skipTaggedFields()
    assert.equal(r.int8(), 42)
  })

  it('throws _BAD_MSG on truncation', () => {
    const isBadMsg = (e: unknown): boolean => e instanceof KafkaError && e.code === '_BAD_MSG'
    assert.throws(() => new Reader(Buffer.from([0, 1])).int32(), isBadMsg)
    assert.throws(() => new Reader(Buffer.from([0, 5, 0x61])).string(), isBadMsg)
    assert.throws(() => new Reader(Buffer.from([0x80, 0x80])).uvarint(), isBadMsg)
    assert.throws(() => new Reader(Buffer.from([0, 0, 0, 9])).arrayLength(), isBadMsg)
  })
})

describe('Writer buffers', () => {
  it('grows by doubling and keeps earlier bytes', () => {
    const w = new Writer(16)
    for (let i = 0; i < 1000; i++) w.int32(i)
    const r = new Reader(w.finish())
    for (let i = 0; i < 1000; i++) assert.equal(r.int32(), i)
  })

  it('reserve + patch a length prefix', () => {
    const w = new Writer(16)
    const at = w.reserve(4)
    w.string('abcdefghijklmnopqrstuvwxyz')
    w.patchInt32(at, w.offset - 4)
    const buf = w.finish()
    assert.equal(buf.readInt32BE(0), buf.length - 4)
  })

  it('appends large buffers by reference and patches across chunks', () => {
    const big = Buffer.alloc(REF_THRESHOLD, 7)
    const w = new Writer(16)
    const at = w.reserve(4)
    w.int8(1).rawAuto(big).int8(2)
    w.rawAuto(Buffer.from([3]))
    w.patchInt32(at, w.offset - 4)
    const chunks = w.finishChunks()
    assert.equal(chunks.length, 3)
    assert.equal(chunks[1], big, 'the large buffer is the same object, not a copy')
    const all = Buffer.concat(chunks)
    assert.equal(all.readInt32BE(0), REF_THRESHOLD + 3)
    assert.equal(all[4], 1)
    assert.equal(all.at(-2), 2)
    assert.equal(all.at(-1), 3)
  })

  it('finish() concatenates chunks', () => {
    const w = new Writer()
    w.int8(1)
      .rawRef(Buffer.from([2, 3]))
      .int8(4)
    assert.equal(w.finish().toString('hex'), '01020304')
  })
})
