import { KafkaError } from '../errors/index.js'
import { abortError } from './abort.js'
import type { BufferLimits } from './buffer-limits.js'
import type { NormalizedRecord } from './normalize.js'
import type { RecordPlacement } from './placement.js'

export interface SpaceWaitOptions {
  limits: BufferLimits
  placement: RecordPlacement
  maxBlockMs: number
  /** Null while the producer is open; else what a caller that waited gets (the fatal error, `_DESTROY`). */
  closedError(): KafkaError | null
  /** Throws when a record may not be produced now (the transaction ended while the call waited). */
  checkProduce(): void
}

/**
 * send()'s slow path, Java's blocking send(): no room in buffer.memory, so the call waits up to
 * max.block.ms (FIFO, BufferLimits) for `bytes`. The record is detached first: the caller may reuse
 * its buffers as soon as send() returns its promise, long before the record is encoded. Whatever
 * happened meanwhile is checked again once space is granted (the producer closed, the signal aborted,
 * the transaction ended, the topic's metadata arrived), and on a refusal the space goes back.
 * Resolves with the record to accept and its partition (-1 while its topic is not known).
 */
export async function waitForSpace(
  opts: SpaceWaitOptions,
  record: NormalizedRecord,
  bytes: number,
  signal: AbortSignal | undefined,
): Promise<{ record: NormalizedRecord; partition: number }> {
  const r = record.detached()
  await opts.limits.acquire(bytes, opts.maxBlockMs, signal)
  try {
    const closed = opts.closedError()
    if (closed) throw closed
    // Space was granted, then the signal aborted before this line ran: nothing was accepted.
    if (signal?.aborted)
      throw abortError(signal, 'send() was aborted by its AbortSignal while it waited for buffer space')
    opts.checkProduce()
    return { record: r, partition: opts.placement.partitionIfKnown(r, bytes) }
  } catch (err) {
    opts.limits.release(bytes, 1)
    throw err
  }
}
