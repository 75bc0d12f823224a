import type { Metadata } from '../cluster/metadata.js'
import type { Codec } from '../compression/index.js'
import { KafkaError } from '../errors/index.js'
import type { Accumulator, PartitionQueue } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import type { BatchCompressor } from './compressor.js'
import type { IdempotenceState } from './idempotence.js'
import type { ResponseHandler } from './response-handler.js'
import type { Instrumentation } from '../observability/events.js'
import type { TransactionalGate } from './transactional-gate.js'

/**
 * The broker remembers the last 5 batches per producer and partition to spot duplicates
 * (ProducerStateManager), so an idempotent producer never has more than 5 in flight per partition.
 */
const MAX_IN_FLIGHT_PER_PARTITION = 5
/** Bytes of a Produce request besides the record batches (header, topic names, array sizes). */
const REQUEST_OVERHEAD = 128
/** Bytes of a Produce request per batch besides the batch (partition index, sizes, topic share). */
const PER_BATCH_OVERHEAD = 64
/**
 * From this many partitions ready for one broker, a second request waits for the first one's
 * answer unless it would be full (see {@link Readiness.worthAnotherRequest}). W1- and W3-shaped
 * traffic (a few partitions per broker) never reaches it; W6 (1,000 partitions on one broker) does.
 */
export const COALESCE_FROM_PARTITIONS = 100

export interface ReadinessDeps {
  accumulator: Accumulator
  metadata: Pick<Metadata, 'topic' | 'requestUpdate'>
  /** Present when enable.idempotence is on: stamps batches at drain, gates per-partition order. */
  idempotence: IdempotenceState | null
  codec: Codec
  compressor: BatchCompressor
  /** Expires and fails batches (the only code that gives a batch its outcome). */
  outcomes: Pick<ResponseHandler, 'expire' | 'fail'>
  /** max.in.flight.requests.per.connection: 1 forbids overtaking even across retries. */
  maxInFlight: number
  /** Upper bound of one Produce request's size (message.max.bytes / max.request.size). */
  maxRequestBytes: number
  /** Emits batch.built (only when someone listens). */
  events: Instrumentation
  /**
   * A transactional producer's gate: batches are built with the transactional flag, and a
   * partition is drained only once it is in the transaction (classic protocol).
   */
  transaction?: Pick<TransactionalGate, 'isSendAllowed'> | null
}

/** What {@link Readiness.ready} found. */
export interface ReadyResult {
  /** Partition queues with a batch that may go now, by leader node id. */
  readonly byLeader: Map<number, PartitionQueue[]>
  /** The next time something becomes due (linger, backoff, delivery deadline). */
  readonly nextWake: number
  /** An in-flight batch is past its deadline and waits for a pass after the sockets were read. */
  readonly inFlightExpired: boolean
}

/**
 * Which batches may be sent, decided in one place (Java's RecordAccumulator.ready() and drain()):
 * the delivery deadline, linger.ms or a flush, retry backoff, compression on the thread pool, the
 * leader, and the ordering rules of idempotence and max.in.flight=1. The sender asks for the ready
 * partitions, opens connections, and drains one request's worth of batches at a time.
 */
export class Readiness {
  private flushing = 0
  private drainCursor = 0

  constructor(private readonly deps: ReadinessDeps) {}

  /** While flushing, every batch may go at once, regardless of linger.ms. */
  beginFlush(): void {
    this.flushing++
  }

  endFlush(): void {
    this.flushing = Math.max(0, this.flushing - 1)
  }

  /**
   * Expires what is due and finds the partitions whose next batch may go now, by leader.
   * `expiryPass`: in-flight batches may expire in this pass (see Sender.scheduleExpiryPass).
   */
  ready(now: number, expiryPass: boolean): ReadyResult {
    const { accumulator, metadata, outcomes, compressor } = this.deps
    let nextWake = Infinity
    let inFlightExpired = false
    const byLeader = new Map<number, PartitionQueue[]>()
    for (const q of accumulator.queues) {
      if (q.batches.length === 0) continue
      // Delivery timeout: a batch whose deadline passed fails now, even if it is in flight (as
      // Java does); a late response for it is then ignored.
      for (let i = 0; i < q.batches.length; i++) {
        const b = q.batches[i]!
        if (b.deadline <= now) {
          // An in-flight batch may have its answer waiting unread: after synchronous work that
          // outlasted its deadline (slow delivery callbacks), this pass can run before Node has
          // read the sockets again. It expires only in a pass of a later event-loop turn, after
          // that turn's reads; if its answer came, it is complete by then.
          if (b.inFlight && !expiryPass) {
            inFlightExpired = true
            continue
          }
          outcomes.expire(b, now)
          i--
        } else {
          nextWake = Math.min(nextWake, b.deadline)
          // A full batch behind others (in flight, or waiting for their answers) is compressed
          // now, on the thread pool, so that it is ready when its turn comes.
          if (b.state === 'sealed') compressor.awaits(b)
        }
      }
      const head = this.nextToSend(q)
      if (!head) continue
      if (head.retryAt > now) {
        nextWake = Math.min(nextWake, head.retryAt)
        continue
      }
      const lingerAt = this.lingerUntil(q, head, now)
      if (lingerAt > now) {
        nextWake = Math.min(nextWake, lingerAt)
        continue
      }
      // Woken again when its compression ends.
      if (compressor.awaits(head)) continue
      const leader = metadata.topic(q.topic)?.partitions[q.partition]?.leader ?? -1
      if (leader < 0) {
        // Woken again by the metadata update.
        metadata.requestUpdate()
        continue
      }
      let list = byLeader.get(leader)
      if (!list) byLeader.set(leader, (list = []))
      list.push(q)
    }
    return { byLeader, nextWake, inFlightExpired }
  }

  /**
   * Takes at most one batch per partition (a partition may appear once per Produce request) up to
   * the request size limit, starting at a rotating position so that no partition starves. Each
   * batch taken is stamped (idempotence), built (compressed inline if not done already) and marked
   * in flight.
   */
  drain(queues: PartitionQueue[], now: number): ProducerBatch[] {
    const { idempotence: idem, codec, accumulator, outcomes, compressor } = this.deps
    const out: ProducerBatch[] = []
    let size = REQUEST_OVERHEAD
    const n = queues.length
    const start = this.drainCursor++ % n
    for (let k = 0; k < n; k++) {
      const q = queues[(start + k) % n]!
      const b = this.nextToSend(q)
      if (!b || b.retryAt > now) continue
      // A batch whose large request was cut off by the broker goes alone, so that a too-large
      // request is told apart from a too-large batch (see ResponseHandler.onRequestError).
      if (b.unwrittenCloses > 0 && out.length > 0) continue
      if (this.lingerUntil(q, b, now) > now) continue
      if (compressor.awaits(b)) continue
      // Its bytes are built now: the batch takes no more records, even if it lingered open until
      // now and then does not fit in this request (it goes in the next one; later records start a
      // new batch behind it). Appending to built bytes is refused by the builder.
      if (b.state === 'open') b.moveTo('sealed')
      const freshStamp = idem !== null && !b.stamped
      if (freshStamp) idem.stamp(b)
      if (!b.wire) {
        const compressedBefore = b.builder.hasCompressed(codec.name)
        try {
          b.wire = b.builder.build({
            producerId: b.producerId,
            producerEpoch: b.producerEpoch,
            baseSequence: b.baseSequence,
            transactional: this.deps.transaction != null,
            codec,
          })
        } catch (err) {
          // Only a codec can fail here (the builder's own checks hold for a drained batch). The
          // batch never left, so its sequence is handed back before its records fail.
          if (freshStamp) idem.unstamp(b)
          outcomes.fail(
            b,
            new KafkaError(
              '_BAD_COMPRESSION',
              `${codec.name} compression of a batch for ${b.topic}[${b.partition}] failed: ${
                (err as Error)?.message ?? String(err)
              }`,
              { cause: err },
            ),
          )
          continue
        }
        if (!compressedBefore && b.attempts === 0)
          accumulator.observeCompression(b.topic, b.sizeInBytes, b.wire.length)
        // Built again only after an epoch bump (a new stamp), which is not a new batch.
        if (b.attempts === 0 && this.deps.events.has('batch.built')) {
          this.deps.events.emit('batch.built', {
            topic: b.topic,
            partition: b.partition,
            records: b.count,
            bytes: b.sizeInBytes,
            wireBytes: b.wire.length,
            keyValueBytes: b.keyValueBytes,
            codec: codec.name,
            queueTimeMs: now - b.createdAt,
            maxRecordBytes: b.maxRecordBytes,
          })
        }
      }
      if (out.length > 0 && size + b.wire.length > this.deps.maxRequestBytes) {
        // Not sent after all: hand its sequence back, so that a stamp always means "sent under it"
        // (an expired stamped batch forces an epoch bump). Its bytes were never handed on, so the
        // next build may stamp them in place again: a copy of every such batch was a fifth of W7's
        // memory churn (1 MiB batches, four to a request, half of them waiting for the next one).
        if (freshStamp) {
          idem.unstamp(b)
          b.builder.discardUnsentBuild()
        }
        continue
      }
      b.moveTo('inFlight')
      b.attempts++
      size += b.wire.length + PER_BATCH_OVERHEAD
      out.push(b)
      if (b.unwrittenCloses > 0) break
    }
    return out
  }

  /**
   * Whether the batches ready for a broker that already has a request of ours in flight should go
   * in another request now, or wait for the answer and then go as one larger request.
   *
   * A broker reads one request per connection at a time (it mutes the channel until it has
   * answered), so a second request in flight only saves the turnaround between an answer and the
   * next request. That is worth having while requests are large. But with many partitions ready and
   * little data each (W6: 1,000 partitions, batches of 5-7 records), the broker's cost is per
   * partition and per batch, and every request sent while another is in flight freezes a few
   * records per partition into batches of their own. Waiting for the answer lets those batches keep
   * growing: in W6 on one broker, 43-44k records/s with batches of ~770 bytes against 31-41k with
   * ~380 bytes, at less CPU (docs/performance.md). franz-go keeps one produce request in flight per
   * broker for the same reason, and librdkafka holds back new requests while one is still unsent
   * (queue.buffering.backpressure.threshold).
   *
   * So another request goes at once if few partitions are ready (fewer than
   * {@link COALESCE_FROM_PARTITIONS}), or if what is ready already fills a request
   * (max.request.size, at the sizes they will have on the wire). Otherwise it waits at most one round trip: the answer
   * wakes the sender, and max.in.flight.requests.per.connection stays an upper bound, never a floor.
   */
  worthAnotherRequest(queues: PartitionQueue[], now: number): boolean {
    if (queues.length < COALESCE_FROM_PARTITIONS) return true
    const acc = this.deps.accumulator
    let bytes = REQUEST_OVERHEAD
    for (const q of queues) {
      const b = this.nextToSend(q)
      if (!b || b.retryAt > now) continue
      // Its size on the wire: built already, or estimated with the topic's compression ratio (the
      // uncompressed size alone made W6's 1,000 lingered batches of ~1 KB look like a full request).
      bytes += (b.wire?.length ?? b.sizeInBytes * acc.compressionRatio(b.topic)) + PER_BATCH_OVERHEAD
      if (bytes >= this.deps.maxRequestBytes) return true
    }
    return false
  }

  /**
   * Until when `b` lingers: the last, still open batch of its queue waits linger.ms from its
   * creation unless a flush is under way; any other batch is full or behind others and may go.
   */
  private lingerUntil(q: PartitionQueue, b: ProducerBatch, now: number): number {
    const isLast = q.batches[q.batches.length - 1] === b
    if (!isLast || b.closed || this.flushing > 0) return now
    return this.deps.accumulator.lingerDeadline(b)
  }

  /** The oldest batch of `q` that is not in flight, if it may be sent next. */
  private nextToSend(q: PartitionQueue): ProducerBatch | undefined {
    const idem = this.deps.idempotence
    // Woken again when AddPartitionsToTxn has added the partition.
    if (this.deps.transaction && !this.deps.transaction.isSendAllowed(q.topic, q.partition)) return undefined
    let inFlight = 0
    for (const b of q.batches) {
      if (!b.inFlight) {
        if (b.fromSplit && inFlight > 0) return undefined
        if (!idem) return b
        // Idempotent ordering (as Java's drain does): a batch being resent keeps its sequence and
        // must reach the broker before anything after it, so it waits until every batch ahead of
        // it has its answer; and no more than 5 batches per partition are in flight.
        if (b.stamped && inFlight > 0) return undefined
        // One batch at a time until the broker has acknowledged one in this epoch (see hasAcked).
        if (inFlight > 0 && !idem.hasAcked(q.topic, q.partition)) return undefined
        if (inFlight >= MAX_IN_FLIGHT_PER_PARTITION) return undefined
        return b
      }
      inFlight++
      // max.in.flight.requests.per.connection=1 promises ordering even across retries (Java's
      // guaranteeMessageOrder): nothing behind an in-flight batch may overtake it.
      if (this.deps.maxInFlight === 1) return undefined
    }
    return undefined
  }
}
