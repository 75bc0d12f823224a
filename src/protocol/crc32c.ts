// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of RecordBatch v2 (KIP-98).
// Table-driven slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per step.

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
