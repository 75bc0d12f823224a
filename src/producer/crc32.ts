/**
 * Plain CRC-32 (IEEE 802.3, the zlib polynomial), which librdkafka's `consistent` and `consistent_random`
 * partitioners hash keys with. This is not CRC-32C, the Castagnoli variant that record batches use
 * (that one lives in src/protocol). Node's `zlib.crc32` only exists from 20.15/22.2, below our floor.
 */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** Unsigned 32-bit CRC-32 of `data`. */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/**
 * Unsigned 32-bit FNV-1a of `data` (the standard hash, like Go's hash/fnv `New32a`). librdkafka's `fnv1a`
 * partitioners do not take this value modulo the partition count as it is: see `fnv1aPartitionHash` in
 * partitioner.ts.
 */
export function fnv1a(data: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
