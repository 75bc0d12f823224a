// The LZ4 frame format (lz4/doc/lz4_Frame_format.md) around independently compressed blocks, so
// that the block compressor does the compressing and this file only the framing. Kafka's records
// are an LZ4 frame with independent blocks (KIP-57); Java's KafkaLZ4BlockOutputStream writes 64 KiB
// blocks, no content size, no checksums, and so do we.
import { KafkaError } from '../errors/index.js'

/** Largest uncompressed block of our frames: 64 KiB, Java's writer's default (BD = 0x40). */
export const LZ4_BLOCK_MAX_BYTES = 64 * 1024

/**
 * Magic 0x184D2204 (little-endian), FLG 0x60 (version 01, blocks independent, no block checksum,
 * no content size, no content checksum, no dictionary), BD 0x40 (64 KiB blocks) and the header
 * checksum: the second byte of xxHash32(FLG, BD) with seed 0, which for these two bytes is 0x82 (a
 * unit test checks it against lz4-napi's own frame encoder and decoder).
 */
const FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82])

/** A block size field with this bit set says the block is stored uncompressed. */
const UNCOMPRESSED_BLOCK = 0x80000000

/**
 * The input cut into the frame's blocks, in order: views of `data`, each at most 64 KiB.
 */
export function lz4Blocks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = []
  for (let at = 0; at < data.length; at += LZ4_BLOCK_MAX_BYTES) {
    blocks.push(data.subarray(at, Math.min(at + LZ4_BLOCK_MAX_BYTES, data.length)))
  }
  return blocks
}

/**
 * Writes the frame. `compressed[i]` is block `blocks[i]` compressed by lz4-napi's compressSync (a
 * raw LZ4 block behind a 4-byte little-endian length of the *uncompressed* input, lz4_flex's
 * compress_prepend_size). A block that did not get smaller is stored as it was, as the format
 * allows and as lz4's own frame encoder does, so a frame is never much larger than its input.
 */
export function lz4Frame(blocks: readonly Buffer[], compressed: readonly Buffer[]): Buffer {
  let size = FRAME_HEADER.length + 4 // header and end mark
  for (let i = 0; i < blocks.length; i++) size += 4 + storedLength(blocks[i]!, compressed[i]!)
  const out = Buffer.allocUnsafe(size)
  FRAME_HEADER.copy(out, 0)
  let at = FRAME_HEADER.length
  for (let i = 0; i < blocks.length; i++) {
    const raw = blocks[i]!
    const packed = compressed[i]!
    if (packed.readUInt32LE(0) !== raw.length) {
      // The block compressor's own length prefix must be the input we gave it; anything else would
      // frame bytes that do not decompress to the records.
      throw new KafkaError(
        '_BAD_COMPRESSION',
        `lz4 block compressor reported ${packed.readUInt32LE(0)} input bytes where it was given ${raw.length}`,
      )
    }
    const n = packed.length - 4
    if (n < raw.length) {
      out.writeUInt32LE(n, at)
      packed.copy(out, at + 4, 4)
      at += 4 + n
    } else {
      out.writeUInt32LE((raw.length | UNCOMPRESSED_BLOCK) >>> 0, at)
      raw.copy(out, at + 4)
      at += 4 + raw.length
    }
  }
  out.writeUInt32LE(0, at) // end mark
  return out
}

function storedLength(raw: Buffer, packed: Buffer): number {
  return Math.min(packed.length - 4, raw.length)
}
