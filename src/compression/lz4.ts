// LZ4 for Kafka: a standard LZ4 *frame* with independent blocks, which is what Java's broker and
// client read and write (KIP-57 fixed the old broken frame checksum; dependent-block frames are
// refused). lz4-napi's frame encoder emits FLG 0x60: version 01, block-independence set.
// compression.level is not honoured for lz4: lz4-napi's compressFrameSync takes no level (its options
// are only the checksum flags), so the level argument is ignored.
import type { Codec } from './codec.js'
import { loadOptional } from './optional.js'

interface Lz4Napi {
  compressFrameSync(data: Buffer): Buffer
  /** Runs on libuv's thread pool (a napi-rs AsyncTask); same output as compressFrameSync. */
  compressFrame(data: Uint8Array): Promise<Buffer>
  decompressFrameSync(data: Buffer): Buffer
}

export function createLz4Codec(): Codec {
  const lz4 = loadOptional<Lz4Napi>('lz4-napi', 'lz4')
  return {
    name: 'lz4',
    attribute: 3,
    compress: (data) => lz4.compressFrameSync(data), // level ignored, see above
    compressAsync: (data) => lz4.compressFrame(data),
    decompress: (data) => lz4.decompressFrameSync(data),
  }
}
