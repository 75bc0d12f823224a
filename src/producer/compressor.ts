import type { Codec, CompressionType } from '../compression/index.js'
import { BATCH_HEADER_SIZE } from '../protocol/index.js'
import type { ProducerBatch } from './batch.js'

/**
 * Below this many bytes of records a batch is compressed inline: handing a batch to the thread pool
 * and back costs the JavaScript thread about 10-20 µs (measured with lz4-napi), which is what lz4
 * takes for ~4 KiB by itself, and a small batch is usually a latency-bound one (linger.ms=0) that
 * should not wait an extra event-loop turn.
 */
export const ASYNC_COMPRESSION_MIN_BYTES = 4096

/**
 * lz4 batches below this many bytes are compressed inline on a machine with two cores or fewer.
 *
 * Why: there the thread pool has no idle core, and waking a pool thread lets it preempt the
 * JavaScript thread. In W5 (2-core VM, 16 KiB batches) handing a batch over took 14-16 µs at the
 * median but 53-68 µs on average and up to 7 ms; the slowest 5 % of hand-offs were 57-63 % of the
 * total. The answer then costs a promise and another sender pass. At 32 KiB (five alternating
 * pairs of W1+W5 against the thread-pool build) records/s stayed the same and W5 p50 went 5.58 →
 * 5.00 ms. Since lz4-frame.ts frames lz4-napi's blocks itself, a 32 KiB batch compresses inline in
 * ~45 µs, and 256 KiB against 32 KiB (seven alternating W5 pairs, where W1's ~34 KiB batches had
 * gone to the pool) gave more records/s in 7 of 7 (medians 558k against 490k), p50 3.8 against
 * 5.4 ms and less CPU in 7 of 7. Larger batches (~0.5 ms of lz4 and more) still go to the thread
 * pool, so one batch does not hold the event loop for milliseconds, and so does every batch on
 * more cores, where a pool thread has a core of its own.
 */
export const LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES = 256 * 1024

/**
 * The records size from which a batch of `codec` is compressed on the thread pool, on a machine
 * with `cores` cores (os.availableParallelism()).
 */
export function asyncCompressionMinBytes(codec: CompressionType, cores: number): number {
  return codec === 'lz4' && cores <= 2 ? LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES : ASYNC_COMPRESSION_MIN_BYTES
}

export interface CompressorDeps {
  codec: Codec
  /** Feeds a compression ratio into the topic's estimate (Accumulator.observeCompression). */
  observe: (topic: string, uncompressedBytes: number, compressedBytes: number) => void
  /** A compression ended: the batch may be sendable now. */
  wakeup: () => void
  /** Records smaller than this are compressed inline (default ASYNC_COMPRESSION_MIN_BYTES). */
  asyncMinBytes?: number
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
      b.sizeInBytes - BATCH_HEADER_SIZE < (this.deps.asyncMinBytes ?? ASYNC_COMPRESSION_MIN_BYTES) ||
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
