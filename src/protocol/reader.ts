// Bounds-checked big-endian reader for the Kafka wire format. Every read checks the remaining length
// first, so truncated or corrupt input surfaces as KafkaError('_BAD_MSG') instead of a RangeError or
// a silently wrong value.
import { KafkaError } from '../errors/index.js'

export class Reader {
  offset: number

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset
  }

  get remaining(): number {
    return this.buf.length - this.offset
  }

  private need(n: number, what: string): number {
    const at = this.offset
    if (n < 0 || at + n > this.buf.length) {
      throw new KafkaError(
        '_BAD_MSG',
        `Truncated input: ${what} needs ${n} bytes at offset ${at}, have ${this.buf.length - at}`,
      )
    }
    this.offset = at + n
    return at
  }

  int8(): number {
    return this.buf.readInt8(this.need(1, 'int8'))
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2, 'int16'))
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.need(2, 'uint16'))
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4, 'int32'))
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.need(4, 'uint32'))
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8, 'int64'))
  }

  float64(): number {
    return this.buf.readDoubleBE(this.need(8, 'float64'))
  }

  bool(): boolean {
    return this.int8() !== 0
  }

  uuid(): Buffer {
    const at = this.need(16, 'uuid')
    return Buffer.from(this.buf.subarray(at, at + 16))
  }

  /** Unsigned varint up to 2^32-1 (at most 5 bytes). */
  uvarint(): number {
    const b = this.buf
    let result = 0
    let shift = 0
    for (;;) {
      if (this.offset >= b.length) this.need(1, 'varint')
      const byte = b[this.offset++]!
      if (shift === 28) {
        if (byte > 0x0f) throw new KafkaError('_BAD_MSG', 'varint is longer than 32 bits')
        return (result + byte * 2 ** 28) >>> 0
      }
      result |= (byte & 0x7f) << shift
      if (byte < 0x80) return result >>> 0
      shift += 7
    }
  }

  /** Signed zigzag varint (32-bit). */
  varint(): number {
    const u = this.uvarint()
    return (u >>> 1) ^ -(u & 1)
  }

  /** Signed zigzag varlong as bigint (full 64-bit range). */
  varlongBig(): bigint {
    const b = this.buf
    let z = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.offset >= b.length) this.need(1, 'varlong')
      const byte = b[this.offset++]!
      z |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return (z >> 1n) ^ -(z & 1n)
    }
    throw new KafkaError('_BAD_MSG', 'varlong is longer than 64 bits')
  }

  /** Signed zigzag varlong as a number; throws _BAD_MSG when it is not a safe integer. */
  varlong(): number {
    const start = this.offset
    // Fast path: up to 4 bytes (28 bits) never leaves int32 range.
    let z = 0
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.offset >= this.buf.length) this.need(1, 'varlong')
      const byte = this.buf[this.offset++]!
      z |= (byte & 0x7f) << shift
      if (byte < 0x80) return (z >>> 1) ^ -(z & 1)
    }
    this.offset = start
    const big = this.varlongBig()
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new KafkaError('_BAD_MSG', `varlong ${big} is outside the safe integer range`)
    }
    return Number(big)
  }

  /** A view of the next `n` bytes (no copy). */
  rawRef(n: number): Buffer {
    const at = this.need(n, 'bytes')
    return this.buf.subarray(at, at + n)
  }

  skip(n: number): void {
    this.need(n, 'skip')
  }

  private utf8(n: number): string {
    const at = this.need(n, 'string')
    return this.buf.toString('utf8', at, at + n)
  }

  string(): string {
    const n = this.int16()
    if (n < 0) throw new KafkaError('_BAD_MSG', 'Unexpected null string')
    return this.utf8(n)
  }

  nullableString(): string | null {
    const n = this.int16()
    return n < 0 ? null : this.utf8(n)
  }

  compactString(): string {
    const n = this.uvarint()
    if (n === 0) throw new KafkaError('_BAD_MSG', 'Unexpected null compact string')
    return this.utf8(n - 1)
  }

  compactNullableString(): string | null {
    const n = this.uvarint()
    return n === 0 ? null : this.utf8(n - 1)
  }

  /** int32-length bytes, returned as a view of the input (no copy). */
  bytes(): Buffer {
    const n = this.int32()
    if (n < 0) throw new KafkaError('_BAD_MSG', 'Unexpected null bytes')
    return this.rawRef(n)
  }

  nullableBytes(): Buffer | null {
    const n = this.int32()
    return n < 0 ? null : this.rawRef(n)
  }

  compactBytes(): Buffer {
    const n = this.uvarint()
    if (n === 0) throw new KafkaError('_BAD_MSG', 'Unexpected null compact bytes')
    return this.rawRef(n - 1)
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint()
    return n === 0 ? null : this.rawRef(n - 1)
  }

  /** int32 array length; -1 (null) is returned as -1. Rejects counts that cannot fit the input. */
  arrayLength(): number {
    const n = this.int32()
    if (n > this.remaining) throw new KafkaError('_BAD_MSG', `Array length ${n} exceeds the remaining bytes`)
    return n
  }

  /** Compact array length: uvarint(n+1); null is returned as -1. */
  compactArrayLength(): number {
    const n = this.uvarint() - 1
    if (n > this.remaining) throw new KafkaError('_BAD_MSG', `Array length ${n} exceeds the remaining bytes`)
    return n
  }

  /** Skips a whole tagged-field section (all tags unknown to the caller, KIP-482). */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.skip(this.uvarint())
    }
  }
}
