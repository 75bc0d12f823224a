import type { Codec } from '../compression/index.js'
import {
  BATCH_HEADER_SIZE,
  InitProducerIdApi,
  KafkaError,
  ProduceApi,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/index.js'
import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import type { Connection } from '../network/connection.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { Accumulator, PartitionQueue } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import type { IdempotenceState } from './idempotence.js'

export interface SenderOptions {
  acks: -1 | 0 | 1
  requestTimeoutMs: number
  retries: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  maxInFlight: number
  /** Upper bound of one Produce request's size (message.max.bytes / max.request.size). */
  maxRequestBytes: number
  codec: Codec
  clock: Clock
  random: RandomSource
  /** Runs `fn` soon, after the current synchronous work (setImmediate by default). */
  schedule?: (fn: () => void) => void
  /** Present when enable.idempotence is on: producer id, epoch and sequences (KIP-98). */
  idempotence?: IdempotenceState | null
  /** Sent with InitProducerId (only meaningful for transactional producers). */
  transactionTimeoutMs?: number
  /** Called once when the producer can no longer continue (fenced, unauthorized). */
  onFatal?: (err: KafkaError) => void
}

/** What a completed batch reports to the producer, which turns it into per-record reports. */
export type BatchOutcome =
  { ok: true; baseOffset: number; logAppendTime: number } | { ok: false; error: KafkaError }

export type BatchDone = (batch: ProducerBatch, outcome: BatchOutcome) => void

/**
 * Produce v13 names topics by id (KIP-516); we address topics by name, so v12 is our newest.
 * Versions 3..12 all carry RecordBatch v2 and differ only in error reporting.
 */
const PRODUCE_MAX_VERSION = 12

/** Errors after which the leader we used is probably wrong: refresh metadata before retrying. */
const STALE_METADATA_CODES = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  56, // KAFKA_STORAGE_ERROR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
  100, // UNKNOWN_TOPIC_ID
])

/**
 * Below this many bytes of records a batch is compressed inline: handing a batch to the thread pool
 * and back costs the JavaScript thread about 10-20 µs (measured with lz4-napi), which is what lz4
 * takes for ~4 KiB by itself, and a small batch is usually a latency-bound one (linger.ms=0) that
 * should not wait an extra event-loop turn.
 */
export const ASYNC_COMPRESSION_MIN_BYTES = 4096

/** zstd batches need Produce v7 (KIP-110, Kafka 2.1). */
const ZSTD_MIN_PRODUCE_VERSION = 7

/** The broker's answer to a batch over its max.message.bytes (RecordTooLargeException in Java). */
const MESSAGE_TOO_LARGE = 10

/** Bytes of a Produce request besides the record batches (header, topic names, array sizes). */
const REQUEST_OVERHEAD = 128
const ZERO_UUID = Buffer.alloc(16)
/**
 * The broker remembers the last 5 batches per producer and partition to spot duplicates
 * (ProducerStateManager), so an idempotent producer never has more than 5 in flight per partition.
 */
const MAX_IN_FLIGHT_PER_PARTITION = 5
/** InitProducerId v6 is marked unstable in Kafka's definitions (2PC, KIP-939). */
const INIT_PRODUCER_ID_MAX_VERSION = 5
/** InitProducerId errors after which asking again may succeed. */
const INIT_RETRIABLE = new Set([
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  51, // CONCURRENT_TRANSACTIONS
])

/**
 * Moves batches from the accumulator to the brokers: picks the batches that may go (full,
 * lingered long enough, or flushing), groups them by partition leader, respects the in-flight
 * cap per connection, and handles responses (complete, retry with backoff, or fail). It is the
 * only code that marks batches in flight or removes them.
 *
 * It runs as a coalesced task: appends, responses, metadata updates and timers call
 * {@link wakeup}; one pass then does everything that can be done now and arms one timer for the
 * next deadline (linger, retry backoff, delivery timeout).
 */
export class Sender {
  private scheduledRun = false
  private timer: TimerHandle | null = null
  private timerAt = Infinity
  private flushing = 0
  private closed = false
  private drainCursor = 0
  private readonly schedule: (fn: () => void) => void
  private readonly idem: IdempotenceState | null
  /** Produce requests sent and not answered yet (an epoch bump waits for 0). */
  private outstandingRequests = 0
  private initInProgress = false
  private initAttempts = 0
  private initRetryAt = 0
  private fatalReported = false

  constructor(
    private readonly opts: SenderOptions,
    private readonly accumulator: Accumulator,
    private readonly metadata: Metadata,
    private readonly pool: ConnectionPool,
    private readonly onBatchDone: BatchDone,
  ) {
    this.schedule = opts.schedule ?? ((fn) => setImmediate(fn))
    this.idem = opts.idempotence ?? null
  }

  /** Asks for a pass soon; many calls before it runs cost one pass. */
  wakeup(): void {
    if (this.scheduledRun || this.closed) return
    this.scheduledRun = true
    this.schedule(() => {
      this.scheduledRun = false
      this.run()
    })
  }

  /** While flushing, every batch may go at once, regardless of linger.ms. */
  beginFlush(): void {
    this.flushing++
    this.wakeup()
  }

  endFlush(): void {
    this.flushing = Math.max(0, this.flushing - 1)
  }

  close(): void {
    this.closed = true
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = null
  }

  /** One pass. Public for deterministic tests; production code calls {@link wakeup}. */
  run(): void {
    if (this.closed) return
    const now = this.opts.clock.now()
    let nextWake = Infinity
    const byLeader = new Map<number, PartitionQueue[]>()

    for (const q of this.accumulator.queues) {
      if (q.batches.length === 0) continue
      // Delivery timeout: a batch whose deadline passed fails now, even if it is in flight (as
      // Java does); a late response for it is then ignored.
      for (let i = 0; i < q.batches.length; i++) {
        const b = q.batches[i]!
        if (b.deadline <= now) {
          this.expire(b, now)
          i--
        } else {
          nextWake = Math.min(nextWake, b.deadline)
          // A full batch behind others (in flight, or waiting for their answers) is compressed
          // now, on the thread pool, so that it is ready when its turn comes.
          if (b.closed && !b.inFlight) this.awaitsCompression(b)
        }
      }
      const head = this.nextToSend(q)
      if (!head) continue
      if (head.retryAt > now) {
        nextWake = Math.min(nextWake, head.retryAt)
        continue
      }
      const isLast = q.batches[q.batches.length - 1] === head
      const lingerAt = this.accumulator.lingerDeadline(head)
      if (isLast && !head.closed && this.flushing === 0 && lingerAt > now) {
        nextWake = Math.min(nextWake, lingerAt)
        continue
      }
      // Woken again when its compression ends.
      if (this.awaitsCompression(head)) continue
      const leader = this.metadata.topic(q.topic)?.partitions[q.partition]?.leader ?? -1
      if (leader < 0) {
        // Woken again by the metadata update.
        this.metadata.requestUpdate()
        continue
      }
      let list = byLeader.get(leader)
      if (!list) byLeader.set(leader, (list = []))
      list.push(q)
    }

    if (this.idem && !this.idempotenceReady(now)) {
      if (this.initRetryAt > now) nextWake = Math.min(nextWake, this.initRetryAt)
      this.arm(nextWake, now)
      return
    }

    for (const [nodeId, queues] of byLeader) {
      const conn = this.pool.ready(nodeId)
      if (!conn) {
        nextWake = Math.min(nextWake, this.connect(nodeId, now))
        continue
      }
      if (this.refusesCodec(conn, queues)) continue
      while (conn.inFlight < this.opts.maxInFlight) {
        const batches = this.drain(queues, now)
        if (batches.length === 0) break
        this.sendProduce(conn, batches)
      }
    }
    this.arm(nextWake, now)
  }

  /**
   * zstd needs Produce v7 (KIP-110, Kafka 2.1); an older broker answers a zstd batch with
   * UNKNOWN_SERVER_ERROR. So before anything is stamped or sent to such a leader, its partitions'
   * waiting batches fail with UNSUPPORTED_COMPRESSION_TYPE, as in Java. Returns whether it did.
   */
  private refusesCodec(conn: Connection, queues: PartitionQueue[]): boolean {
    if (this.opts.codec.name !== 'zstd') return false
    let version: number
    try {
      version = conn.versionFor(ProduceApi, PRODUCE_MAX_VERSION)
    } catch {
      return false // no common Produce version at all: sendProduce reports that (_UNSUPPORTED_FEATURE)
    }
    if (version >= ZSTD_MIN_PRODUCE_VERSION) return false
    const brokerMax = conn.apiVersions.get(ProduceApi.apiKey)?.maxVersion ?? version
    const err = new KafkaError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `compression.type zstd needs Produce v${ZSTD_MIN_PRODUCE_VERSION} (Kafka 2.1) or newer, but broker ` +
        `${conn.address} accepts Produce up to v${brokerMax}: use lz4, gzip or snappy with this ` +
        `broker, or a Kafka 2.1+ broker`,
    )
    for (const q of queues) {
      for (const b of [...q.batches]) {
        if (b.inFlight) continue
        // A batch sent before under this stamp (to a newer leader) leaves a gap: as in retryOrFail.
        if (this.idem && b.stamped) this.idem.requestBump()
        this.fail(b, err)
      }
    }
    return true
  }

  /** The oldest batch of `q` that is not in flight, if it may be sent next. */
  private nextToSend(q: PartitionQueue): ProducerBatch | undefined {
    let inFlight = 0
    for (const b of q.batches) {
      if (!b.inFlight) {
        if (b.fromSplit && inFlight > 0) return undefined
        if (!this.idem) return b
        // Idempotent ordering (as Java's drain does): a batch being resent keeps its sequence and
        // must reach the broker before anything after it, so it waits until every batch ahead of
        // it has its answer; and no more than 5 batches per partition are in flight.
        if (b.stamped && inFlight > 0) return undefined
        // One batch at a time until the broker has acknowledged one in this epoch (see hasAcked).
        if (inFlight > 0 && !this.idem.hasAcked(q.topic, q.partition)) return undefined
        if (inFlight >= MAX_IN_FLIGHT_PER_PARTITION) return undefined
        return b
      }
      inFlight++
      // max.in.flight.requests.per.connection=1 promises ordering even across retries (Java's
      // guaranteeMessageOrder): nothing behind an in-flight batch may overtake it.
      if (this.opts.maxInFlight === 1) return undefined
    }
    return undefined
  }

  /**
   * Gets the idempotent producer ready to send: fetches a producer id, or carries out a pending
   * epoch bump once no Produce request is outstanding (a bump while requests are in flight could
   * resend a batch the broker already wrote under a new epoch, where it would not be recognised
   * as a duplicate). Returns whether batches may be sent now.
   */
  private idempotenceReady(now: number): boolean {
    const idem = this.idem!
    if (idem.fatal) {
      this.reportFatal(idem.fatal)
      return false
    }
    if (idem.ready) return true
    if (this.outstandingRequests > 0) return false
    if (idem.needsBump) {
      const queued: ProducerBatch[] = []
      for (const q of this.accumulator.queues) for (const b of q.batches) queued.push(b)
      idem.bumpEpoch(queued)
      if (idem.ready) return true
    }
    if (idem.needsProducerId && !this.initInProgress && this.initRetryAt <= now) this.initProducerId()
    return false
  }

  /** InitProducerId (KIP-98) to any broker: a non-transactional producer needs no coordinator. */
  private initProducerId(): void {
    const brokers = [...this.metadata.brokers.values()]
    if (brokers.length === 0) {
      this.metadata.requestUpdate(true)
      return
    }
    const broker =
      brokers.find((b) => this.pool.ready(b.nodeId)) ?? brokers[this.initAttempts % brokers.length]!
    this.initInProgress = true
    this.initAttempts++
    const retryLater = (err: KafkaError): void => {
      this.initInProgress = false
      this.initRetryAt =
        this.opts.clock.now() +
        backoffMs(this.initAttempts, this.opts.retryBackoffMs, this.opts.retryBackoffMaxMs, this.opts.random)
      void err
      this.wakeup()
    }
    this.pool
      .get(broker)
      .then((conn) => {
        // A broker without InitProducerId will not have it on the next attempt either: fatal now,
        // instead of asking again until every record has timed out.
        try {
          conn.versionFor(InitProducerIdApi, INIT_PRODUCER_ID_MAX_VERSION)
        } catch (err) {
          throw idempotenceUnsupported(conn, err)
        }
        return conn.request(
          InitProducerIdApi,
          {
            transactionalId: null,
            transactionTimeoutMs: this.opts.transactionTimeoutMs ?? 60_000,
            producerId: -1n,
            producerEpoch: -1,
            enable2Pc: false,
            keepPreparedTxn: false,
          },
          { maxVersion: INIT_PRODUCER_ID_MAX_VERSION },
        )
      })
      .then(
        (res) => {
          if (res.errorCode === 0) {
            this.initInProgress = false
            this.initAttempts = 0
            this.idem!.setProducerId({ producerId: res.producerId, epoch: res.producerEpoch })
            this.wakeup()
            return
          }
          const err = KafkaError.fromKafkaCode(res.errorCode, 'InitProducerId')
          if (INIT_RETRIABLE.has(res.errorCode) || err.retriable) {
            retryLater(err)
            return
          }
          this.initInProgress = false
          this.idem!.setFatal(
            new KafkaError(err.code, `cannot get a producer id for idempotence: ${err.message}`, {
              kafkaCode: res.errorCode,
              fatal: true,
            }),
          )
          this.wakeup()
        },
        (err: unknown) => {
          const e = toKafkaError(err)
          if (!e.fatal) return retryLater(e)
          this.initInProgress = false
          this.idem!.setFatal(e)
          this.wakeup()
        },
      )
  }

  private reportFatal(err: KafkaError): void {
    if (this.fatalReported) return
    this.fatalReported = true
    this.opts.onFatal?.(err)
  }

  /** Starts connecting to a leader we have no connection to; returns when to look again. */
  private connect(nodeId: number, now: number): number {
    if (this.pool.isConnecting(nodeId)) return Infinity
    if (this.pool.inBackoff(nodeId)) return this.pool.retryAt(nodeId)
    const broker = this.metadata.broker(nodeId)
    if (!broker) {
      this.metadata.requestUpdate()
      return Infinity
    }
    this.pool.get(broker).then(
      () => this.wakeup(),
      () => {
        // The leader may have moved while it was unreachable.
        this.metadata.requestUpdate()
        this.wakeup()
      },
    )
    return now + this.opts.retryBackoffMs
  }

  /**
   * Takes at most one batch per partition (a partition may appear once per Produce request) up to
   * the request size limit, starting at a rotating position so that no partition starves.
   */
  private drain(queues: PartitionQueue[], now: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    let size = REQUEST_OVERHEAD
    const n = queues.length
    const start = this.drainCursor++ % n
    for (let k = 0; k < n; k++) {
      const q = queues[(start + k) % n]!
      const b = this.nextToSend(q)
      if (!b || b.retryAt > now) continue
      const isLast = q.batches[q.batches.length - 1] === b
      if (isLast && !b.closed && this.flushing === 0 && this.accumulator.lingerDeadline(b) > now) continue
      if (this.awaitsCompression(b)) continue
      const freshStamp = this.idem !== null && !b.stamped
      if (freshStamp) this.idem!.stamp(b)
      if (!b.wire) {
        const compressedBefore = b.builder.hasCompressed(this.opts.codec.name)
        try {
          b.wire = b.builder.build({
            producerId: b.producerId,
            producerEpoch: b.producerEpoch,
            baseSequence: b.baseSequence,
            transactional: false,
            codec: this.opts.codec,
          })
        } catch (err) {
          // Only a codec can fail here (the builder's own checks hold for a drained batch). The
          // batch never left, so its sequence is handed back before its records fail.
          if (freshStamp) this.idem!.unstamp(b)
          this.fail(
            b,
            new KafkaError(
              '_BAD_COMPRESSION',
              `${this.opts.codec.name} compression of a batch for ${b.topic}[${b.partition}] failed: ${
                (err as Error)?.message ?? String(err)
              }`,
              { cause: err },
            ),
          )
          continue
        }
        if (!compressedBefore && b.attempts === 0)
          this.accumulator.observeCompression(b.topic, b.sizeInBytes, b.wire.length)
      }
      if (out.length > 0 && size + b.wire.length > this.opts.maxRequestBytes) {
        // Not sent after all: hand its sequence back, so that a stamp always means "sent under it"
        // (an expired stamped batch forces an epoch bump).
        if (freshStamp) this.idem!.unstamp(b)
        continue
      }
      b.closed = true
      b.inFlight = true
      b.attempts++
      size += b.wire.length + 64
      out.push(b)
    }
    return out
  }

  /**
   * Whether `b` must wait for its records to be compressed; starts that (on libuv's thread pool)
   * for a batch big enough to be worth it. Compressing closes the batch: nothing may be appended to
   * bytes a worker thread is reading. The sequence stamp comes later, at drain, in partition
   * order, and lives in the header, outside the compressed bytes; so compressions may finish in
   * any order, and a batch stamped again after an epoch bump keeps its compressed records.
   * A batch that expires or fails while compressing is simply gone when the result arrives.
   */
  private awaitsCompression(b: ProducerBatch): boolean {
    if (b.compressing) return true
    const codec = this.opts.codec
    if (
      codec.compressAsync === undefined ||
      b.wire !== null ||
      b.compressFailed ||
      b.sizeInBytes - BATCH_HEADER_SIZE < ASYNC_COMPRESSION_MIN_BYTES ||
      b.builder.hasCompressed(codec.name)
    ) {
      return false
    }
    b.closed = true
    b.compressing = true
    codec.compressAsync(b.builder.recordsView()).then(
      (data) => {
        b.compressing = false
        b.builder.setCompressed(codec.name, data)
        this.accumulator.observeCompression(b.topic, b.sizeInBytes, BATCH_HEADER_SIZE + data.length)
        this.wakeup()
      },
      () => {
        // Compressed inline at drain instead, where a codec error reaches the batch's records the
        // same way as without the thread pool.
        b.compressing = false
        b.compressFailed = true
        this.wakeup()
      },
    )
    return true
  }

  private sendProduce(conn: Connection, batches: ProducerBatch[]): void {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>()
    for (const b of batches) {
      let parts = byTopic.get(b.topic)
      if (!parts) byTopic.set(b.topic, (parts = []))
      parts.push({ index: b.partition, records: b.wire! })
    }
    const req: ProduceRequest = {
      transactionalId: null,
      acks: this.opts.acks,
      timeoutMs: this.opts.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, topicId: ZERO_UUID, partitionData })),
    }
    this.outstandingRequests++
    if (this.opts.acks === 0) {
      // acks=0: the broker never answers; a record counts as delivered once written to the
      // socket, with offset -1 (at-most-once: what is lost after that is never reported).
      conn.request(ProduceApi, req, { noResponse: true, maxVersion: PRODUCE_MAX_VERSION }).then(
        () => {
          this.outstandingRequests--
          for (const b of batches) this.complete(b, -1, -1)
          this.wakeup()
        },
        (err: unknown) => {
          this.outstandingRequests--
          this.onRequestError(batches, toKafkaError(err))
        },
      )
      return
    }
    conn.request(ProduceApi, req, { maxVersion: PRODUCE_MAX_VERSION }).then(
      (res) => {
        this.outstandingRequests--
        this.onResponse(batches, res)
      },
      (err: unknown) => {
        this.outstandingRequests--
        this.onRequestError(batches, toKafkaError(err))
      },
    )
  }

  private onResponse(batches: ProducerBatch[], res: ProduceResponse): void {
    const byKey = new Map<string, ProducerBatch>()
    for (const b of batches) byKey.set(`${b.partition}\u0000${b.topic}`, b)
    let refresh = false
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        const key = `${p.index}\u0000${t.name}`
        const b = byKey.get(key)
        if (!b) continue
        byKey.delete(key)
        if (p.errorCode === 0) {
          this.idem?.onAcked(b)
          this.complete(b, Number(p.baseOffset), Number(p.logAppendTimeMs))
          continue
        }
        if (p.errorCode === MESSAGE_TOO_LARGE && b.count > 1 && b.inFlight) {
          this.splitTooLarge(b)
          continue
        }
        if (STALE_METADATA_CODES.has(p.errorCode)) refresh = true
        const detail = p.errorMessage ?? p.recordErrors?.map((e) => e.batchIndexErrorMessage).find((m) => m)
        const err = KafkaError.fromKafkaCode(
          p.errorCode,
          `produce to ${b.topic}[${b.partition}]${detail ? `: ${detail}` : ''}`,
        )
        if (this.idem) this.onIdempotentError(b, err)
        else this.retryOrFail(b, err)
      }
    }
    // A partition missing from the response is a broker bug; treat it as a retriable failure.
    for (const b of byKey.values()) {
      this.retryOrFail(
        b,
        new KafkaError('_BAD_MSG', `no response for ${b.topic}[${b.partition}]`, { retriable: true }),
      )
    }
    if (refresh) this.metadata.requestUpdate()
    this.wakeup()
  }

  /**
   * The broker refused a batch as larger than its max.message.bytes (a compressed batch can come
   * out bigger than its estimate): its records go back to the queue in smaller batches, as Java's
   * Sender does, instead of failing. Not counted as a retry. An idempotent batch's parts keep its
   * sequence range, so batches behind it (answered OUT_OF_ORDER_SEQUENCE_NUMBER meanwhile) are
   * retried after them as usual.
   */
  private splitTooLarge(big: ProducerBatch): void {
    big.inFlight = false
    const parts = this.accumulator.splitAndReenqueue(big)
    // isCurrent holds here (an epoch bump waits until no request is in flight); checked anyway so
    // that a stale stamp is never copied: unstamped parts get fresh sequences at drain.
    if (this.idem && big.stamped && this.idem.isCurrent(big)) this.idem.stampSplit(big, parts)
  }

  /** Produce errors of an idempotent producer, by the rules the broker applies (see idempotence.ts). */
  private onIdempotentError(b: ProducerBatch, err: KafkaError): void {
    const idem = this.idem!
    switch (idem.classify(b, err.kafkaCode ?? -1)) {
      case 'duplicate':
        // The broker already has this batch (written by an earlier attempt): delivered, but the
        // broker does not say at which offset.
        idem.onAcked(b)
        this.complete(b, -1, -1)
        return
      case 'retry':
        this.retryOrFail(
          b,
          new KafkaError(err.code, err.message, { kafkaCode: err.kafkaCode, retriable: true }),
        )
        return
      case 'bump':
        idem.requestBump()
        this.retryOrFail(
          b,
          new KafkaError(err.code, err.message, { kafkaCode: err.kafkaCode, retriable: true }),
        )
        return
      case 'fatal':
        idem.setFatal(new KafkaError(err.code, err.message, { kafkaCode: err.kafkaCode, fatal: true }))
        b.inFlight = false
        this.wakeup()
        return
      default:
        this.retryOrFail(b, err)
    }
  }

  private onRequestError(batches: ProducerBatch[], err: KafkaError): void {
    // The connection is gone or timed out; the leader may have moved with it.
    this.metadata.requestUpdate()
    for (const b of batches) this.retryOrFail(b, err)
    this.wakeup()
  }

  private retryOrFail(b: ProducerBatch, err: KafkaError): void {
    if (!b.inFlight) return // already expired
    b.inFlight = false
    const now = this.opts.clock.now()
    if (err.retriable && b.attempts <= this.opts.retries && now < b.deadline) {
      b.retryAt =
        now + backoffMs(b.attempts, this.opts.retryBackoffMs, this.opts.retryBackoffMaxMs, this.opts.random)
      return
    }
    // A sent batch given up on leaves a gap in its partition's sequence (the broker did not write
    // it, or may not have): later batches would get OUT_OF_ORDER_SEQUENCE_NUMBER until they time
    // out. Bump the epoch, as for an expired batch (Java: handleFailedBatch).
    if (this.idem && b.stamped) this.idem.requestBump()
    if (err.retriable && b.attempts <= this.opts.retries) {
      this.fail(b, timedOut(b, now, err))
      return
    }
    this.fail(b, err)
  }

  private expire(b: ProducerBatch, now: number): void {
    b.inFlight = false
    // A batch that was sent and then given up on leaves its partition's sequence unresolved: the
    // broker may or may not have it. Java bumps the epoch in that case (KIP-360) so later batches
    // do not fail with OUT_OF_ORDER_SEQUENCE_NUMBER forever.
    if (this.idem && b.stamped) this.idem.requestBump()
    this.fail(b, timedOut(b, now, null))
  }

  /** Fails every batch (fatal error, close): in-flight ones too; late responses are ignored. */
  failAll(err: KafkaError): void {
    for (const q of this.accumulator.queues) {
      for (const b of [...q.batches]) {
        b.inFlight = false
        this.fail(b, err)
      }
    }
  }

  private complete(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    if (!b.inFlight) return // expired while in flight: its records already have an outcome
    b.inFlight = false
    this.accumulator.remove(b)
    this.onBatchDone(b, { ok: true, baseOffset, logAppendTime })
  }

  private fail(b: ProducerBatch, error: KafkaError): void {
    this.accumulator.remove(b)
    this.onBatchDone(b, { ok: false, error })
  }

  private arm(at: number, now: number): void {
    if (at === Infinity) return
    if (this.timer && this.timerAt <= at && this.timerAt > now) return
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timerAt = at
    this.timer = this.opts.clock.setTimeout(
      () => {
        this.timer = null
        this.timerAt = Infinity
        this.run()
      },
      Math.max(0, at - now),
    )
  }
}

function timedOut(b: ProducerBatch, now: number, last: KafkaError | null): KafkaError {
  return new KafkaError(
    '_MSG_TIMED_OUT',
    `${b.count} record(s) for ${b.topic}[${b.partition}] not delivered within delivery.timeout.ms ` +
      `(${now - b.createdAt} ms since the batch was created, ${b.attempts} attempt(s))` +
      (last ? `; last error: ${last.message}` : ''),
    last ? { cause: last } : {},
  )
}

/**
 * The fatal error for a broker that cannot give an idempotent producer its id (Kafka before 0.11, or a
 * Kafka-compatible service without idempotent producers). As in Java, idempotence left at its default
 * (on) fails the same way as idempotence set explicitly: it is never dropped silently.
 */
function idempotenceUnsupported(conn: Connection, cause: unknown): KafkaError {
  const initRange = conn.apiVersions.get(InitProducerIdApi.apiKey)
  const produce = conn.apiVersions.get(ProduceApi.apiKey)
  const situation = initRange
    ? `supports InitProducerId (apiKey ${InitProducerIdApi.apiKey}) only in versions ` +
      `${initRange.minVersion}-${initRange.maxVersion}, none of which this client speaks`
    : `does not support InitProducerId (apiKey ${InitProducerIdApi.apiKey}), so it is older than Kafka 0.11 ` +
      `(or a Kafka-compatible service without idempotent producers)`
  // Produce v3 (RecordBatch v2) came with 0.11 too: such a broker takes no records from this client.
  const advice =
    produce !== undefined && produce.maxVersion < ProduceApi.minVersion
      ? `Upgrade the broker to Kafka 0.11 or newer: it accepts Produce only up to v${produce.maxVersion} and ` +
        `this client needs v${ProduceApi.minVersion} to send any record, so 'enable.idempotence: false' ` +
        `would not help`
      : `Set 'enable.idempotence: false' to produce without idempotence (a retried batch may then be ` +
        `written twice), or upgrade the broker to Kafka 0.11 or newer`
  return new KafkaError(
    '_UNSUPPORTED_FEATURE',
    `cannot get a producer id for idempotence (enable.idempotence, on by default): broker ${conn.address} ` +
      `${situation}. ${advice}`,
    { fatal: true, cause },
  )
}

function toKafkaError(err: unknown): KafkaError {
  return err instanceof KafkaError ? err : new KafkaError('_TRANSPORT', String(err), { cause: err })
}
