import { ErrorCode, KafkaError } from '../errors/index.js'
import type { ProducerBatch } from './batch.js'

/** The broker's producer identity for this producer (KIP-98). */
export interface ProducerIdAndEpoch {
  readonly producerId: bigint
  readonly epoch: number
}

/** What the sender should do with a batch the broker rejected. */
export type IdempotentVerdict =
  /** Leave the batch in its queue; it is resent with the same producer id, epoch and sequence. */
  | 'retry'
  /** The sequence is broken beyond repair for this epoch: bump the epoch, then resend. */
  | 'bump'
  /** The broker already has this batch: it counts as delivered (offset unknown). */
  | 'duplicate'
  /** Not an idempotence error: the ordinary retriable/fatal rules apply. */
  | 'default'
  /** The producer cannot continue (fenced, not authorized): fail everything. */
  | 'fatal'

const MAX_EPOCH = 0x7fff
const SEQUENCE_LIMIT = 0x80000000

interface PartitionSequence {
  /** Sequence of the next batch drained for the first time. */
  next: number
  /** Last sequence acknowledged by the broker in this epoch, -1 when none yet. */
  lastAcked: number
}

/**
 * The state of an idempotent producer (KIP-98, with KIP-360's epoch bump): the producer id and
 * epoch, and per partition the next sequence number. Pure bookkeeping: no I/O, no timers. The
 * sender asks it what to stamp on a batch and what to do with an error; the producer fetches the
 * id (InitProducerId) and feeds it in.
 *
 * Sequences are assigned when a batch is drained for the first time and never change while the
 * epoch stays the same, so a retry is byte-identical and the broker recognises a duplicate of a
 * batch it already wrote (it keeps the last 5 batches per producer and partition, hence the
 * in-flight cap of 5 per partition).
 *
 * When a sequence can no longer be trusted (a batch sent and then expired, OUT_OF_ORDER for the
 * batch that is next in line, UNKNOWN_PRODUCER_ID), we do what Java's idempotent producer does:
 * wait until nothing is in flight, bump the epoch locally (the broker accepts a higher epoch that
 * starts again at sequence 0), and give every unacknowledged batch a fresh sequence in queue
 * order. When the epoch is exhausted, a new producer id is requested instead.
 */
export class IdempotenceState {
  private id: ProducerIdAndEpoch | null = null
  private readonly sequences = new Map<string, PartitionSequence>()
  private bumpWanted = false
  private bumpWhy: KafkaError | null = null
  private newIdWanted = false
  private fatalError: KafkaError | null = null
  /** Epoch bumps so far (observability and tests). */
  bumps = 0

  get producerId(): ProducerIdAndEpoch | null {
    return this.id
  }

  get fatal(): KafkaError | null {
    return this.fatalError
  }

  /** True when batches may be stamped and sent. */
  get ready(): boolean {
    return this.id !== null && !this.bumpWanted && !this.newIdWanted && this.fatalError === null
  }

  /** True when a new producer id must be fetched (none yet, or the epoch is exhausted). */
  get needsProducerId(): boolean {
    return this.fatalError === null && (this.id === null || this.newIdWanted)
  }

  /** True when an epoch bump waits for the in-flight requests to finish. */
  get needsBump(): boolean {
    return this.fatalError === null && this.bumpWanted && !this.newIdWanted
  }

  setProducerId(id: ProducerIdAndEpoch): void {
    this.id = id
    this.newIdWanted = false
    this.bumpWanted = false
    this.sequences.clear()
  }

  setFatal(err: KafkaError): void {
    if (!this.fatalError) this.fatalError = err
  }

  /** Why the pending epoch bump was asked for (a transactional producer reports it when aborting). */
  get bumpReason(): KafkaError | null {
    return this.bumpWanted ? this.bumpWhy : null
  }

  /** Asks for an epoch bump (carried out by {@link bumpEpoch} once nothing is in flight). */
  requestBump(reason?: KafkaError): void {
    if (!this.bumpWanted) this.bumpWhy = reason ?? null
    this.bumpWanted = true
  }

  /**
   * Bumps the epoch locally and restarts every partition at sequence 0; `queued` batches lose
   * their old stamp and are stamped afresh when drained. Call only with nothing in flight.
   */
  bumpEpoch(queued: Iterable<ProducerBatch>): void {
    if (!this.id) return
    this.bumps++
    this.bumpWanted = false
    if (this.id.epoch >= MAX_EPOCH) {
      // Epoch exhausted (Java: bumpIdempotentEpochAndResetIdIfNeeded): a new producer id is needed.
      this.newIdWanted = true
    } else {
      this.id = { producerId: this.id.producerId, epoch: this.id.epoch + 1 }
    }
    this.sequences.clear()
    for (const b of queued) b.unstamp()
  }

  private seq(topic: string, partition: number): PartitionSequence {
    const key = `${partition}\u0000${topic}`
    let s = this.sequences.get(key)
    if (!s) this.sequences.set(key, (s = { next: 0, lastAcked: -1 }))
    return s
  }

  /** The next sequence the broker is to acknowledge for the partition (statistics' next_ack_seq). */
  nextAckSequence(topic: string, partition: number): number {
    const s = this.sequences.get(`${partition}\u0000${topic}`)
    return s ? (s.lastAcked + 1) % SEQUENCE_LIMIT : 0
  }

  /** Stamps a batch drained for the first time in this epoch with the partition's next sequence. */
  stamp(batch: ProducerBatch): void {
    const id = this.id
    if (!id) throw new KafkaError('_STATE', 'idempotent producer has no producer id yet')
    const s = this.seq(batch.topic, batch.partition)
    batch.stamp(id.producerId, id.epoch, s.next)
    s.next = (s.next + batch.count) % SEQUENCE_LIMIT
  }

  /**
   * Takes back the stamp just given to `batch` (it did not fit in the request after all). Only
   * valid for the partition's latest stamp, which holds within one drain: one batch per partition.
   */
  unstamp(batch: ProducerBatch): void {
    const s = this.seq(batch.topic, batch.partition)
    s.next = batch.baseSequence
    batch.unstamp()
  }

  /**
   * The parts of a batch split after MESSAGE_TOO_LARGE take over its sequence range, in order
   * (Java's ProducerBatch.split): the broker wrote nothing of the big batch, so the partition's
   * next sequence stays where it is and the parts fill the gap the big batch left.
   */
  stampSplit(big: ProducerBatch, parts: readonly ProducerBatch[]): void {
    let seq = big.baseSequence
    for (const p of parts) {
      p.stamp(big.producerId, big.producerEpoch, seq)
      seq = (seq + p.count) % SEQUENCE_LIMIT
    }
  }

  /** Whether `batch` carries the current producer id and epoch. */
  isCurrent(batch: ProducerBatch): boolean {
    return (
      this.id !== null && batch.producerId === this.id.producerId && batch.producerEpoch === this.id.epoch
    )
  }

  onAcked(batch: ProducerBatch): void {
    if (!this.isCurrent(batch)) return
    const s = this.seq(batch.topic, batch.partition)
    const last = (batch.baseSequence + batch.count - 1) % SEQUENCE_LIMIT
    // Responses for one partition come back in order, but a duplicate of an older batch can be
    // acknowledged after a newer one; never move lastAcked backwards.
    if (s.lastAcked < 0 || seqAfter(last, s.lastAcked)) s.lastAcked = last
  }

  /**
   * Whether the broker acknowledged a batch of this partition in the current epoch. Until it has,
   * the sender keeps one batch in flight there: a broker with no state for a producer id accepts
   * any first sequence (ProducerAppendInfo.checkSequence, since KIP-360), so a later batch could
   * be written ahead of an earlier one that failed (e.g. split after MESSAGE_TOO_LARGE).
   */
  hasAcked(topic: string, partition: number): boolean {
    return this.seq(topic, partition).lastAcked >= 0
  }

  /** Whether `batch` is the first batch of its partition the broker has not acknowledged. */
  isNextInLine(batch: ProducerBatch): boolean {
    const s = this.seq(batch.topic, batch.partition)
    return batch.baseSequence === (s.lastAcked + 1) % SEQUENCE_LIMIT
  }

  /** Whether the broker acknowledged a sequence at or after `batch`'s first one. */
  private ackedBeyond(batch: ProducerBatch): boolean {
    const s = this.seq(batch.topic, batch.partition)
    return s.lastAcked >= 0 && !seqAfter(batch.baseSequence, s.lastAcked)
  }

  /** Decides what a Produce error means for an idempotent batch. */
  classify(batch: ProducerBatch, errorCode: number): IdempotentVerdict {
    switch (errorCode) {
      case ErrorCode.DUPLICATE_SEQUENCE_NUMBER: // already written earlier.
        return 'duplicate'
      case ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER:
        // A batch behind one that failed is out of order only because of that failure: resend
        // it after its predecessor. Out of order while next in line is a real gap; and if the
        // broker already acknowledged a later sequence, this one can never be written in this
        // epoch either.
        return this.isCurrent(batch) && !this.isNextInLine(batch) && !this.ackedBeyond(batch)
          ? 'retry'
          : 'bump'
      case ErrorCode.UNKNOWN_PRODUCER_ID: // the broker lost our state (KIP-360): start a new epoch.
        return 'bump'
      case ErrorCode.INVALID_PRODUCER_EPOCH: // a batch from an epoch we already left.
        return this.isCurrent(batch) ? 'fatal' : 'retry'
      case ErrorCode.PRODUCER_FENCED:
      case ErrorCode.INVALID_PRODUCER_ID_MAPPING:
      case ErrorCode.CLUSTER_AUTHORIZATION_FAILED:
      case ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return 'fatal'
      default:
        return 'default'
    }
  }
}

/** Sequence comparison that survives the wrap at 2^31 (as the broker's does). */
function seqAfter(a: number, b: number): boolean {
  const d = (a - b + SEQUENCE_LIMIT) % SEQUENCE_LIMIT
  return d > 0 && d < SEQUENCE_LIMIT / 2
}
