// LZ4 for Kafka: a standard LZ4 *frame* with independent blocks, which is what Java's broker and
// client read and write (KIP-57 fixed the old broken frame checksum; dependent-block frames are
// refused). lz4-napi compresses the blocks and lz4-frame.ts writes the frame around them: for a
// 16 KiB batch of the benchmark's records its own frame encoder (compressFrameSync) took 29 µs, its
// block compressor 21 µs, and the block in our frame 25 µs (one allocation and one copy of the
// compressed bytes), medians of 30 interleaved rounds (issue 14; lz4_flex's frame encoder sets up its
// block buffers on every call). Decompression (tests, tools) uses lz4-napi's frame decoder,
// which reads any standard frame. compression.level is not honoured for lz4: lz4-napi's compressor
// takes no level, so the level argument is ignored.
import type { Codec } from './codec.js'
import { lz4Blocks, lz4Frame } from './lz4-frame.js'
import { loadOptional } from './optional.js'

interface Lz4Napi {
  /** One raw LZ4 block behind its input's length (4 bytes, little-endian). */
  compressSync(data: Buffer): Buffer
  /** Runs on libuv's thread pool (a napi-rs AsyncTask); same output as compressSync. */
  compress(data: Uint8Array): Promise<Buffer>
  decompressFrameSync(data: Buffer): Buffer
}

export function createLz4Codec(): Codec {
  const lz4 = loadOptional<Lz4Napi>('lz4-napi', 'lz4')
  return {
    name: 'lz4',
    attribute: 3,
    // level ignored, see above
    compress: (data) => {
      const blocks = lz4Blocks(data)
      return lz4Frame(
        blocks,
        blocks.map((b) => lz4.compressSync(b)),
      )
    },
    compressAsync: async (data) => {
      const blocks = lz4Blocks(data)
      return lz4Frame(blocks, await Promise.all(blocks.map((b) => lz4.compress(b))))
    },
    decompress: (data) => lz4.decompressFrameSync(data),
  }
}
