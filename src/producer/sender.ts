import type { Codec } from '../compression/index.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import { BATCH_HEADER_SIZE, InitProducerIdApi, ProduceApi, type ProduceRequest } from '../protocol/index.js'
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

import { ResponseHandler, type BatchDone } from './response-handler.js'

export type { BatchDone, BatchOutcome } from './response-handler.js'

/**
 * Produce v13 names topics by id (KIP-516); we address topics by name, so v12 is our newest.
 * Versions 3..12 all carry RecordBatch v2 and differ only in error reporting.
 */
const PRODUCE_MAX_VERSION = 12

/**
 * Below this many bytes of records a batch is compressed inline: handing a batch to the thread pool
 * and back costs the JavaScript thread about 10-20 µs (measured with lz4-napi), which is what lz4
 * takes for ~4 KiB by itself, and a small batch is usually a latency-bound one (linger.ms=0) that
 * should not wait an extra event-loop turn.
 */
export const ASYNC_COMPRESSION_MIN_BYTES = 4096

/** zstd batches need Produce v7 (KIP-110, Kafka 2.1). */
const ZSTD_MIN_PRODUCE_VERSION = 7

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
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.CONCURRENT_TRANSACTIONS,
])

/**
 * Moves batches from the accumulator to the brokers: picks the batches that may go (full,
 * lingered long enough, or flushing), groups them by partition leader, respects the in-flight
 * cap per connection and sends them. It is the only code that marks batches in flight; what an
 * answer means for them (complete, retry with backoff, split, fail) is the ResponseHandler's
 * (response-handler.ts), which alone gives batches their outcome.
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
  /** What answers mean for the batches sent; gives every batch its outcome. */
  private readonly outcomes: ResponseHandler
  /** Produce requests sent and not answered yet (an epoch bump waits for 0). */
  private outstandingRequests = 0
  private initInProgress = false
  private initAttempts = 0
  private initRetryAt = 0
  private fatalReported = false
  /** A pass that may expire in-flight batches is scheduled (see run()). */
  private expiryPassScheduled = false
  /** The current pass runs after an event-loop turn that read the sockets: in-flight batches may expire. */
  private expiryPass = false

  constructor(
    private readonly opts: SenderOptions,
    private readonly accumulator: Accumulator,
    private readonly metadata: Metadata,
    private readonly pool: ConnectionPool,
    onBatchDone: BatchDone,
  ) {
    this.schedule = opts.schedule ?? ((fn) => setImmediate(fn))
    this.idem = opts.idempotence ?? null
    this.outcomes = new ResponseHandler({
      clock: opts.clock,
      random: opts.random,
      retries: opts.retries,
      retryBackoffMs: opts.retryBackoffMs,
      retryBackoffMaxMs: opts.retryBackoffMaxMs,
      accumulator,
      metadata,
      idempotence: this.idem,
      onBatchDone,
      wakeup: () => this.wakeup(),
    })
  }

  /** Fails every batch (fatal error, close): in-flight ones too; late answers are ignored. */
  failAll(err: KafkaError): void {
    this.outcomes.failAll(err)
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
    let inFlightExpired = false

    for (const q of this.accumulator.queues) {
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
          if (b.inFlight && !this.expiryPass) {
            inFlightExpired = true
            continue
          }
          this.outcomes.expire(b, now)
          i--
        } else {
          nextWake = Math.min(nextWake, b.deadline)
          // A full batch behind others (in flight, or waiting for their answers) is compressed
          // now, on the thread pool, so that it is ready when its turn comes.
          if (b.state === 'sealed') this.awaitsCompression(b)
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

    if (inFlightExpired) this.scheduleExpiryPass()

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
   * Runs a pass allowed to expire in-flight batches after the event loop has read the sockets:
   * passes run from setImmediate (wakeup), and an immediate scheduled from one runs in the next
   * turn, after its poll phase.
   */
  private scheduleExpiryPass(): void {
    if (this.expiryPassScheduled) return
    this.expiryPassScheduled = true
    this.schedule(() => {
      this.expiryPassScheduled = false
      this.expiryPass = true
      try {
        this.run()
      } finally {
        this.expiryPass = false
      }
    })
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
        this.outcomes.fail(b, err)
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
          const e = KafkaError.wrap(err, '_TRANSPORT')
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
      // A batch whose large request was cut off by the broker goes alone, so that a too-large
      // request is told apart from a too-large batch (see onRequestError).
      if (b.unwrittenCloses > 0 && out.length > 0) continue
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
          this.outcomes.fail(
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
      b.moveTo('inFlight')
      b.attempts++
      size += b.wire.length + 64
      out.push(b)
      if (b.unwrittenCloses > 0) break
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
    if (b.state === 'compressing') return true
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
    b.moveTo('compressing')
    codec.compressAsync(b.builder.recordsView()).then(
      (data) => {
        if (b.state !== 'compressing') return // expired or failed meanwhile: gone
        b.moveTo('ready')
        b.builder.setCompressed(codec.name, data)
        this.accumulator.observeCompression(b.topic, b.sizeInBytes, BATCH_HEADER_SIZE + data.length)
        this.wakeup()
      },
      () => {
        // Compressed inline at drain instead, where a codec error reaches the batch's records the
        // same way as without the thread pool.
        if (b.state !== 'compressing') return
        b.moveTo('sealed')
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
          for (const b of batches) this.outcomes.complete(b, -1, -1)
          this.wakeup()
        },
        (err: unknown) => {
          this.outstandingRequests--
          this.outcomes.onRequestError(batches, KafkaError.wrap(err, '_TRANSPORT'))
        },
      )
      return
    }
    conn.request(ProduceApi, req, { maxVersion: PRODUCE_MAX_VERSION }).then(
      (res) => {
        this.outstandingRequests--
        this.outcomes.onResponse(batches, res)
      },
      (err: unknown) => {
        this.outstandingRequests--
        this.outcomes.onRequestError(batches, KafkaError.wrap(err, '_TRANSPORT'))
      },
    )
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
        // Not run() here: timers fire before Node reads the sockets in an event-loop turn, so
        // after slow delivery callbacks an answer may be waiting unread while its batch's deadline
        // has passed. wakeup() runs the pass after this turn's reads: a batch whose answer has
        // arrived is completed by it, never expired.
        this.wakeup()
      },
      Math.max(0, at - now),
    )
  }
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
