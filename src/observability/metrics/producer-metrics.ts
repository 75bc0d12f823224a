// The producer's Java-named metrics, recorded from the instrumentation events (events.ts). As Java's
// Sender records its metrics per drained batch and per request (SenderMetrics.
// updateProduceRequestMetrics), this listens to batch and request events only, never to a per-record
// success event: the cost is per batch, not per record. Failures (record.failed) are per record, as
// Java's errors sensor, but they are rare. The buffer gauges are read from plain functions the
// producer passes down (this layer knows nothing of the producer).
import type { Clock } from '../../util/clock.js'
import type {
  BatchBuiltEvent,
  BatchRetriedEvent,
  BatchSentEvent,
  Instrumentation,
  RecordFailedEvent,
  RequestAnsweredEvent,
  RequestSentEvent,
} from '../events.js'
import { N, P, T, TIMED_CALLS, type TimedCall } from './producer-metric-names.js'
import { MetricsRegistry, named, type Metric, type MetricTemplate, type Sensor } from './registry.js'
import { Avg, CumulativeSum, Rate, type MetricWindow } from './stats.js'

/** The Produce API key: request latency and throttle time are the Produce requests' (Java's Sender). */
const PRODUCE = 0
const NS_PER_MS = 1e6

/** Buffer state the producer lends to the gauges (Java's BufferPool). */
export interface BufferGauges {
  /** buffer.memory. */
  readonly totalBytes: number
  /** buffer.memory minus the bytes of the records accepted and not yet reported. */
  availableBytes(): number
  /** send() calls waiting for buffer space. */
  waiting(): number
}

export interface ProducerMetricsOptions {
  readonly clientId: string
  readonly window: MetricWindow
  readonly clock: Clock
  readonly buffer: BufferGauges
}

interface TopicSensors {
  send: Sensor
  bytes: Sensor
  compression: Sensor
  retries: Sensor
  errors: Sensor
}

interface NodeSensors {
  sent: Sensor
  received: Sensor
  latency: Sensor
}

export class ProducerMetrics {
  private readonly registry: MetricsRegistry
  private readonly clock: Clock
  private readonly tags: Readonly<Record<string, string>>
  private readonly topics = new Map<string, TopicSensors>()
  private readonly nodes = new Map<number, NodeSensors>()
  /** Records in the batches handed to the connection since the last Produce request went out. */
  private requestRecords = 0
  private openConnections = 0

  private readonly batchSize: Sensor
  private readonly compression: Sensor
  private readonly queueTime: Sensor
  private readonly recordSize: Sensor
  private readonly recordsPerRequest: Sensor
  private readonly retries: Sensor
  private readonly errors: Sensor
  private readonly latency: Sensor
  private readonly throttle: Sensor
  private readonly requests: Sensor
  private readonly responses: Sensor
  private readonly connectionsCreated: Sensor
  private readonly connectionsClosed: Sensor
  private readonly bufferWait: Sensor
  private readonly exhausted: Sensor
  private readonly timed: Record<TimedCall, Sensor>

  constructor(
    private readonly events: Instrumentation,
    opts: ProducerMetricsOptions,
  ) {
    this.clock = opts.clock
    this.tags = { 'client-id': opts.clientId }
    const r = (this.registry = new MetricsRegistry(opts.window))
    const name = (tpl: MetricTemplate) => named(tpl, this.tags)
    this.batchSize = r.sensor().avgMax(name(P.batchSizeAvg), name(P.batchSizeMax))
    this.compression = r.sensor().add(name(P.compressionRateAvg), new Avg(r.window))
    this.queueTime = r.sensor().avgMax(name(P.recordQueueTimeAvg), name(P.recordQueueTimeMax))
    this.latency = r.sensor().avgMax(name(P.requestLatencyAvg), name(P.requestLatencyMax))
    this.throttle = r.sensor().avgMax(name(P.produceThrottleTimeAvg), name(P.produceThrottleTimeMax))
    // Java's records-per-request sensor carries record-send-rate/-total too: one value per request.
    this.recordsPerRequest = r
      .sensor()
      .meter(name(P.recordSendRate), name(P.recordSendTotal))
      .add(name(P.recordsPerRequestAvg), new Avg(r.window))
    this.retries = r.sensor().meter(name(P.recordRetryRate), name(P.recordRetryTotal))
    this.errors = r.sensor().meter(name(P.recordErrorRate), name(P.recordErrorTotal))
    this.recordSize = r.sensor().avgMax(name(P.recordSizeAvg), name(P.recordSizeMax))
    // Java's Selector: one sensor per direction records each request's (response's) size; its
    // request-rate/-total count the events, the byte metrics sum the sizes.
    this.requests = r
      .sensor()
      .countMeter(name(P.requestRate), name(P.requestTotal))
      .avgMax(name(P.requestSizeAvg), name(P.requestSizeMax))
      .meter(name(P.outgoingByteRate), name(P.outgoingByteTotal))
    this.responses = r
      .sensor()
      .countMeter(name(P.responseRate), name(P.responseTotal))
      .meter(name(P.incomingByteRate), name(P.incomingByteTotal))
    r.gauge(name(P.connectionCount), () => this.openConnections)
    this.connectionsCreated = r
      .sensor()
      .meter(name(P.connectionCreationRate), name(P.connectionCreationTotal))
    this.connectionsClosed = r.sensor().meter(name(P.connectionCloseRate), name(P.connectionCloseTotal))
    const buffer = opts.buffer
    r.gauge(name(P.bufferTotalBytes), () => buffer.totalBytes)
    r.gauge(name(P.bufferAvailableBytes), () => buffer.availableBytes())
    r.gauge(name(P.waitingThreads), () => buffer.waiting())
    // Java's BufferPool: nanoseconds waited, as a Rate over TimeUnit.NANOSECONDS (ns waited per ns
    // elapsed: a ratio) and as a cumulative sum. Our clock has milliseconds: ms * 1e6.
    this.bufferWait = r
      .sensor()
      .add(name(P.bufferpoolWaitRatio), new Rate(r.window, 1 / NS_PER_MS))
      .add(name(P.bufferpoolWaitTimeNsTotal), new CumulativeSum())
    this.exhausted = r.sensor().meter(name(P.bufferExhaustedRate), name(P.bufferExhaustedTotal))
    const timed = {} as Record<TimedCall, Sensor>
    for (const call of Object.keys(TIMED_CALLS) as TimedCall[]) {
      timed[call] = r.sensor().add(name(TIMED_CALLS[call]), new CumulativeSum())
    }
    this.timed = timed
    events
      .on('batch.built', this.onBuilt)
      .on('batch.sent', this.onSent)
      .on('batch.retried', this.onRetried)
      .on('record.failed', this.onFailed)
      .on('request.sent', this.onRequestSent)
      .on('request.answered', this.onAnswered)
      .on('connection.opened', this.onOpened)
      .on('connection.closed', this.onClosed)
  }

  /** Every metric's value now, in a stable order (producer-wide first, then per topic and node as met). */
  read(): Metric[] {
    return this.registry.read(this.clock.now())
  }

  /** A send() call waited `ms` for buffer space (granted, timed out or aborted). */
  recordBufferWait(ms: number): void {
    this.bufferWait.record(ms * NS_PER_MS, this.clock.now())
  }

  /** A record was refused (produce()) or failed (send() after max.block.ms) because the buffer was full. */
  recordBufferExhausted(): void {
    this.exhausted.record(1, this.clock.now())
  }

  /** A timed call (flush, a transactional call, a metadata wait) took `ms`; kept in ns as Java's. */
  recordTime(call: TimedCall, ms: number): void {
    this.timed[call].record(ms * NS_PER_MS, this.clock.now())
  }

  /** Stops listening (the values read stay as they are). */
  close(): void {
    this.events
      .off('batch.built', this.onBuilt)
      .off('batch.sent', this.onSent)
      .off('batch.retried', this.onRetried)
      .off('record.failed', this.onFailed)
      .off('request.sent', this.onRequestSent)
      .off('request.answered', this.onAnswered)
      .off('connection.opened', this.onOpened)
      .off('connection.closed', this.onClosed)
  }

  private readonly onBuilt = (e: BatchBuiltEvent): void => {
    const now = this.clock.now()
    const ratio = e.bytes > 0 ? e.wireBytes / e.bytes : 1
    this.batchSize.record(e.wireBytes, now)
    this.compression.record(ratio, now)
    this.topic(e.topic).compression.record(ratio, now)
    if (e.queueTimeMs !== undefined) this.queueTime.record(e.queueTimeMs, now)
    if (e.maxRecordBytes !== undefined) this.recordSize.record(e.maxRecordBytes, now)
  }

  private readonly onSent = (e: BatchSentEvent): void => {
    const now = this.clock.now()
    const t = this.topic(e.topic)
    t.send.record(e.records, now)
    t.bytes.record(e.wireBytes, now)
    this.requestRecords += e.records
  }

  private readonly onRetried = (e: BatchRetriedEvent): void => {
    const now = this.clock.now()
    this.retries.record(e.records, now)
    this.topic(e.topic).retries.record(e.records, now)
  }

  private readonly onFailed = (e: RecordFailedEvent): void => {
    const now = this.clock.now()
    this.errors.record(1, now)
    this.topic(e.topic).errors.record(1, now)
  }

  private readonly onRequestSent = (e: RequestSentEvent): void => {
    const now = this.clock.now()
    this.requests.record(e.bytes, now)
    this.node(e.nodeId).sent.record(e.bytes, now)
    // The sender emits batch.sent for each batch of a Produce request, then writes the request.
    if (e.apiKey === PRODUCE && this.requestRecords > 0) {
      this.recordsPerRequest.record(this.requestRecords, now)
      this.requestRecords = 0
    }
  }

  private readonly onAnswered = (e: RequestAnsweredEvent): void => {
    const now = this.clock.now()
    this.responses.record(e.bytes, now)
    const node = this.node(e.nodeId)
    node.received.record(e.bytes, now)
    if (e.apiKey !== PRODUCE) return
    this.latency.record(e.rttMs, now)
    node.latency.record(e.rttMs, now)
    // From the broker's answer: a negative value (a broken or hostile broker) counts as none.
    this.throttle.record(Math.max(0, e.throttleTimeMs ?? 0), now)
  }

  private readonly onOpened = (): void => {
    this.openConnections++
    this.connectionsCreated.record(1, this.clock.now())
  }

  private readonly onClosed = (): void => {
    this.openConnections = Math.max(0, this.openConnections - 1)
    this.connectionsClosed.record(1, this.clock.now())
  }

  private topic(topic: string): TopicSensors {
    let s = this.topics.get(topic)
    if (s !== undefined) return s
    const r = this.registry
    const name = (tpl: MetricTemplate) => named(tpl, { ...this.tags, topic })
    s = {
      send: r.sensor().meter(name(T.recordSendRate), name(T.recordSendTotal)),
      bytes: r.sensor().meter(name(T.byteRate), name(T.byteTotal)),
      compression: r.sensor().add(name(T.compressionRate), new Avg(r.window)),
      retries: r.sensor().meter(name(T.recordRetryRate), name(T.recordRetryTotal)),
      errors: r.sensor().meter(name(T.recordErrorRate), name(T.recordErrorTotal)),
    }
    this.topics.set(topic, s)
    return s
  }

  private node(nodeId: number): NodeSensors {
    let s = this.nodes.get(nodeId)
    if (s !== undefined) return s
    const r = this.registry
    // Java's Selector names a broker `node-<id>`; bootstrap connections have negative ids there too.
    const name = (tpl: MetricTemplate) => named(tpl, { ...this.tags, 'node-id': `node-${nodeId}` })
    s = {
      sent: r
        .sensor()
        .countMeter(name(N.requestRate), name(N.requestTotal))
        .avgMax(name(N.requestSizeAvg), name(N.requestSizeMax))
        .meter(name(N.outgoingByteRate), name(N.outgoingByteTotal)),
      received: r
        .sensor()
        .countMeter(name(N.responseRate), name(N.responseTotal))
        .meter(name(N.incomingByteRate), name(N.incomingByteTotal)),
      latency: r.sensor().avgMax(name(N.requestLatencyAvg), name(N.requestLatencyMax)),
    }
    this.nodes.set(nodeId, s)
    return s
  }
}
