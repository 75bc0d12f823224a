// Buffer from its module: the global is a getter on Node 20 (see producer/normalize.ts).
import { Buffer } from 'node:buffer'

/**
 * A record's key or value as the producer holds it between produce() and its batch: the caller's
 * Buffer, or the caller's string, which is encoded as UTF-8 only where it is written (into the
 * batch's buffer), so no Buffer is allocated per string. Whoever holds one also holds its encoded
 * length ({@link byteLengthOf}), so sizes are known without encoding.
 */
export type RecordBytes = Buffer | string

/**
 * ASCII strings up to this many characters are copied with a JavaScript loop; longer or non-ASCII
 * ones go through Buffer#write. Measured on Node 20: the loop costs ~20 ns for 4 characters and
 * ~115 ns for 32, Buffer#write ~100-150 ns at any short length (its native call dominates).
 */
const LOOP_MAX = 32

/**
 * Bytes of `d` on the wire, -1 for null (a record's null key or value). For a string, its UTF-8
 * length as Buffer.from(s, 'utf8') encodes it: a lone surrogate becomes U+FFFD (3 bytes).
 * Buffer.byteLength is a V8 fast call (~20 ns at any short length), as cheap as a JavaScript
 * ASCII check even for a few characters, so it is used for every string.
 */
export function byteLengthOf(d: RecordBytes | null): number {
  if (d === null) return -1
  return typeof d === 'string' ? Buffer.byteLength(d, 'utf8') : d.length
}

/**
 * Writes `d`, whose encoded length is `length` (from {@link byteLengthOf}), into `buf` at `pos`
 * and returns the position after it. The caller ensured the room. A string's bytes are exactly
 * Buffer.from(d, 'utf8')'s.
 */
export function writeRecordBytes(buf: Buffer, pos: number, d: RecordBytes, length: number): number {
  if (typeof d !== 'string') {
    buf.set(d, pos)
    return pos + length
  }
  // A UTF-8 length equal to the UTF-16 length means every code unit is below 0x80 (anything else
  // takes 2 to 3 bytes per unit, a surrogate pair 4 for 2): one byte per character.
  if (length === d.length && length <= LOOP_MAX) {
    for (let i = 0; i < length; i++) buf[pos + i] = d.charCodeAt(i)
    return pos + length
  }
  return pos + buf.write(d, pos, length, 'utf8')
}

/** `d` as a Buffer (a string is encoded; a Buffer is returned as it is): for what must hand out one. */
export function toBuffer(d: RecordBytes | null): Buffer | null {
  if (d === null) return null
  return typeof d === 'string' ? Buffer.from(d, 'utf8') : d
}

let scratch = Buffer.allocUnsafe(256)

/**
 * The UTF-8 bytes of `s` in a buffer shared by all callers: valid only until the next call, for a
 * hash that reads them at once (a partitioner over a string key) without allocating. A string over
 * 64 KiB gets a buffer of its own, so a rare huge key does not stay in memory.
 */
export function utf8Scratch(s: string): Uint8Array {
  const n = Buffer.byteLength(s, 'utf8')
  if (n > 65536) return Buffer.from(s, 'utf8')
  if (n > scratch.length) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2))
  scratch.write(s, 0, n, 'utf8')
  return scratch.subarray(0, n)
}
