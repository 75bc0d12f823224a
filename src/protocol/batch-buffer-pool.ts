// Reuse of large batch buffers (issue 14, W7). A batch of large records gets a buffer of its own
// (Buffer.allocUnsafe above 4 KiB is a fresh ArrayBuffer), and after delivery that buffer is garbage
// that V8 frees only when its owner is collected by a major GC. V8 starts a major GC for memory
// outside its heap only after about 64 MB of growth, so with 1 MiB records the process carried
// 60-75 MB of delivered batches at a time, above buffer.memory + 150 MB in W7. Handing a delivered
// buffer to the next batch of about the same size keeps that garbage from being made at all.
//
// Only large buffers are kept: below them V8's young-generation collections free the garbage soon
// enough, and a throwaway pool of every size measured slower in W1 (a reused buffer is touched
// whole where a fresh one is touched only as far as it fills; docs/performance.md).

/** Buffers of at least this many bytes are pooled: batches of records of about half a MiB or more. */
export const POOLED_BUFFER_MIN_BYTES = 512 * 1024

/** A pooled buffer serves a request of up to this much less than its length (a quarter wasted at most). */
const MAX_SLACK = 1.25

/**
 * New large buffers are rounded up to a multiple of this: records of nearly the same size (keys of
 * different lengths) then ask for the same size, and a buffer kept from one fits the next. With
 * exact sizes (and a smaller bound, below) only 78 of W7's 500 batches found a buffer: one of
 * 1,048,745 bytes cannot serve 1,048,746.
 */
const SIZE_STEP = 64 * 1024

/**
 * Idle buffers kept for the next large batch. As in Java's BufferPool, idle and used memory share one
 * bound: a buffer is kept only while the idle ones plus `inUse()` (the producer's buffered bytes)
 * stay within `maxBytes` (buffer.memory). A smaller fixed bound measured no gain: an application
 * that waits for half its records before producing again (the bench's loop) gets many batches
 * delivered at once, and every buffer the pool could not keep was garbage again. The caller gives back only
 * a buffer nothing else can read any more (see ProducerBatch.recycle): the pool hands it out again as
 * it is, without clearing it (allocUnsafe's contract: the batch overwrites what it uses).
 */
export class BatchBufferPool {
  private readonly idle: Buffer[] = []
  private bytes = 0

  constructor(
    readonly maxBytes: number,
    private readonly inUse: () => number = () => 0,
  ) {}

  /** Bytes held idle now. */
  get idleBytes(): number {
    return this.bytes
  }

  /**
   * A buffer of at least `size` bytes (and at most a quarter more), taken out of the pool; a new one,
   * rounded up to 64 KiB, when none fits. `size` below {@link POOLED_BUFFER_MIN_BYTES} is always a
   * new buffer of exactly `size`.
   */
  take(size: number): Buffer {
    if (size >= POOLED_BUFFER_MIN_BYTES) {
      let best = -1
      for (let i = 0; i < this.idle.length; i++) {
        const len = this.idle[i]!.length
        if (len >= size && len <= size * MAX_SLACK && (best < 0 || len < this.idle[best]!.length)) best = i
      }
      if (best >= 0) {
        const buf = this.idle[best]!
        this.idle[best] = this.idle[this.idle.length - 1]!
        this.idle.pop()
        this.bytes -= buf.length
        return buf
      }
      return Buffer.allocUnsafe(Math.ceil(size / SIZE_STEP) * SIZE_STEP)
    }
    return Buffer.allocUnsafe(size)
  }

  /**
   * Keeps `buf` for a later take() when it is large, owns its whole ArrayBuffer (not a slice of
   * Node's shared pool) and fits under maxBytes with what is in use; else drops it to the garbage
   * collector.
   */
  give(buf: Buffer): void {
    if (
      buf.length < POOLED_BUFFER_MIN_BYTES ||
      buf.byteOffset !== 0 ||
      buf.buffer.byteLength !== buf.length
    ) {
      return
    }
    if (this.bytes + buf.length + this.inUse() > this.maxBytes) return
    this.idle.push(buf)
    this.bytes += buf.length
  }

  /** Drops every idle buffer (the producer closed). */
  clear(): void {
    this.idle.length = 0
    this.bytes = 0
  }
}
