import { randomUUID } from 'node:crypto'
import type { ProducerConfig } from '../config/index.js'
import { KafkaError } from '../errors/index.js'
import { keepPayload } from '../producer/batch-report.js'
import { Producer, type ProducerDependencies } from '../producer/producer.js'
import type { DeliveryCallback, ProducerRecord, RecordData } from '../producer/record.js'
import type { ProducerWriteStream, WriteStreamChunk, WriteStreamOptions } from '../producer/write-stream.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'
import { Admission } from './admission.js'
import { AttemptTracker } from './attempts.js'
import { DeadLetterRouter } from './dead-letter.js'
import { recordFromEnvelope, type FailedRecord } from './envelope.js'
import { headerPairs, keyBytes, valueBytes, type HeaderPairs } from './payload.js'
import { checkOptions, overlayConfig, reliableConfig } from './reliable-config.js'
import { ReliableMetrics } from './reliable-metrics.js'
import { toPrometheusText, type Metric } from '../observability/metrics/index.js'
import { openSpool, type ReplayResult, type SpoolFactory, type SpoolLike } from './spool-port.js'
import { SpoolWriter } from './spool-writer.js'
import type {
  DeadLetterOutcome,
  ReliableProducerOptions,
  ReliableProducerStats,
  ReliableSendOptions,
  ReliableSendResult,
} from './types.js'

/** The constructor's test seams: the producers' (clock, transport...) and the spool's. Not public. */
export interface ReliableProducerDependencies extends ProducerDependencies {
  /** Opens the spool of `spool.path` (default: the file spool). */
  openSpool?: SpoolFactory
  /** Spool entry ids (default: random UUIDs). */
  newId?: () => string
}

/**
 * Errors of send() that say the call itself was wrong or refused for now: nothing was accepted and
 * nothing failed in Kafka, so they reject the call as they are instead of going to the dead-letter
 * topic (a bad argument, a name no topic can have, a full buffer after max.block.ms, a closed
 * producer). A fatal error at the call rejects too: the producer cannot continue.
 */
const CALL_ERRORS: ReadonlySet<string> = new Set([
  '_INVALID_ARG',
  'INVALID_TOPIC_EXCEPTION',
  '_UNKNOWN_PARTITION',
  '_QUEUE_FULL',
  '_STATE',
  '_ABORTED',
])

/**
 * The guide's ReliableProducer: every record sent ends in its topic, in its dead-letter topic, or in
 * the local spool, and send() says which (docs/reliability.md, "Dead-letter topic and spool").
 *
 * Two producers, as in the guide: one for the data, one for the dead-letter writes. The dead-letter
 * writes then never wait behind the backlog whose failure they report (with one producer they would
 * queue for buffer.memory filled by the very records that are timing out, and be refused with
 * `_QUEUE_FULL`), a fatal error of the data producer (e.g. its producer id fenced) does not stop
 * them, and they can have settings of their own (`deadLetterConfig`). Ordering is unaffected:
 * dead-letter topics are other topics, and each one is written by a single idempotent producer in
 * the order the failures were reported. The cost is a second connection per broker and producer id.
 */
export class ReliableProducer {
  /** The data producer: for readiness (connect()) and its instrumentation. Records produced on it directly are not dead-lettered. */
  readonly producer: Producer
  /** The dead-letter producer, likewise. */
  readonly deadLetterProducer: Producer
  private readonly clock: Clock
  private readonly admission: Admission
  private readonly attempts: AttemptTracker
  private readonly router: DeadLetterRouter
  private readonly spool: SpoolLike | null
  private readonly spoolWriter: SpoolWriter | null
  private readonly serialize: ((value: unknown) => RecordData) | undefined
  private readonly counters = { routed: 0, spooled: 0, replayed: 0, deadLetterFailures: 0 }
  /** send() calls without an outcome yet. */
  private unsettled = 0
  private readonly settledWaiters: (() => void)[] = []
  private closePromise: Promise<void> | null = null
  /** The replay running, if any: replays run one after the other. */
  private replayChain: Promise<unknown> = Promise.resolve()

  /**
   * `config` is the producer's (ProducerConfig), with acks=all and idempotence forced on: a setting
   * that turns either off, or a transactional.id, is a ConfigError saying why. `options` are the
   * ReliableProducer's own. Like the Producer, it opens no connection before the first record.
   */
  constructor(
    config: ProducerConfig,
    options: ReliableProducerOptions = {},
    deps: ReliableProducerDependencies = {},
  ) {
    checkOptions(options)
    const dataConfig = reliableConfig(config, 'ReliableProducer')
    const dlqConfig = reliableConfig(
      overlayConfig(config, options.deadLetterConfig),
      'ReliableProducer (deadLetterConfig)',
    )
    const { openSpool: spoolFactory = openSpool, newId = randomUUID, ...producerDeps } = deps
    this.spool = options.spool ? spoolFactory(options.spool) : null
    this.spoolWriter = this.spool ? new SpoolWriter(this.spool) : null
    this.clock = deps.clock ?? systemClock
    this.serialize = options.serialize
    this.producer = new Producer(dataConfig, producerDeps)
    // Its own event hub even when the tests share one: the attempt tracker listens to the data producer only.
    this.deadLetterProducer = new Producer(dlqConfig, { ...producerDeps, instrumentation: undefined })
    this.admission = new Admission(this.producer, this.clock, this.producer.config.maxBlockMs)
    this.attempts = new AttemptTracker(this.producer.instrumentation)
    const suffix = options.deadLetterTopic ?? '.dlq'
    const dlq = this.deadLetterProducer.config
    this.router = new DeadLetterRouter({
      producer: this.deadLetterProducer,
      topicFor: typeof suffix === 'function' ? suffix : (topic) => topic + suffix,
      maxBytes: Math.min(dlq.messageMaxBytes, options.deadLetterMaxBytes ?? Infinity),
      now: () => this.clock.now(),
      newId,
      onFailure: options.onDeadLetterFailure,
      spool: this.spoolWriter,
      counters: this.counters,
    })
  }

  /**
   * Sends `value` to `topic` with `key`. Strings, Buffers and Uint8Arrays are sent as they are,
   * `null` as a tombstone, anything else as JSON (or through the `serialize` option).
   *
   * Resolves with the delivery report; or, when the record failed for good, with where it went: its
   * dead-letter topic (`{ deadLettered: true, dlq, error }`) or, when that write failed too, the
   * spool (`{ deadLettered: false, spooled: true, error, ... }`). Rejects with `_INVALID_ARG` for
   * input that cannot be sent (nothing is sent), with the errors that refuse the call itself
   * (`INVALID_TOPIC_EXCEPTION`, `_QUEUE_FULL` after max.block.ms, `_STATE` after close(), a fatal
   * error), and with a DeadLetterError when the record could be put nowhere.
   */
  async send(
    topic: string,
    key: RecordData | null | undefined,
    value: unknown,
    options: ReliableSendOptions = {},
  ): Promise<ReliableSendResult> {
    if (this.closePromise) throw new KafkaError('_STATE', 'ReliableProducer.send() called after close()')
    const k = keyBytes(key)
    const v = valueBytes(value, this.serialize)
    const headers = headerPairs(options?.headers)
    const timestamp = options?.timestamp ?? null
    const record: ProducerRecord = { topic, key: k, value: v, headers }
    if (timestamp !== null) record.timestamp = timestamp
    this.unsettled++
    try {
      return await new Promise<ReliableSendResult>((resolve, reject) => {
        const callback: DeliveryCallback = (err, report) => {
          this.admission.wakeup()
          // Resolved with the report: its key and value stay readable after the callback.
          if (!err) return resolve(keepPayload(report))
          const failed: FailedRecord = {
            topic: report.topic,
            partition: report.partition,
            key: report.key,
            value: report.value,
            headers: report.headers,
            timestamp,
            attempts: this.attempts.attempts(report.topic, report.partition),
          }
          this.router.route(failed, err).then(resolve, reject)
        }
        const refused = (err: unknown): void => {
          this.refused({ topic, key: k, value: v, headers, timestamp }, err).then(resolve, reject)
        }
        try {
          this.admission.admit(record, callback)?.catch(refused)
        } catch (err) {
          refused(err)
        }
      })
    } finally {
      this.settled()
    }
  }

  /**
   * The record was not accepted by the producer. A record that can never be written (larger than
   * message.max.bytes) is dead-lettered like one that failed in Kafka; an error about the call is
   * the caller's (CALL_ERRORS).
   */
  private refused(
    r: {
      topic: string
      key: Buffer | null
      value: Buffer | null
      headers: HeaderPairs
      timestamp: number | null
    },
    thrown: unknown,
  ): Promise<DeadLetterOutcome> {
    const err = KafkaError.wrap(thrown)
    if (CALL_ERRORS.has(err.code) || err.fatal) return Promise.reject(err)
    return this.router.route({ ...r, partition: -1, attempts: 1 }, err)
  }

  /**
   * Sends every record at once (no linger) and waits until every send() has its outcome, dead-letter
   * and spool writes included, or until `timeoutMs` passed. Resolves with the number of send() calls
   * still without an outcome (0: all done). Without `timeoutMs` it waits as long as that takes,
   * which the producers' delivery.timeout.ms bound. Also `flush({ timeoutMs })`.
   */
  async flush(arg?: number | { timeoutMs?: number }): Promise<number> {
    const left = this.countdown(timeoutOf(arg, 'flush()'))
    await this.producer.flush(left())
    // The failures reported by now are on their way to the dead-letter producer: no linger for them either.
    await Promise.all([this.deadLetterProducer.flush(left()), this.whenSettled(left() ?? Infinity)])
    return this.unsettled
  }

  /**
   * Flushes (within `timeoutMs`, default: as long as flush() takes), then closes both producers.
   * Also `close({ timeoutMs })`, as the Producer's.
   * What the data producer still has then fails with `_DESTROY` and is dead-lettered; what the
   * dead-letter producer still has goes to the hook and the spool. Every send() has its outcome when
   * this resolves. Safe to call more than once.
   */
  close(arg?: number | { timeoutMs?: number }): Promise<void> {
    if (this.closePromise) return this.closePromise
    const left = this.countdown(timeoutOf(arg, 'close()'))
    this.closePromise = (async () => {
      await this.flush(left())
      this.admission.failAll(
        new KafkaError('_DESTROY', 'ReliableProducer closed while the record waited for buffer space'),
      )
      // The data producer first: the records it fails are dead-lettered by the producer still open.
      await this.producer.close(left())
      await this.deadLetterProducer.close(left())
      // What is left are spool appends (and failure reports): local, quick, and each send() is waiting.
      await this.whenSettled(Infinity)
      await this.spoolWriter?.idle()
      // After the last replay: another process may take the spool over from here.
      await this.replayChain
      await this.spool?.close?.()
    })()
    return this.closePromise
  }

  /** `await using reliable = new ReliableProducer(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /**
   * Sends every spooled record again, to its original topic (key, value, headers and timestamp
   * decoded from its envelope), and removes from the spool those the topic acknowledged; the
   * others stay for the next call. At-least-once: a record acknowledged by Kafka but not yet
   * removed when the process dies is sent again by the next replay. Calls run one after another,
   * so calling it twice is safe. Rejects with `_STATE` without the `spool` option or after close().
   */
  async replaySpool(opts: { batchSize?: number } = {}): Promise<ReplayResult> {
    const spool = this.spool
    if (spool === null)
      throw new KafkaError('_STATE', 'replaySpool() needs the spool option ({ spool: { path } })')
    if (this.closePromise) throw new KafkaError('_STATE', 'replaySpool() called after close()')
    const run = this.replayChain.then(async () => {
      // Entries still being appended belong to this replay; the spool keeps later ones for the next.
      await this.spoolWriter?.idle()
      const result = await spool.replay(async (entry) => {
        const r = recordFromEnvelope(entry.envelope)
        const record: ProducerRecord = { topic: r.topic, key: r.key, value: r.value, headers: r.headers }
        if (r.timestamp !== undefined) record.timestamp = r.timestamp
        await this.producer.send(record)
      }, opts)
      this.counters.replayed += result.replayed
      return result
    })
    this.replayChain = run.catch(() => undefined)
    return run
  }

  /**
   * A `Writable` for `pipeline()` into the data producer (see `Producer.createWriteStream`: the same
   * chunks, options and backpressure), whose failed records go where send()'s go: to the dead-letter
   * topic, or the spool when that write fails too, instead of failing the stream. The stream finishes
   * once every record it took has been delivered or routed; it fails only when a record could be
   * put nowhere (a DeadLetterError) or on the errors that fail any stream (a bad chunk). Routed records
   * count in `stats`, and flush() and close() wait for their routing as for send()'s.
   */
  createWriteStream<T = WriteStreamChunk>(
    options: Omit<WriteStreamOptions<T>, 'onDeliveryError'>,
  ): ProducerWriteStream<T> {
    if (this.closePromise) {
      throw new KafkaError('_STATE', 'ReliableProducer.createWriteStream() called after close()')
    }
    if ((options as WriteStreamOptions<T>).onDeliveryError !== undefined) {
      throw new KafkaError(
        '_INVALID_ARG',
        'ReliableProducer.createWriteStream(): onDeliveryError is not an option here; failed records ' +
          'are dead-lettered (use producer.createWriteStream() to decide yourself)',
      )
    }
    return this.producer.createWriteStream<T>({
      ...options,
      onDeliveryError: async (err, report): Promise<'ignore'> => {
        this.unsettled++
        try {
          // Rejects with a DeadLetterError when neither the dead-letter topic nor the spool took it:
          // the stream then fails with it, as send() would reject.
          await this.router.route(
            {
              topic: report.topic,
              partition: report.partition,
              key: report.key,
              value: report.value,
              headers: report.headers,
              timestamp: null,
              attempts: this.attempts.attempts(report.topic, report.partition),
            },
            err,
          )
          return 'ignore'
        } finally {
          this.settled()
        }
      },
    })
  }

  /**
   * Counters since construction: records dead-lettered (`routed`), spooled, replayed, and
   * dead-letter writes that failed. A snapshot; the producers' own metrics are theirs.
   */
  get stats(): ReliableProducerStats {
    return { ...this.counters }
  }

  /**
   * The group reliable-producer-metrics (the `stats` counters and pending send() calls), then the data
   * producer's metrics (docs/metrics.md). The dead-letter producer has the same client.id: its own
   * are `deadLetterProducer.metrics()`. Empty with metrics.enable=false.
   */
  metrics(): readonly Metric[] {
    if (!this.producer.config.metricsEnable) return []
    this.meters ??= new ReliableMetrics(
      this.producer.config.clientId,
      () => this.counters,
      () => this.unsettled,
      this.clock,
    )
    return [...this.meters.read(), ...this.producer.metrics()]
  }

  /** {@link metrics} in the Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    return toPrometheusText(this.metrics())
  }

  private meters: ReliableMetrics | null = null

  /** send() calls without an outcome yet. */
  get pending(): number {
    return this.unsettled
  }

  private settled(): void {
    this.unsettled--
    if (this.unsettled === 0) for (const w of this.settledWaiters.splice(0)) w()
  }

  /** The time left until `timeoutMs` from now, undefined for no bound (what the producers take). */
  private countdown(timeoutMs: number | undefined): () => number | undefined {
    if (timeoutMs === undefined) return () => undefined
    const deadline = this.clock.now() + timeoutMs
    return () => Math.max(0, deadline - this.clock.now())
  }

  /** Resolves when no send() is without an outcome, or after `ms`. */
  private whenSettled(ms: number): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | null = null
      const done = (): void => {
        const i = this.settledWaiters.indexOf(done)
        if (i >= 0) this.settledWaiters.splice(i, 1)
        if (timer !== null) this.clock.clearTimeout(timer)
        resolve()
      }
      this.settledWaiters.push(done)
      if (Number.isFinite(ms)) timer = this.clock.setTimeout(done, ms)
    })
  }
}

/** The timeout of `flush(timeoutMs)` / `flush({ timeoutMs })`: a finite number >= 0, or undefined. */
function timeoutOf(arg: number | { timeoutMs?: number } | undefined, call: string): number | undefined {
  const t = typeof arg === 'object' && arg !== null ? arg.timeoutMs : arg
  if (t === undefined) return undefined
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw new KafkaError('_INVALID_ARG', `${call}: timeoutMs must be a finite number >= 0, not ${String(t)}`)
  }
  return t
}
