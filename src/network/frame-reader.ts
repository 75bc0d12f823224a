/**
 * Splits a byte stream into Kafka frames: each response is an int32 size followed by that many
 * bytes. Chunks are kept in a list and only joined when a frame spans several of them, so a large
 * Metadata response arriving in many TCP segments is copied once.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private need = -1

  /**
   * `maxFrameBytes` bounds every frame, or is asked per frame: `i` counts the frames this push()
   * has completed before the one whose size was just read, so a connection can bound each answer
   * by the request it answers (Kafka answers a connection's requests in order).
   */
  constructor(private readonly maxFrameBytes: number | ((i: number) => number)) {}

  /** Feeds bytes; returns the complete frames (without their size prefix) now available. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const frames: Buffer[] = []
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break
        const size = this.peekInt32()
        const limit =
          typeof this.maxFrameBytes === 'number' ? this.maxFrameBytes : this.maxFrameBytes(frames.length)
        if (size < 0 || size > limit) {
          // Checked on the 4-byte prefix, before anything is buffered for the frame.
          throw new RangeError(`invalid response frame size ${size} (limit ${limit})${tlsHint(size)}`)
        }
        this.take(4)
        this.need = size
      }
      if (this.buffered < this.need) break
      frames.push(this.take(this.need))
      this.need = -1
    }
    return frames
  }

  private peekInt32(): number {
    const first = this.chunks[0]!
    if (first.length >= 4) return first.readInt32BE(0)
    return this.join().readInt32BE(0)
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)]
    return this.chunks[0]!
  }

  private take(n: number): Buffer {
    // A zero-size frame may end the buffered bytes exactly: there is no chunk left to slice.
    if (n === 0) return Buffer.alloc(0)
    let first = this.chunks[0]!
    if (first.length < n) first = this.join()
    const out = first.subarray(0, n)
    if (first.length === n) this.chunks.shift()
    else this.chunks[0] = first.subarray(n)
    this.buffered -= n
    return out
  }
}

/**
 * A plaintext client talking to a TLS listener reads the broker's TLS alert or handshake record as a
 * frame size (0x15030300 = 352518912: the "impossible" size Java clients famously tried to allocate).
 * Its first bytes say so: record type 21 or 22, then TLS's major version 3 and a minor one of 0 to 4.
 */
function tlsHint(size: number): string {
  const type = size >>> 24
  const looksTls =
    (type === 0x15 || type === 0x16) && ((size >>> 16) & 0xff) === 3 && ((size >>> 8) & 0xff) <= 4
  return looksTls
    ? ': the broker answered with a TLS record; is this a TLS listener? set security.protocol to ssl (or sasl_ssl)'
    : ''
}
