import type { Clock } from '../util/clock.js'
import { type BatchBufferPool, RecordBatchBuilder } from '../protocol/index.js'
import { ProducerBatch, type RecordEntry } from './batch.js'

export interface PartitionQueue {
  readonly topic: string
  readonly partition: number
  /** Oldest first. Batches in flight stay at the head until their response arrives. */
  readonly batches: ProducerBatch[]
  /** Records in the partition's last batch that took no more: the next batch makes room for as many. */
  recentRecords: number
}

/** A topic's partition queues (by partition index; sparse until used) and its batch budget. */
interface TopicQueues {
  readonly topic: string
  readonly partitions: PartitionQueue[]
  /** {@link Accumulator.budget} for the topic, recomputed when its compression estimate moves. */
  budget: number
}

export interface AccumulatorOptions {
  batchSize: number
  batchNumMessages: number
  lingerMs: number
  deliveryTimeoutMs: number
  clock: Clock
  /** Batches are compressed: batch.size then bounds the estimated compressed size (as in Java). */
  compressed?: boolean
  /** No batch may grow beyond this many uncompressed bytes (message.max.bytes). */
  maxBatchBytes?: number
  /** Large batch buffers for reuse after delivery (see BatchBufferPool); none: always new. */
  bufferPool?: BatchBufferPool
}

/**
 * Java's CompressionRatioEstimator: batch.size bounds a batch's *compressed* size, estimated from
 * the ratio observed on the topic's earlier batches. The estimate starts at 1 (no gain), creeps
 * down by 0.005 per better batch and jumps up by 0.05 per worse one, so an overestimate of the gain
 * is corrected fast. A 5 % margin is added when the estimate is used.
 */
const RATIO_IMPROVING_STEP = 0.005
const RATIO_DETERIORATING_STEP = 0.05
const RATIO_MARGIN = 1.05

/**
 * Per-partition queues of batches (Java's RecordAccumulator, franz-go's recBuf). The API side
 * only appends; the sender alone takes batches out, marks them in flight and removes them when
 * they complete, so there is one owner for every change of a batch's state.
 */
export class Accumulator {
  /**
   * Per topic: its partitions' queues by partition index, and its batch budget. An array and a
   * one-topic cache rather than two Map lookups per record: append() runs for every record, and
   * producers mostly write to one topic (issue 14 measured the lookups at ~5 % of W5's appends).
   */
  private readonly byTopic = new Map<string, TopicQueues>()
  private lastTopic: TopicQueues | null = null
  /** Every queue, in creation order: the sender walks this list. */
  readonly queues: PartitionQueue[] = []
  /** Batches created and not yet completed, for flush() and close(). */
  private batchCount = 0

  private readonly ratios = new Map<string, number>()

  constructor(private readonly opts: AccumulatorOptions) {}

  /** Empties the pool of large batch buffers (the producer closed). */
  dropIdleBuffers(): void {
    this.opts.bufferPool?.clear()
  }

  /** Uncompressed bytes a batch of `topic` may hold so that it compresses to about batch.size. */
  private budget(topic: string): number {
    if (!this.opts.compressed) return this.opts.batchSize
    const ratio = this.ratios.get(topic) ?? 1
    const budget = Math.floor(this.opts.batchSize / (ratio * RATIO_MARGIN))
    return Math.max(this.opts.batchSize, Math.min(budget, this.opts.maxBatchBytes ?? Infinity))
  }

  /** `topic`'s queues and budget, created on first use. */
  private topicQueues(topic: string): TopicQueues {
    const last = this.lastTopic
    if (last !== null && last.topic === topic) return last
    let t = this.byTopic.get(topic)
    if (!t) {
      t = { topic, partitions: [], budget: this.budget(topic) }
      this.byTopic.set(topic, t)
    }
    this.lastTopic = t
    return t
  }

  /** Feeds the ratio of a batch just compressed into the topic's estimate (sender, on first build). */
  observeCompression(topic: string, uncompressedBytes: number, compressedBytes: number): void {
    if (!this.opts.compressed || uncompressedBytes <= 0) return
    const observed = compressedBytes / uncompressedBytes
    const current = this.ratios.get(topic) ?? 1
    const next =
      observed > current
        ? Math.max(current + RATIO_DETERIORATING_STEP, observed)
        : Math.max(current - RATIO_IMPROVING_STEP, observed)
    this.ratios.set(topic, Math.min(1, next))
    const t = this.byTopic.get(topic)
    if (t) t.budget = this.budget(topic)
  }

  /** The current compression ratio estimate for `topic` (1 = no gain assumed). */
  compressionRatio(topic: string): number {
    return this.ratios.get(topic) ?? 1
  }

  queue(topic: string, partition: number): PartitionQueue {
    return this.queueIn(this.topicQueues(topic), partition)
  }

  private queueIn(t: TopicQueues, partition: number): PartitionQueue {
    let q = t.partitions[partition]
    if (q === undefined) {
      q = { topic: t.topic, partition, batches: [], recentRecords: 0 }
      t.partitions[partition] = q
      this.queues.push(q)
    }
    return q
  }

  /** The queue of `topic`'s `partition` if it was ever used. */
  private existingQueue(topic: string, partition: number): PartitionQueue | undefined {
    return this.byTopic.get(topic)?.partitions[partition]
  }

  /**
   * Appends to the partition's open batch, or to a new one. Returns the batch: a count of 1 means
   * this record opened it (the sender arms its linger timer), `closed` that it is full and may go.
   * No result object: this runs once per record (issue 14).
   */
  append(topic: string, partition: number, entry: RecordEntry, sizeBound: number): ProducerBatch {
    const t = this.topicQueues(topic)
    const q = this.queueIn(t, partition)
    const last = q.batches[q.batches.length - 1]
    const budget = t.budget
    if (last && last.tryAppend(entry, sizeBound, budget, this.opts.batchNumMessages)) {
      return last
    }
    // The batch that took no more tells how many records the next one will likely hold.
    if (last) q.recentRecords = last.count
    const batch = new ProducerBatch(
      topic,
      partition,
      Math.min(Math.max(budget, sizeBound + 128), 1 << 30),
      this.opts.clock.now(),
      this.opts.deliveryTimeoutMs,
      Math.min(q.recentRecords, this.opts.batchNumMessages),
      this.opts.bufferPool ?? null,
    )
    batch.tryAppend(entry, sizeBound, budget, this.opts.batchNumMessages)
    q.batches.push(batch)
    this.batchCount++
    return batch
  }

  /** When the head batch of `q` may be sent because of linger (ignoring size and flush). */
  lingerDeadline(batch: ProducerBatch): number {
    return batch.createdAt + this.opts.lingerMs
  }

  /**
   * Java's splitAndReenqueue: the broker refused `big` as too large (MESSAGE_TOO_LARGE), so its
   * records move, in order, into smaller batches that take its place in the queue. Each part holds
   * at most half of `big` (and at most batch.size), so repeated refusals end with one-record
   * batches, which then fail for good. The topic's compression estimate goes back to 1 (no gain
   * assumed), as in Java, so new batches are not built too large again. The parts are closed; the
   * caller carries the idempotence stamp over.
   */
  splitAndReenqueue(big: ProducerBatch): ProducerBatch[] {
    if (this.opts.compressed) {
      this.ratios.set(big.topic, 1)
      const t = this.byTopic.get(big.topic)
      if (t) t.budget = this.budget(big.topic)
    }
    const budget = Math.min(this.opts.batchSize, Math.ceil(big.sizeInBytes / 2))
    const parts: ProducerBatch[] = []
    let part: ProducerBatch | undefined
    let reserved = 0
    for (let i = 0; i < big.count; i++) {
      const key = big.keyAt(i)
      const value = big.valueAt(i)
      const headers = big.headersAt(i)
      const bytes = RecordBatchBuilder.recordSizeUpperBound(key, value, headers)
      const entry: RecordEntry = {
        key,
        keyLength: key === null ? -1 : key.length,
        value,
        valueLength: value === null ? -1 : value.length,
        headers,
        timestamp: big.timestampAt(i),
        callback: big.callbackAt(i),
        bytes,
        deadline: big.deadline,
      }
      if (!part || !part.tryAppend(entry, bytes, budget, this.opts.batchNumMessages)) {
        part = new ProducerBatch(big.topic, big.partition, budget + bytes, big.createdAt, 0)
        part.deadline = big.deadline
        part.tryAppend(entry, bytes, budget, this.opts.batchNumMessages)
        parts.push(part)
      }
      reserved += bytes
    }
    // buffer.memory is released per batch: the parts together give back what `big` took.
    parts[parts.length - 1]!.reservedBytes += big.reservedBytes - reserved
    for (const p of parts) {
      if (p.state === 'open') p.moveTo('sealed')
      p.fromSplit = true
    }
    const q = this.existingQueue(big.topic, big.partition)
    const at = q ? q.batches.indexOf(big) : -1
    if (q && at >= 0) {
      q.batches.splice(at, 1, ...parts)
      this.batchCount += parts.length - 1
    }
    return parts
  }

  /** Removes a completed batch (it is always at or near the head of its queue). */
  remove(batch: ProducerBatch): void {
    const q = this.existingQueue(batch.topic, batch.partition)
    if (!q) return
    const i = q.batches.indexOf(batch)
    if (i >= 0) {
      q.batches.splice(i, 1)
      this.batchCount--
    }
  }

  get pendingBatches(): number {
    return this.batchCount
  }
}
