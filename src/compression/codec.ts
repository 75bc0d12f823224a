// What every codec is, in a file of its own: the codecs (builtin.ts, lz4.ts, snappy.ts, zstd.ts) import
// it, and the registry (index.ts) imports the codecs, so no codec has to import the registry.

export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface Codec {
  readonly name: CompressionType
  readonly attribute: number
  /** `level` undefined means the codec's default level; codecs without levels ignore it. */
  compress(data: Buffer, level?: number): Buffer
  /**
   * The same bytes as {@link compress}, computed off the JavaScript thread (libuv's thread pool),
   * so the producer can keep encoding records while a batch compresses. Optional: codecs without it
   * are always called synchronously. `data` must not change until the promise settles.
   */
  compressAsync?(data: Buffer, level?: number): Promise<Buffer>
  decompress(data: Buffer): Buffer
}
