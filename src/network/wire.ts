import type { Duplex } from 'node:stream'
import { KafkaError } from '../errors/index.js'

// Bytes on the socket: how large an answer may be, how a request's chunks are written, and the error
// for a request the connection lost before it was written.

const MIB = 1024 * 1024

/**
 * The largest answer we buffer for a request, by API: a broken or hostile broker must not make us
 * hold hundreds of MB for a response that cannot legitimately be that large. A Produce answer
 * lists partitions and at most one error per record, so it is bounded by the request's own size;
 * Metadata grows with the cluster (64 MiB is ~500,000 partitions); Fetch is only used by tools.
 */
export function maxResponseBytes(apiKey: number, requestBytes: number): number {
  switch (apiKey) {
    case 0: // Produce
      return MIB + 2 * requestBytes
    case 1: // Fetch
      return 256 * MIB
    case 3: // Metadata
      return 64 * MIB
    default:
      return 8 * MIB
  }
}

/**
 * The connection was lost before a request was fully handed to the socket. A broker closes the
 * connection as soon as it reads the size of a request over its socket.request.max.bytes, so a
 * large request that meets this again and again is likely too large for the broker; the sender
 * decides what to do with that (see the sender's handling of unwritten requests).
 */
export class UnwrittenRequestError extends KafkaError {
  constructor(
    message: string,
    /** Size of the request frame, size prefix included. */
    readonly requestBytes: number,
    cause: KafkaError,
  ) {
    super('_TRANSPORT', message, { retriable: true, cause })
  }
}

/** Size of a frame written as `chunks`. */
export function frameBytes(chunks: Buffer[]): number {
  let n = 0
  for (const c of chunks) n += c.length
  return n
}

/** Writes a frame's chunks as one unit (cork/uncork → a single writev for large batches). */
export function writeChunks(
  socket: Duplex,
  chunks: Buffer[],
  cb: (err: Error | null | undefined) => void,
): void {
  if (chunks.length === 1) {
    socket.write(chunks[0]!, cb)
    return
  }
  socket.cork()
  for (let i = 0; i < chunks.length - 1; i++) socket.write(chunks[i]!)
  socket.write(chunks[chunks.length - 1]!, cb)
  socket.uncork()
}
