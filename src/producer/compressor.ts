import type { Codec } from '../compression/index.js'
import { BATCH_HEADER_SIZE } from '../protocol/index.js'
import type { ProducerBatch } from './batch.js'

/**
 * Below this many bytes of records a batch is compressed inline: handing a batch to the thread pool
 * and back costs the JavaScript thread about 10-20 µs (measured with lz4-napi), which is what lz4
 * takes for ~4 KiB by itself, and a small batch is usually a latency-bound one (linger.ms=0) that
 * should not wait an extra event-loop turn.
 */
export const ASYNC_COMPRESSION_MIN_BYTES = 4096

export interface CompressorDeps {
  codec: Codec
  /** Feeds a compression ratio into the topic's estimate (Accumulator.observeCompression). */
  observe: (topic: string, uncompressedBytes: number, compressedBytes: number) => void
  /** A compression ended: the batch may be sendable now. */
  wakeup: () => void
}

/**
 * Hands full batches to libuv's thread pool for compression, so that encoding goes on on the
 * JavaScript thread while a batch compresses. Compressing closes the batch: nothing may be appended
 * to bytes a worker thread is reading. The sequence stamp comes later, at drain, in partition
 * order, and lives in the header, outside the compressed bytes; so compressions may finish in any
 * order, and a batch stamped again after an epoch bump keeps its compressed records. A batch that
 * expires or fails while compressing is simply gone when the result arrives.
 */
export class BatchCompressor {
  constructor(private readonly deps: CompressorDeps) {}

  /**
   * Whether `b` must wait for its records to be compressed; starts that for a batch big enough to
   * be worth it. A batch that does not wait is compressed inline when it is built at drain.
   */
  awaits(b: ProducerBatch): boolean {
    if (b.state === 'compressing') return true
    const codec = this.deps.codec
    if (
      codec.compressAsync === undefined ||
      b.wire !== null ||
      b.compressFailed ||
      b.sizeInBytes - BATCH_HEADER_SIZE < ASYNC_COMPRESSION_MIN_BYTES ||
      b.builder.hasCompressed(codec.name)
    ) {
      return false
    }
    b.moveTo('compressing')
    codec.compressAsync(b.builder.recordsView()).then(
      (data) => {
        if (b.state !== 'compressing') return // expired or failed meanwhile: gone
        b.moveTo('ready')
        b.builder.setCompressed(codec.name, data)
        this.deps.observe(b.topic, b.sizeInBytes, BATCH_HEADER_SIZE + data.length)
        this.deps.wakeup()
      },
      () => {
        // Compressed inline at drain instead, where a codec error reaches the batch's records the
        // same way as without the thread pool.
        if (b.state !== 'compressing') return
        b.moveTo('sealed')
        b.compressFailed = true
        this.deps.wakeup()
      },
    )
    return true
  }
}
