import { availableParallelism } from 'node:os'
import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import {
  resolveProducerConfig,
  warnNotImplemented,
  type ProducerConfig,
  type ResolvedProducerConfig,
} from '../config/index.js'
import { KafkaError } from '../errors/index.js'
import { Instrumentation } from '../observability/events.js'
import type { Metric } from '../observability/metrics/index.js'
import { LifecycleEvents } from './lifecycle.js'
import { systemClock, type Clock } from '../util/clock.js'
import { systemRandom, type RandomSource } from '../util/random.js'
import { abortError, checkSignal } from './abort.js'
import type { Accumulator } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import { keepPayload } from './batch-report.js'
import { BufferLimits } from './buffer-limits.js'
import { OutstandingRecords } from './outstanding.js'
import { ReadinessCalls, callTimeout } from './readiness-calls.js'
import { DeliveryReporter } from './delivery-reports.js'
import type { IdempotenceState } from './idempotence.js'
import type { MetadataWaitQueue, WaitingRecord } from './metadata-wait.js'
import { normalizeRecord } from './normalize.js'
import { RecordIntake } from './intake.js'
import type {
  CloseOptions,
  ConnectOptions,
  FlushOptions,
  PartitionMetadata,
  PartitionsForOptions,
  SendOptions,
} from './options.js'
import { createPartitioner } from './partitioner.js'
import { RecordPlacement } from './placement.js'
import { ProducerObservers } from './observers.js'
import type { Statistics } from '../observability/statistics/index.js'
import { TransactionalCalls } from './transactional-calls.js'
import type {
  ConsumerGroupMetadata,
  TransactionManager,
  TransactionOffset,
  TransactionState,
} from '../transactions/index.js'
import {
  createTransactions,
  createAccumulator,
  createIdempotence,
  createMetadata,
  createPool,
  createSender,
  type ProducerDependencies,
} from './parts.js'
import type { DeliveryCallback, DeliveryReport, ProducerRecord } from './record.js'
import type { BatchOutcome, Sender } from './sender.js'
import {
  createRecordWritable,
  type ProducerWriteStream,
  type WriteStreamChunk,
  type WriteStreamOptions,
} from './write-stream.js'

export type { ProducerDependencies } from './parts.js'

type State = 'open' | 'closing' | 'closed' | 'fatal'

/**
 * The producer facade: the public API (produce() with a delivery callback, send() returning a
 * promise, flush(), close()) and the lifecycle, counting every accepted record until its one
 * report. Validation, partitioning, admission, batching, sending and reporting are the parts'
 * (parts.ts builds them; docs/architecture.md follows a record through them).
 */
export class Producer {
  readonly config: ResolvedProducerConfig
  private readonly clock: Clock
  private readonly random: RandomSource
  private readonly pool: ConnectionPool
  private readonly metadata: Metadata
  private readonly accumulator: Accumulator
  private readonly sender: Sender
  private readonly limits: BufferLimits
  private readonly placement: RecordPlacement
  private readonly lifecycle: LifecycleEvents
  /** Set when the idempotent producer hit an error it cannot recover from. */
  private fatalError: KafkaError | null = null
  /**
   * Producer id, epoch and sequences when enable.idempotence is on (null otherwise). Private: its
   * methods change the producer's state; users read producerId/producerEpoch, tests use
   * test/helpers/internals.ts.
   */
  private readonly idempotence: IdempotenceState | null
  private readonly waiting: MetadataWaitQueue
  private readonly reports: DeliveryReporter
  /** The transaction manager when transactional.id is set (docs/transactions.md), else null. */
  private readonly txn: TransactionManager | null
  /** Transactional calls (initTransactions, commit...) running: they keep Node alive like records do. */
  private readonly txnCalls: TransactionalCalls
  /**
   * The instrumentation seam: typed events for every record, batch, request and connection
   * (src/observability/events.ts), for statistics and metrics to subscribe to. Nothing is computed
   * for an event no one listens to. A listener that throws is reported to error_cb.
   */
  readonly instrumentation: Instrumentation
  /** Logging, metrics and statistics (observers.ts), each off unless configured (metrics: on). */
  private readonly observers: ProducerObservers
  private state: State = 'open'
  private closePromise: Promise<void> | null = null
  /** Records accepted and not yet reported, flush()'s waits for them, and Node's keep-alive. */
  private readonly outstanding: OutstandingRecords
  /** connect() and partitionsFor(). */
  private readonly readiness: ReadinessCalls
  /** Takes records in: validation, size, partition, admission, batch (intake.ts). */
  private readonly intake: RecordIntake

  constructor(config: ProducerConfig, deps: ProducerDependencies = {}) {
    this.config = resolveProducerConfig(config)
    const c = this.config
    warnNotImplemented(c)
    this.clock = deps.clock ?? systemClock
    this.random = deps.random ?? systemRandom
    this.outstanding = new OutstandingRecords(this.clock, () => this.txnCalls.active)
    this.limits = new BufferLimits(c.bufferMemory, c.queueBufferingMaxMessages, this.clock)
    const partitioner = createPartitioner(c.partitioner, { batchSize: c.batchSize, random: this.random })
    this.instrumentation =
      deps.instrumentation ?? new Instrumentation({ onListenerError: (err) => this.reportError(err) })
    const events = this.instrumentation
    this.observers = new ProducerObservers(c, this.clock, events, this.limits)
    this.reports = new DeliveryReporter(c.deliveryReportCb, (err) => this.reportError(err), events)
    this.idempotence = createIdempotence(c)
    this.pool = createPool(c, this.clock, this.random, deps, events, {
      onDisconnect: () => this.sender.wakeup(),
      onAuthenticationFailure: (_broker, err, first) => this.authenticationFailed(err, first),
    })
    this.metadata = createMetadata(c, this.clock, this.random, this.pool, {
      onMetadata: () => this.onMetadata(),
      onError: (err) => this.reportError(err),
      events,
    })
    this.placement = new RecordPlacement(this.metadata, partitioner, c.messageMaxBytes)
    this.lifecycle = new LifecycleEvents(events, c.clientId)
    this.accumulator = createAccumulator(c, this.clock, () => this.limits.bytes)
    const parts = { accumulator: this.accumulator, metadata: this.metadata, pool: this.pool }
    const txn = createTransactions(c, this.clock, this.random, parts, this.idempotence, {
      wakeup: () => this.sender.wakeup(),
      onFatal: (err) => this.onFatal(err),
      events,
    })
    this.txn = txn?.manager ?? null
    this.sender = createSender(
      c,
      this.clock,
      this.random,
      deps.cores ?? availableParallelism(),
      parts,
      this.idempotence,
      events,
      {
        onFatal: (err) => this.onFatal(err),
        onBatchDone: (batch, outcome) => this.onBatchDone(batch, outcome),
        onProducerIdChange: () => this.readiness.check(),
      },
      txn?.gate ?? null,
    )
    this.intake = new RecordIntake({
      clock: this.clock,
      maxRecordBytes: c.messageMaxBytes,
      bufferMemory: c.bufferMemory,
      deliveryTimeoutMs: c.deliveryTimeoutMs,
      topicMetadataPropagationMaxMs: c.topicMetadataPropagationMaxMs,
      maxBlockMs: c.maxBlockMs,
      metadata: this.metadata,
      placement: this.placement,
      limits: this.limits,
      outstanding: this.outstanding,
      accumulator: this.accumulator,
      events,
      txn: this.txn,
      wakeSender: () => this.sender.wakeup(),
      metadataWaited: (ms) => this.observers.recordTime('metadataWait', ms),
      failWaiting: (w, err) => this.failWaiting(w, err),
      closedError: () => {
        if (this.state === 'open') return null
        // close() started while the call waited: the record was accepted by the call and is now given
        // up on, exactly as the records close() fails (docs/producer.md, close()).
        return (
          this.fatalError ??
          new KafkaError('_DESTROY', 'producer closed while send() waited for buffer space', {
            retriable: false,
          })
        )
      },
    })
    this.waiting = this.intake.waiting
    this.readiness = new ReadinessCalls({
      clock: this.clock,
      metadata: this.metadata,
      requestTimeoutMs: c.requestTimeoutMs,
      topicMetadataPropagationMaxMs: c.topicMetadataPropagationMaxMs,
      connectWaitsForProducerId: this.idempotence !== null && this.txn === null,
      producerId: () => this.sender.producerIdStatus,
      wakeup: () => this.sender.wakeup(),
      recordsWaitFor: (topic) => this.waiting.has(topic),
    })
    this.txnCalls = new TransactionalCalls({
      txn: this.txn,
      maxBlockMs: c.maxBlockMs,
      closing: () => (this.state === 'closing' || this.state === 'closed' ? this.state : null),
      checkOpen: () => this.checkOpen(),
      validTimeout: (ms) => callTimeout(ms, c.requestTimeoutMs),
      flush: (ms) => this.flush(ms),
      purgeUnsent: (err) => this.purgeUnsent(err),
      keepAliveChanged: () => this.outstanding.holdUpdate(),
      clock: this.clock,
      recordTime: (call, ms) => this.observers.recordTime(call, ms),
    })
    const probe = { ...parts, limits: this.limits, waiting: this.waiting, idempotence: this.idempotence }
    this.observers.startStatistics((err) => this.reportError(err), {
      ...probe,
      transactionState: () => this.transactionState,
      closed: () => this.state === 'closed',
    })
  }

  /**
   * Enqueues a record; `callback` is called exactly once with its delivery outcome. Synchronous:
   * throws a KafkaError for input that can never be sent (`_INVALID_ARG`,
   * `INVALID_TOPIC_EXCEPTION`, `MESSAGE_TOO_LARGE`, `_UNKNOWN_PARTITION`), when the buffer is full
   * (`_QUEUE_FULL`, retriable: wait for deliveries, e.g. `await flush()`, and try again), or after
   * close() (`_STATE`).
   */
  produce(record: ProducerRecord, callback?: DeliveryCallback): void {
    this.checkOpen()
    this.txn?.checkProduce()
    this.intake.produce(record, callback)
  }

  /**
   * Enqueues a record and resolves with its delivery report (the guide's async producer). Waits
   * up to max.block.ms for buffer space, then rejects with `_QUEUE_FULL`. Rejects with the
   * delivery error otherwise. `options.signal` cancels it while the record is not in a batch yet
   * (`_ABORTED`; see docs/producer.md, Cancelling with an AbortSignal).
   */
  async send(record: ProducerRecord, options?: SendOptions): Promise<DeliveryReport> {
    const signal = checkSignal(options?.signal)
    if (signal?.aborted) throw abortError(signal, 'send() was given an AbortSignal that had aborted already')
    this.checkOpen()
    this.txn?.checkProduce()
    let r = normalizeRecord(record, this.clock.now(), this.config.messageMaxBytes)
    const bytes = this.placement.size(r)
    let partition = this.placement.partitionIfKnown(r, bytes)
    if (!this.limits.tryAcquire(bytes)) {
      ;({ record: r, partition } = await this.intake.waitForSpace(r, bytes, signal))
    }
    return new Promise<DeliveryReport>((resolve, reject) => {
      const callback: DeliveryCallback = (err, report) => (err ? reject(err) : resolve(keepPayload(report)))
      // Without metadata the record waits for it, and may still be taken back if the signal aborts.
      const cb = signal && partition < 0 ? this.waiting.abortable(r.topic, callback, signal) : callback
      this.intake.accept(r, bytes, partition, cb, this.clock.now())
    })
  }

  /**
   * Sends everything queued without waiting for linger.ms and waits until no record is
   * outstanding, or until `timeoutMs` passes. Resolves with the number of records still
   * undelivered (0 = all delivered), like librdkafka's flush(). Records produced while flushing
   * are waited for too. Also `flush({ timeoutMs, signal })`: a signal that aborts ends the wait
   * early in the same way, resolving with the count.
   */
  flush(timeoutMs?: number, options?: Pick<FlushOptions, 'signal'>): Promise<number>
  flush(options: FlushOptions): Promise<number>
  async flush(arg?: number | FlushOptions, more?: Pick<FlushOptions, 'signal'>): Promise<number> {
    const opts = typeof arg === 'object' && arg !== null ? arg : { timeoutMs: arg, signal: more?.signal }
    const timeoutMs = opts.timeoutMs ?? this.config.deliveryTimeoutMs + this.config.requestTimeoutMs
    const signal = checkSignal(opts.signal)
    if (this.outstanding.count === 0 || signal?.aborted) return this.outstanding.count
    const started = this.clock.now()
    this.sender.beginFlush()
    try {
      await this.outstanding.drained(timeoutMs, signal)
    } finally {
      this.sender.endFlush()
      this.observers.recordTime('flush', this.clock.now() - started)
    }
    return this.outstanding.count
  }

  /**
   * Flushes (bounded by `timeoutMs`, default delivery.timeout.ms + request.timeout.ms), then
   * fails whatever is still undelivered with `_DESTROY` and disconnects. Records failed this way
   * may or may not have been written (a request could be in flight). Safe to call more than once.
   * Also `close({ timeoutMs })`.
   */
  close(timeoutMs?: number): Promise<void>
  close(options: CloseOptions): Promise<void>
  close(arg?: number | CloseOptions): Promise<void> {
    if (this.closePromise) return this.closePromise
    const timeoutMs = typeof arg === 'object' && arg !== null ? arg.timeoutMs : arg
    this.state = 'closing'
    this.readiness.failAll(
      new KafkaError('_DESTROY', 'producer closed while the call waited for the cluster'),
    )
    this.closePromise = (async () => {
      const started = this.clock.now()
      await this.txnCalls.abortOpen(timeoutMs)
      // One bound for both: the abort's time comes out of the flush's.
      await this.flush(
        timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (this.clock.now() - started)),
      )
      this.state = 'closed'
      const failed = this.outstanding.count
      const err = new KafkaError('_DESTROY', 'producer closed before the record was delivered', {
        retriable: false,
      })
      this.limits.rejectWaiters(err)
      this.sender.close()
      this.waiting.failAll(err)
      // In flight ones too: the answer that comes later finds them done and is ignored.
      this.sender.failAll(err)
      this.waiting.close()
      this.txn?.close()
      this.metadata.close()
      this.pool.close()
      this.outstanding.release()
      this.lifecycle.closed(failed)
      this.observers.close()
    })()
    return this.closePromise
  }

  /**
   * Drops what was not sent yet, as librdkafka's rd_kafka_purge(RD_KAFKA_PURGE_F_QUEUE): records
   * waiting for metadata or in batches not in flight, and send() calls waiting for buffer space,
   * fail now with `_PURGE_QUEUE`, each through its callback or promise once; records in flight get
   * their answers. Returns how many it failed (0 after close() or a fatal error). The producer stays
   * open. Throws `_STATE` inside a transaction: abortTransaction() purges it. docs/reliability.md.
   */
  purge(): number {
    const t = this.txn?.state
    if (t === 'inTransaction' || t === 'committing' || t === 'aborting' || t === 'abortableError') {
      throw new KafkaError(
        '_STATE',
        `purge() is refused while a transaction is open (${t}): call abortTransaction()`,
      )
    }
    return this.purgeUnsent(new KafkaError('_PURGE_QUEUE', 'the record was not sent: purge() dropped it'))
  }

  // --- Transactions (docs/transactions.md) ------------------------------------------------------

  /**
   * Gets the transactional producer its producer id from the transaction coordinator
   * (InitProducerId with transactional.id): fences any older instance with the same id and
   * completes or aborts what it left open. Call once, before the first beginTransaction(). Rejects
   * `_TIMED_OUT` (retriable) after `timeoutMs` (default max.block.ms), the request going on:
   * calling again waits for it. Rejects with a fatal error (`err.fatal`) for a fenced or
   * unauthorized producer, or a transaction.timeout.ms above the broker's
   * transaction.max.timeout.ms (`INVALID_TRANSACTION_TIMEOUT`).
   */
  async initTransactions(timeoutMs?: number): Promise<void> {
    return this.txnCalls.initTransactions(timeoutMs)
  }

  /**
   * Opens a transaction: records produced from now on are committed or aborted together.
   * Synchronous; throws `_STATE` before initTransactions() or while a transaction is open.
   */
  beginTransaction(): void {
    this.txnCalls.beginTransaction()
  }

  /**
   * Adds a consumer's positions to the open transaction (consume-transform-produce): they are
   * committed with its records, or dropped if it aborts. `offsets[i].offset` is the next offset to
   * read (the last processed + 1). `group` is a plain object, so any consumer library's group
   * metadata fits; with `generationId` and `memberId` a consumer that lost its partitions is
   * refused (KIP-447).
   */
  async sendOffsetsToTransaction(
    offsets: readonly TransactionOffset[],
    group: ConsumerGroupMetadata,
    timeoutMs?: number,
  ): Promise<void> {
    return this.txnCalls.sendOffsets(offsets, group, timeoutMs)
  }

  /**
   * Commits the open transaction: delivers every record produced in it (as flush() does), then asks
   * the coordinator to commit (EndTxn). A record that failed makes it reject with that error and
   * `txnRequiresAbort`: call abortTransaction(). `_TIMED_OUT` (retriable) after `timeoutMs`
   * (default max.block.ms): call it again to keep waiting for the same commit.
   */
  async commitTransaction(timeoutMs?: number): Promise<void> {
    return this.txnCalls.commit(timeoutMs)
  }

  /**
   * Aborts the open transaction: records not sent yet fail with `_PURGE_QUEUE`, the ones in flight
   * get their answers, then the coordinator aborts (EndTxn) and none of its records or offsets
   * become visible to read_committed consumers. `_TIMED_OUT` (retriable) after `timeoutMs`
   * (default max.block.ms): call it again.
   */
  async abortTransaction(timeoutMs?: number): Promise<void> {
    return this.txnCalls.abort(timeoutMs)
  }

  /** Where the transactional producer is (docs/transactions.md); null without transactional.id. */
  get transactionState(): TransactionState | null {
    return this.txn?.state ?? null
  }

  /**
   * Fails with `err` what was not sent: send() calls waiting for space (first, so that space freed
   * below goes to no one), records waiting for metadata, batches not in flight. Returns the count.
   */
  private purgeUnsent(err: KafkaError): number {
    const waiters = this.limits.waiting
    this.limits.rejectWaiters(err)
    return waiters + this.waiting.failAll(err) + this.sender.failUnsent(err)
  }

  // --- Readiness, partitions, disposal and lifecycle events (docs/producer.md, Lifecycle) --------

  /**
   * Resolves once the producer is ready to send: the cluster answered a Metadata request, every
   * topic of `options.topics` is known, and (with idempotence) the producer has its producer id.
   * For readiness probes and for failing fast at startup. Rejects, never later than
   * `options.timeoutMs` (default request.timeout.ms), with `_ALL_BROKERS_DOWN` when no broker
   * answered, the topic's error for a topic that cannot be used (`_UNKNOWN_TOPIC` once the cluster
   * has said for topic.metadata.propagation.max.ms or until the deadline that it does not exist,
   * `TOPIC_AUTHORIZATION_FAILED` at once), `_TIMED_OUT` for anything else still missing, `cause`
   * being the last error met; `_STATE` after close() (`_DESTROY` if close() is called meanwhile),
   * the fatal error after one. Once ready it resolves at once; new topics are waited for.
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    this.checkOpen()
    await this.readiness.connect(options)
  }

  /**
   * The partitions of `topic` (index, leader, whether it has one), once its metadata is known. The
   * topic joins those whose metadata the producer keeps fresh. Rejects as connect() does for a
   * missing topic or an unreachable cluster, after `options.timeoutMs` (default request.timeout.ms)
   * at the latest; it does not wait for the producer id.
   */
  async partitionsFor(topic: string, options: PartitionsForOptions = {}): Promise<PartitionMetadata[]> {
    this.checkOpen()
    return this.readiness.partitionsFor(topic, options)
  }

  /**
   * `await using producer = new Producer(config)`: close() with its default bound (a flush of up
   * to delivery.timeout.ms + request.timeout.ms, so every record gets its real outcome), when the
   * scope ends. Call close(timeoutMs) in the scope for a shorter bound; disposal then waits for it.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** The cluster's metadata changed (or a refresh failed): producer.connected once, waiting calls. */
  private clusterChanged(): void {
    if (this.metadata.refreshed) this.lifecycle.connected(() => this.metadata.brokers.size)
    this.readiness.check()
  }

  /**
   * The producer's metrics with the Java producer's names, groups, tags and meanings
   * (producer-metrics, producer-topic-metrics, producer-node-metrics; docs/metrics.md), read now.
   * Empty with metrics.enable=false.
   */
  metrics(): readonly Metric[] {
    return this.observers.metrics()
  }

  /** {@link metrics} in the Prometheus text exposition format 0.0.4 (docs/metrics.md). */
  prometheus(): string {
    return this.observers.prometheus()
  }

  /** The statistics stats_cb last got, typed (docs/statistics.md); null before it or with them off. */
  statistics(): Statistics | null {
    return this.observers.statistics()
  }

  /** Records accepted and not yet reported (librdkafka's outq_len). */
  get pending(): number {
    return this.outstanding.count
  }

  /**
   * A Writable (object mode) producing each chunk written to it, a record or a value, whose
   * `write()` returns false while the buffer (buffer.memory, queue.buffering.max.messages) is full
   * (and for one event-loop turn every 1,000 records),
   * whose end waits for every record's report, and whose `'error'` is the first delivery failure
   * (unless `options.onDeliveryError` decides otherwise). docs/producer.md, Streams.
   */
  createWriteStream<T = WriteStreamChunk>(options: WriteStreamOptions<T>): ProducerWriteStream<T> {
    this.checkOpen()
    return createRecordWritable<T>(
      {
        produce: (record, callback) => this.produce(record, callback),
        flush: (opts) => this.flush(opts),
        onceSpace: (listener) => this.limits.onceSpace(listener),
      },
      options,
    )
  }

  // ---------------------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.fatalError) throw this.fatalError
    if (this.state !== 'open')
      throw new KafkaError('_STATE', `producer is ${this.state}; no new records are accepted`)
  }

  /**
   * A fatal error (e.g. fenced, or not authorized for idempotent writes): every record not yet
   * delivered fails with it through its own callback, new produce calls throw it, close() works.
   */
  private onFatal(err: KafkaError): void {
    if (this.fatalError) return
    this.fatalError = err
    if (this.state === 'open') this.state = 'fatal'
    this.reportError(err)
    this.lifecycle.fatal(err)
    this.txn?.fatalError(err)
    this.readiness.failAll(err)
    this.limits.rejectWaiters(err)
    this.waiting.failAll(err)
    this.sender.failAll(err)
  }

  /** The fatal error that stopped this producer, if any. */
  get fatal(): KafkaError | null {
    return this.fatalError
  }

  /**
   * The producer id the cluster gave this idempotent producer (InitProducerId, KIP-98); null without
   * idempotence and until the first one arrives. Read-only: a new id comes only from the cluster.
   */
  get producerId(): bigint | null {
    return this.idempotence?.producerId?.producerId ?? null
  }

  /** The epoch of {@link producerId} (bumped after a broken sequence, KIP-360), or null when it is. */
  get producerEpoch(): number | null {
    return this.idempotence?.producerId?.epoch ?? null
  }

  /** Metadata changed: the sender re-checks leaders, records waiting for their topic go on. */
  private onMetadata(): void {
    this.sender.wakeup()
    this.waiting.onMetadata()
    this.clusterChanged()
  }

  /**
   * SASL or TLS refused a connection: error_cb hears it once per broker (until a connection to it works
   * again), and what waits for it fails now instead of at delivery.timeout.ms (issue 11). Before the
   * first metadata every record waits for the refusing brokers; after it, the sender fails the
   * batches of the refusing leader (Sender.authenticationFailure).
   */
  private authenticationFailed(err: KafkaError, first: boolean): void {
    if (first) this.reportError(err)
    if (!this.metadata.refreshed) {
      this.readiness.failAll(err)
      this.waiting.failAll(err)
    }
    this.sender.wakeup()
  }

  private failWaiting(w: WaitingRecord, err: KafkaError): void {
    this.txn?.abortableError(err)
    this.limits.release(w.bytes, 1)
    this.reports.waiting(w, err)
    this.outstanding.done(1)
  }

  private onBatchDone(batch: ProducerBatch, outcome: BatchOutcome): void {
    // A record of the open transaction was not written: it cannot commit (Java: handleFailedBatch).
    if (!outcome.ok && this.txn) this.txn.abortableError(outcome.error)
    this.limits.release(batch.reservedBytes, batch.count)
    this.outstanding.done(this.reports.batch(batch, outcome))
  }

  private reportError(err: KafkaError): void {
    this.observers.error(err)
    const cb = this.config.errorCb
    if (cb) {
      try {
        cb(err)
      } catch {
        // The error callback itself failed; nothing sensible is left to report to.
      }
    }
  }
}
