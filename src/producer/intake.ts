import type { Metadata } from '../cluster/metadata.js'
import { KafkaError } from '../errors/index.js'
import type { EventGate, Instrumentation } from '../observability/events.js'
import type { TransactionManager } from '../transactions/index.js'
import type { Clock } from '../util/clock.js'
import type { Accumulator } from './accumulator.js'
import type { BufferLimits } from './buffer-limits.js'
import { MetadataWaitQueue, type WaitingRecord } from './metadata-wait.js'
import { NormalizedRecord, normalizeRecord } from './normalize.js'
import type { OutstandingRecords } from './outstanding.js'
import type { RecordPlacement } from './placement.js'
import type { DeliveryCallback, ProducerRecord } from './record.js'
import { waitForSpace, type SpaceWaitOptions } from './space-wait.js'

export interface RecordIntakeOptions {
  clock: Clock
  /** message.max.bytes: a record that cannot fit is refused before its strings are encoded. */
  maxRecordBytes: number
  /** buffer.memory, for the message of `_QUEUE_FULL`. */
  bufferMemory: number
  deliveryTimeoutMs: number
  topicMetadataPropagationMaxMs: number
  maxBlockMs: number
  metadata: Metadata
  placement: RecordPlacement
  limits: BufferLimits
  outstanding: OutstandingRecords
  accumulator: Accumulator
  events: Instrumentation
  txn: TransactionManager | null
  /** A batch opened (its linger timer is to be armed) or filled up (it may go now). */
  wakeSender: () => void
  /** A record waited this long for its topic's metadata (the metadataWait time metric). */
  metadataWaited: (ms: number) => void
  /** A record waiting for metadata failed (unknown topic, delivery.timeout.ms, close): its report. */
  failWaiting: (w: WaitingRecord, err: KafkaError) => void
  /** Null while the producer is open; else what a send() that waited for space gets. */
  closedError: () => KafkaError | null
}

/**
 * Taking a record in, the part of produce() and send() that runs once per record: validation into a
 * NormalizedRecord, its size and partition, admission against buffer.memory and
 * queue.buffering.max.messages, and its place in a batch. And the two places a record may wait on
 * the way: for its topic's metadata (the MetadataWaitQueue it owns) and, in send(), for buffer
 * space (space-wait.ts). The Producer checks its own state first; docs/architecture.md ("1.
 * Accepting the record") follows the steps.
 */
export class RecordIntake {
  private readonly clock: Clock
  private readonly maxRecordBytes: number
  private readonly placement: RecordPlacement
  private readonly limits: BufferLimits
  private readonly outstanding: OutstandingRecords
  private readonly accumulator: Accumulator
  private readonly events: Instrumentation
  /** record.accepted's listeners: checked once per record, so a gate rather than events.has(). */
  private readonly acceptedGate: EventGate
  private readonly txn: TransactionManager | null
  private readonly deliveryTimeoutMs: number
  private readonly bufferMemory: number
  private readonly wakeSender: () => void
  /** Records whose topic has no metadata yet. */
  readonly waiting: MetadataWaitQueue
  private readonly spaceWait: SpaceWaitOptions
  /** produce()'s reusable record; null while a produce() call has it. */
  private spare: NormalizedRecord | null = NormalizedRecord.blank()

  constructor(o: RecordIntakeOptions) {
    // Fields of their own rather than an options object: one load less per use on the per-record path.
    this.clock = o.clock
    this.maxRecordBytes = o.maxRecordBytes
    this.placement = o.placement
    this.limits = o.limits
    this.outstanding = o.outstanding
    this.accumulator = o.accumulator
    this.events = o.events
    this.acceptedGate = o.events.gate('record.accepted')
    this.txn = o.txn
    this.deliveryTimeoutMs = o.deliveryTimeoutMs
    this.bufferMemory = o.bufferMemory
    this.wakeSender = o.wakeSender
    this.waiting = new MetadataWaitQueue({
      clock: o.clock,
      metadata: o.metadata,
      deliveryTimeoutMs: o.deliveryTimeoutMs,
      topicMetadataPropagationMaxMs: o.topicMetadataPropagationMaxMs,
      choosePartition: (w, info) => this.placement.partitionIn(w.record, w.bytes, info),
      append: (w, partition) => {
        o.metadataWaited(this.clock.now() - w.acceptedAt)
        this.append(w.record, w.bytes, partition, w.callback, w.acceptedAt)
      },
      fail: o.failWaiting,
    })
    this.spaceWait = {
      limits: o.limits,
      placement: o.placement,
      maxBlockMs: o.maxBlockMs,
      closedError: o.closedError,
      // The transaction may have been committed or aborted while the call waited.
      checkProduce: () => this.txn?.checkProduce(),
    }
  }

  /** send()'s slow path: waits up to max.block.ms for `bytes` of buffer space (space-wait.ts). */
  waitForSpace(
    r: NormalizedRecord,
    bytes: number,
    signal: AbortSignal | undefined,
  ): Promise<{ record: NormalizedRecord; partition: number }> {
    return waitForSpace(this.spaceWait, r, bytes, signal)
  }

  /** produce()'s record: throws what produce() documents, or takes it in. */
  produce(record: ProducerRecord, callback: DeliveryCallback | undefined): void {
    const now = this.clock.now()
    // One record object serves call after call: nothing keeps it past the call (the batch copies
    // what it needs, a record waiting for metadata is copied by detached()), and not allocating
    // it was ~30 % less garbage per record in W5 (issue 14). A produce() from inside this one (a
    // custom partitioner or a record.accepted listener that produces) finds none and allocates.
    const spare = this.spare
    this.spare = null
    try {
      const r = normalizeRecord(record, now, this.maxRecordBytes, spare ?? undefined)
      const bytes = this.placement.size(r)
      const partition = this.placement.partitionIfKnown(r, bytes)
      if (!this.limits.tryAcquire(bytes)) {
        this.limits.refused()
        throw new KafkaError(
          '_QUEUE_FULL',
          `producer queue is full (${this.limits.count} records, ${this.limits.bytes} of ${this.bufferMemory} bytes ` +
            `awaiting delivery); wait for deliveries (flush) and retry, or use send() which waits up to max.block.ms`,
          { retriable: true },
        )
      }
      this.accept(r, bytes, partition, callback, now)
    } finally {
      if (spare !== null) {
        spare.clear()
        this.spare = spare
      }
    }
  }

  /**
   * Takes in a record already admitted (its `bytes` acquired): into its partition's batch, or, with
   * `partition` -1 (no metadata for its topic yet), into the wait for metadata.
   */
  accept(
    r: NormalizedRecord,
    bytes: number,
    partition: number,
    callback: DeliveryCallback | undefined,
    now: number,
  ): void {
    this.outstanding.accepted()
    if (this.acceptedGate.open) {
      this.events.emit('record.accepted', { topic: r.topic, partition, bytes })
    }
    if (partition < 0) {
      // Encoded into a batch only once metadata arrives: hold our own copy of the caller's bytes.
      this.waiting.add({ record: r.detached(), bytes, callback, acceptedAt: now })
      return
    }
    this.append(r, bytes, partition, callback, now)
  }

  /** Appends an accepted record to its partition's batch (also for one whose metadata just came). */
  append(
    r: NormalizedRecord,
    bytes: number,
    partition: number,
    callback: DeliveryCallback | undefined,
    acceptedAt: number,
  ): void {
    r.callback = callback
    r.bytes = bytes
    r.deadline = acceptedAt + this.deliveryTimeoutMs
    // A new batch needs its linger timer armed; a full one may go now. Otherwise the sender is
    // already due to look at this partition, and waking it per record would only cost time.
    const batch = this.accumulator.append(r.topic, partition, r, bytes)
    // Its first record: this one opened the batch.
    const opened = batch.count === 1
    // A partition's first record of a transaction always starts a batch (commit and abort leave
    // none behind), so checking new batches is enough to add every partition.
    if (opened && this.txn) this.txn.addPartition(r.topic, partition)
    if (opened || batch.closed) this.wakeSender()
  }
}
