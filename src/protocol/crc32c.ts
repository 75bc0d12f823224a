// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of RecordBatch v2 (KIP-98).
// Portable version: table-driven slicing-by-8 (eight 256-entry tables, 8 bytes per step, about
// 1.5 GB/s here). When the optional package @node-rs/crc32 is installed its hardware-assisted
// crc32c (about 10 GB/s here) is used for anything but tiny inputs; both give the same numbers.
import { createRequire } from 'node:module'

type NativeCrc32c = (input: Buffer, initialState?: number) => number

function loadNative(): NativeCrc32c | null {
  if (process.env['RELIABLE_KAFKA_PORTABLE_CRC'] === '1') return null
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc32c }
    return typeof mod.crc32c === 'function' ? mod.crc32c : null
  } catch {
    return null // optional: the portable code below does the same job
  }
}

const native = loadNative()
/** Below this size the call into native code costs more than the table loop. */
const NATIVE_MIN_BYTES = 64

/** Which implementation `crc32c` uses (for tests and benchmarks). */
export const crc32cImplementation: 'native' | 'portable' = native ? 'native' : 'portable'

const POLY = 0x82f63b78
const T = new Int32Array(8 * 256)

for (let i = 0; i < 256; i++) {
  let c = i
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
  T[i] = c
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 8; t++)
    T[t * 256 + i] = (T[(t - 1) * 256 + i]! >>> 8) ^ T[T[(t - 1) * 256 + i]! & 0xff]!
}

/**
 * Continues a CRC32C over `data[start, end)`. Pass the previous result as `crc` to checksum data in
 * pieces (start with 0). Returns an unsigned 32-bit number.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  if (native !== null && end - start >= NATIVE_MIN_BYTES) {
    return native(Buffer.from(data.buffer, data.byteOffset + start, end - start), crc) >>> 0
  }
  return crc32cPortable(data, crc, start, end)
}

/** The pure-TypeScript CRC32C, always available. */
export function crc32cPortable(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc
  let i = start
  const fastEnd = end - ((end - start) & 7)
  while (i < fastEnd) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))
    c =
      T[7 * 256 + (lo & 0xff)]! ^
      T[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      T[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      T[4 * 256 + (lo >>> 24)]! ^
      T[3 * 256 + data[i + 4]!]! ^
      T[2 * 256 + data[i + 5]!]! ^
      T[256 + data[i + 6]!]! ^
      T[data[i + 7]!]!
    i += 8
  }
  while (i < end) c = T[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}
