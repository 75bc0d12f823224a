import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import type { Codec } from '../compression/index.js'
import { AUTHENTICATION_ERRORS, KafkaError } from '../errors/index.js'
import type { Connection } from '../network/connection.js'
import { ProduceApi, type ProduceRequest } from '../protocol/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { Accumulator, PartitionQueue } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import { BatchCompressor } from './compressor.js'
import type { IdempotenceState } from './idempotence.js'
import { ProducerIdManager, type ProducerIdState } from './producer-id-manager.js'
import { Readiness } from './readiness.js'
import { ResponseHandler, type BatchDone } from './response-handler.js'
import { Instrumentation } from '../observability/events.js'
import type { TransactionalGate } from './transactional-gate.js'

export type { BatchDone, BatchOutcome } from './response-handler.js'
export { ASYNC_COMPRESSION_MIN_BYTES, asyncCompressionMinBytes } from './compressor.js'

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
  /** Batches with fewer bytes of records are compressed inline (compressor.ts). */
  asyncCompressionMinBytes?: number
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
  /** Where batch.* events go (only computed when someone listens). */
  instrumentation?: Instrumentation
  /** Hears every change of the producer id's state (idempotence only). */
  onProducerIdChange?: (state: ProducerIdState) => void
  /**
   * Present for a transactional producer: its transaction manager owns the producer id (no
   * ProducerIdManager) and decides what may be sent.
   */
  transaction?: TransactionalGate | null
}

/**
 * Produce v13 names topics by id (KIP-516); we address topics by name, so v12 is our newest.
 * Versions 3..12 all carry RecordBatch v2 and differ only in error reporting.
 */
const PRODUCE_MAX_VERSION = 12
/** zstd batches need Produce v7 (KIP-110, Kafka 2.1). */
const ZSTD_MIN_PRODUCE_VERSION = 7
const ZERO_UUID = Buffer.alloc(16)

/**
 * The send loop: asks Readiness (readiness.ts) which partitions may send, the ProducerIdManager
 * (producer-id-manager.ts) whether the idempotent producer may stamp, connects to leaders, drains
 * batches into Produce requests within the in-flight cap per connection, sends them, and hands
 * each answer to the ResponseHandler (response-handler.ts), which alone gives batches their
 * outcome.
 *
 * It runs as a coalesced task: appends, responses, metadata updates and timers call
 * {@link wakeup}; one pass then does everything that can be done now and arms one timer for the
 * next deadline (linger, retry backoff, delivery timeout).
 */
export class Sender {
  private scheduledRun = false
  private timer: TimerHandle | null = null
  private timerAt = Infinity
  private closed = false
  private readonly schedule: (fn: () => void) => void
  private readonly idem: IdempotenceState | null
  /** What answers mean for the batches sent; gives every batch its outcome. */
  private readonly outcomes: ResponseHandler
  /** Which batches may go now. */
  private readonly readiness: Readiness
  /** Producer id and epoch of an idempotent producer (null without idempotence). */
  private readonly producerId: ProducerIdManager | null
  private readonly events: Instrumentation
  private readonly txn: TransactionalGate | null
  /** Produce requests sent and not answered yet (an epoch bump waits for 0). */
  private outstandingRequests = 0
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
    this.txn = opts.transaction ?? null
    const wakeup = (): void => this.wakeup()
    this.events = opts.instrumentation ?? new Instrumentation()
    this.outcomes = new ResponseHandler({
      clock: opts.clock,
      random: opts.random,
      retries: opts.retries,
      retryBackoffMs: opts.retryBackoffMs,
      retryBackoffMaxMs: opts.retryBackoffMaxMs,
      accumulator,
      metadata,
      idempotence: this.idem,
      transactional: this.txn !== null,
      onBatchDone,
      wakeup,
      events: this.events,
    })
    this.readiness = new Readiness({
      accumulator,
      metadata,
      idempotence: this.idem,
      codec: opts.codec,
      compressor: new BatchCompressor({
        codec: opts.codec,
        observe: (topic, raw, compressed) => accumulator.observeCompression(topic, raw, compressed),
        wakeup,
        ...(opts.asyncCompressionMinBytes !== undefined && { asyncMinBytes: opts.asyncCompressionMinBytes }),
      }),
      outcomes: this.outcomes,
      maxInFlight: opts.maxInFlight,
      maxRequestBytes: opts.maxRequestBytes,
      events: this.events,
      transaction: this.txn,
    })
    this.producerId =
      this.idem === null || this.txn !== null
        ? null
        : new ProducerIdManager({
            idempotence: this.idem,
            pool,
            metadata,
            clock: opts.clock,
            random: opts.random,
            retryBackoffMs: opts.retryBackoffMs,
            retryBackoffMaxMs: opts.retryBackoffMaxMs,
            transactionTimeoutMs: opts.transactionTimeoutMs ?? 60_000,
            onFatal: (err) => opts.onFatal?.(err),
            wakeup,
            onStateChange: opts.onProducerIdChange,
          })
  }

  /**
   * Where the idempotent producer's id is, and why the last InitProducerId failed (null once an id
   * arrived); null without idempotence. A pass asks for an id when there is none: see wakeup().
   */
  get producerIdStatus(): { state: ProducerIdState; lastError: KafkaError | null } | null {
    return this.producerId && { state: this.producerId.state, lastError: this.producerId.lastError }
  }

  /** Fails every batch (fatal error, close): in-flight ones too; late answers are ignored. */
  failAll(err: KafkaError): void {
    this.outcomes.failAll(err)
  }

  /**
   * Fails every batch not in flight (a transaction being aborted, purge()); in-flight ones get their
   * answers. Returns how many records it failed.
   */
  failUnsent(err: KafkaError): number {
    return this.outcomes.failUnsent(err)
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
    this.readiness.beginFlush()
    this.wakeup()
  }

  endFlush(): void {
    this.readiness.endFlush()
  }

  close(): void {
    this.closed = true
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = null
    // Nothing more will be sent: the idle large buffers need not outlive the producer object.
    this.accumulator.dropIdleBuffers()
  }

  /** One pass. Public for deterministic tests; production code calls {@link wakeup}. */
  run(): void {
    if (this.closed) return
    const now = this.opts.clock.now()
    const ready = this.readiness.ready(now, this.expiryPass)
    let nextWake = ready.nextWake
    if (ready.inFlightExpired) this.scheduleExpiryPass()

    if (this.txn && !this.txn.maySend(now, (err) => this.outcomes.failUnsent(err))) {
      const at = this.txn.heldUntil(now)
      if (at > now) nextWake = Math.min(nextWake, at)
      this.arm(nextWake, now)
      return
    }
    if (this.producerId && !this.producerId.maySend(now, this.outstandingRequests, () => this.queued())) {
      const at = this.producerId.nextAttemptAt
      if (at > now) nextWake = Math.min(nextWake, at)
      this.arm(nextWake, now)
      return
    }

    for (const [nodeId, queues] of ready.byLeader) {
      const conn = this.pool.ready(nodeId)
      if (!conn) {
        const refused = this.authenticationFailure(nodeId)
        if (refused) this.failQueued(queues, refused)
        else nextWake = Math.min(nextWake, this.connect(nodeId, now))
        continue
      }
      if (this.refusesCodec(conn, queues)) continue
      while (conn.inFlight < this.opts.maxInFlight) {
        // Many small batches wait for the answer in flight and go together (Readiness).
        if (conn.inFlight > 0 && !this.readiness.worthAnotherRequest(queues, now)) break
        const batches = this.readiness.drain(queues, now)
        if (batches.length === 0) break
        this.sendProduce(conn, batches)
      }
    }
    this.arm(nextWake, now)
  }

  private *queued(): Iterable<ProducerBatch> {
    for (const q of this.accumulator.queues) yield* q.batches
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
    this.failQueued(queues, err)
    return true
  }

  /** Fails the partitions' batches that are not in flight (in-flight ones get their answers). */
  private failQueued(queues: PartitionQueue[], err: KafkaError): void {
    for (const q of queues) {
      for (const b of [...q.batches]) {
        if (b.inFlight) continue
        // A batch sent before under this stamp (to a newer leader) leaves a gap: as in retryOrFail.
        if (this.idem && b.stamped) this.idem.requestBump()
        this.outcomes.fail(b, err)
      }
    }
  }

  /**
   * The error of a leader whose last connection attempt was refused by SASL or TLS, while the next
   * attempt waits for its backoff: its batches fail with it now rather than at delivery.timeout.ms
   * (issue 11), and those appended after the backoff wait for the next attempt's verdict.
   */
  private authenticationFailure(nodeId: number): KafkaError | null {
    const err = this.pool.lastError(nodeId)
    return err && AUTHENTICATION_ERRORS.has(err.code) && this.pool.inBackoff(nodeId) ? err : null
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

  private sendProduce(conn: Connection, batches: ProducerBatch[]): void {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>()
    for (const b of batches) {
      let parts = byTopic.get(b.topic)
      if (!parts) byTopic.set(b.topic, (parts = []))
      parts.push({ index: b.partition, records: b.wire! })
    }
    // A delivered batch's buffer is reused only once the request that delivered it was written
    // (ProducerBatch.recycle). `mark` tells this request apart on its batches: an earlier request's
    // write that ends late (answered early, the batch resent since) sets nothing. An empty object
    // rather than the callback, so that a kept report does not keep the request's other batches.
    const mark = {}
    const onWritten = (): void => {
      for (const b of batches) if (b.lastRequest === mark) b.written()
    }
    for (const b of batches) {
      b.lastRequest = mark
      b.requestWritten = false
    }
    const req: ProduceRequest = {
      transactionalId: this.txn ? this.txn.transactionalId : null,
      acks: this.opts.acks,
      timeoutMs: this.opts.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, topicId: ZERO_UUID, partitionData })),
    }
    if (this.events.has('batch.sent') || this.events.has('batch.answered')) this.instrumentSend(conn, batches)
    this.outstandingRequests++
    this.txn?.onProduceSent()
    const maxVersion = this.txn ? this.txn.produceMaxVersion : PRODUCE_MAX_VERSION
    if (this.opts.acks === 0) {
      // acks=0: the broker never answers; a record counts as delivered once written to the
      // socket, with offset -1 (at-most-once: what is lost after that is never reported).
      conn.request(ProduceApi, req, { noResponse: true, maxVersion: PRODUCE_MAX_VERSION, onWritten }).then(
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
    conn.request(ProduceApi, req, { maxVersion, onWritten }).then(
      (res) => {
        this.outstandingRequests--
        this.outcomes.onResponse(batches, res, conn.nodeId)
      },
      (err: unknown) => {
        this.outstandingRequests--
        this.outcomes.onRequestError(batches, KafkaError.wrap(err, '_TRANSPORT'))
      },
    )
  }

  /** batch.sent for each batch, and the send time batch.answered measures from. */
  private instrumentSend(conn: Connection, batches: ProducerBatch[]): void {
    const events = this.events
    const sent = events.has('batch.sent')
    const now = events.has('batch.answered') ? this.opts.clock.now() : -1
    for (const b of batches) {
      b.sentAt = now
      if (sent) {
        events.emit('batch.sent', {
          nodeId: conn.nodeId,
          topic: b.topic,
          partition: b.partition,
          records: b.count,
          wireBytes: b.wire!.length,
          attempt: b.attempts,
        })
      }
    }
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
