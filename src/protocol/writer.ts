// Big-endian writer for the Kafka wire format (https://kafka.apache.org/protocol#protocol_types).
// One growable buffer (doubling) holds what is written; large payloads (record batches) can be
// appended by reference so a Produce request never copies its records: finishChunks() then returns
// [bytes before, the batch itself, bytes after, ...] for a vectored socket write.

/** Appends of at least this many bytes are kept by reference by `rawAuto`; smaller ones are copied. */
export const REF_THRESHOLD = 8 * 1024

const INT32_SAFE = 2 ** 30

export class Writer {
  private buf: Buffer
  private pos = 0
  /** Start (in `buf`) of the bytes not yet moved to `chunks`. */
  private segStart = 0
  private readonly chunks: Buffer[] = []
  private sealedBytes = 0

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity))
  }

  /** Bytes written so far (including referenced chunks). */
  get offset(): number {
    return this.sealedBytes + this.pos - this.segStart
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const used = this.pos - this.segStart
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, used + n))
    this.buf.copy(next, 0, this.segStart, this.pos)
    this.buf = next
    this.segStart = 0
    this.pos = used
  }

  int8(v: number): this {
    this.ensure(1)
    this.buf.writeInt8(v, this.pos)
    this.pos += 1
    return this
  }

  int16(v: number): this {
    this.ensure(2)
    this.buf.writeInt16BE(v, this.pos)
    this.pos += 2
    return this
  }

  uint16(v: number): this {
    this.ensure(2)
    this.buf.writeUInt16BE(v, this.pos)
    this.pos += 2
    return this
  }

  int32(v: number): this {
    this.ensure(4)
    this.buf.writeInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  uint32(v: number): this {
    this.ensure(4)
    this.buf.writeUInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  int64(v: bigint): this {
    this.ensure(8)
    this.buf.writeBigInt64BE(v, this.pos)
    this.pos += 8
    return this
  }

  float64(v: number): this {
    this.ensure(8)
    this.buf.writeDoubleBE(v, this.pos)
    this.pos += 8
    return this
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0)
  }

  /** UUID: exactly 16 bytes. */
  uuid(v: Buffer): this {
    if (v.length !== 16) throw new RangeError(`uuid must be 16 bytes, got ${v.length}`)
    return this.raw(v)
  }

  /** Unsigned varint (protobuf base-128), 0 <= v < 2^32. Used for compact lengths and tags (KIP-482). */
  uvarint(v: number): this {
    this.ensure(5)
    const b = this.buf
    let p = this.pos
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    b[p++] = v
    this.pos = p
    return this
  }

  /** Signed 32-bit zigzag varint (record fields, KIP-98). */
  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0)
  }

  /**
   * Signed 64-bit zigzag varint. Numbers beyond +-2^30 take the bigint path, because the zigzag
   * shift of a JS number through 32-bit bit operations would truncate it.
   */
  varlong(v: number | bigint): this {
    if (typeof v === 'number') {
      if (v > -INT32_SAFE && v < INT32_SAFE) return this.varint(v)
      if (!Number.isSafeInteger(v)) throw new RangeError(`varlong out of safe integer range: ${v}`)
      v = BigInt(v)
    }
    const z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
    // Split into two exact 32-bit halves, then emit 7 bits at a time.
    let lo = Number(z & 0xffffffffn)
    let hi = Number(z >> 32n)
    this.ensure(10)
    const b = this.buf
    let p = this.pos
    while (hi > 0 || lo >= 0x80) {
      b[p++] = (lo & 0x7f) | 0x80
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0
      hi = hi >>> 7
    }
    b[p++] = lo
    this.pos = p
    return this
  }

  /** int16-length string; the value must not be null. */
  string(v: string): this {
    const len = Buffer.byteLength(v)
    this.int16(len)
    this.ensure(len)
    this.pos += this.buf.write(v, this.pos, len, 'utf8')
    return this
  }

  /** int16-length string, -1 for null. */
  nullableString(v: string | null): this {
    return v === null ? this.int16(-1) : this.string(v)
  }

  /** uvarint(length+1) string (flexible versions, KIP-482). */
  compactString(v: string): this {
    const len = Buffer.byteLength(v)
    this.uvarint(len + 1)
    this.ensure(len)
    this.pos += this.buf.write(v, this.pos, len, 'utf8')
    return this
  }

  /** uvarint(length+1) string, 0 for null. */
  compactNullableString(v: string | null): this {
    return v === null ? this.uvarint(0) : this.compactString(v)
  }

  /** int32-length bytes. */
  bytes(v: Buffer): this {
    return this.int32(v.length).raw(v)
  }

  nullableBytes(v: Buffer | null): this {
    return v === null ? this.int32(-1) : this.bytes(v)
  }

  compactBytes(v: Buffer): this {
    return this.uvarint(v.length + 1).raw(v)
  }

  compactNullableBytes(v: Buffer | null): this {
    return v === null ? this.uvarint(0) : this.compactBytes(v)
  }

  /** Nullable records (int32 length); large batches are appended by reference. */
  nullableRecords(v: Buffer | null): this {
    return v === null ? this.int32(-1) : this.int32(v.length).rawAuto(v)
  }

  /** Nullable records, compact length; large batches are appended by reference. */
  compactNullableRecords(v: Buffer | null): this {
    return v === null ? this.uvarint(0) : this.uvarint(v.length + 1).rawAuto(v)
  }

  /** Array length prefix: int32, -1 for null. */
  arrayLength(n: number | null): this {
    return this.int32(n === null ? -1 : n)
  }

  /** Compact array length prefix: uvarint(n+1), 0 for null. */
  compactArrayLength(n: number | null): this {
    return this.uvarint(n === null ? 0 : n + 1)
  }

  /** An empty tagged-field section (flexible versions end every struct with one, KIP-482). */
  emptyTaggedFields(): this {
    return this.uvarint(0)
  }

  /** Copies `v` into the writer. */
  raw(v: Uint8Array): this {
    this.ensure(v.length)
    this.buf.set(v, this.pos)
    this.pos += v.length
    return this
  }

  /** Appends `v` by reference: it is not copied, so it must not change until the output is used. */
  rawRef(v: Buffer): this {
    if (v.length === 0) return this
    this.seal()
    this.chunks.push(v)
    this.sealedBytes += v.length
    return this
  }

  /** By reference when large (>= REF_THRESHOLD), copied otherwise. */
  rawAuto(v: Buffer): this {
    return v.length >= REF_THRESHOLD ? this.rawRef(v) : this.raw(v)
  }

  private seal(): void {
    if (this.pos > this.segStart) {
      const part = this.buf.subarray(this.segStart, this.pos)
      this.chunks.push(part)
      this.sealedBytes += part.length
      this.segStart = this.pos
    }
  }

  /** Reserves `n` bytes to be patched later (length prefixes); returns their offset. */
  reserve(n: number): number {
    const at = this.offset
    this.ensure(n)
    this.buf.fill(0, this.pos, this.pos + n)
    this.pos += n
    return at
  }

  patchInt32(at: number, v: number): this {
    this.locate(at, 4).writeInt32BE(v, 0)
    return this
  }

  patchUInt32(at: number, v: number): this {
    this.locate(at, 4).writeUInt32BE(v, 0)
    return this
  }

  /** The `n` bytes at logical offset `at`, as a view (sealed chunks share memory with the writer). */
  private locate(at: number, n: number): Buffer {
    if (at >= this.sealedBytes) {
      const p = this.segStart + (at - this.sealedBytes)
      if (p + n > this.pos) throw new RangeError(`patch at ${at} is past the written bytes`)
      return this.buf.subarray(p, p + n)
    }
    let base = 0
    for (const c of this.chunks) {
      if (at < base + c.length) {
        if (at - base + n > c.length) throw new RangeError(`patch at ${at} spans two chunks`)
        return c.subarray(at - base, at - base + n)
      }
      base += c.length
    }
    throw new RangeError(`patch at ${at} is past the written bytes`)
  }

  /** The written bytes as chunks (no copy). The writer must not be used afterwards. */
  finishChunks(): Buffer[] {
    this.seal()
    return this.chunks.slice()
  }

  /** The written bytes as one Buffer (copies only when by-reference chunks were appended). */
  finish(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(this.segStart, this.pos)
    this.seal()
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.sealedBytes)
  }
}

/**
 * Size in bytes of an unsigned varint. Comparisons for what a record's lengths and deltas take
 * (up to 4 bytes), a division loop only beyond: this runs several times per record (issue 14).
 */
export function sizeOfUvarint(v: number): number {
  if (v < 0x80) return 1
  if (v < 0x4000) return 2
  if (v < 0x200000) return 3
  if (v < 0x10000000) return 4
  let n = 5
  v = Math.floor(v / 0x800000000)
  while (v >= 1) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** Size in bytes of a zigzag varint (32-bit). */
export function sizeOfVarint(v: number): number {
  return sizeOfUvarint(((v << 1) ^ (v >> 31)) >>> 0)
}

/** Size in bytes of a zigzag varlong for a safe-integer number. */
export function sizeOfVarlong(v: number): number {
  return sizeOfUvarint(v >= 0 ? v * 2 : -v * 2 - 1)
}
