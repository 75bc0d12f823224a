// OpenTelemetry tracing and metrics for a Producer (docs/opentelemetry.md): a PRODUCER span per
// record, `send <topic>`, from produce()/send() to its delivery report, the W3C trace context
// injected into the record's headers so that a consumer continues the trace, and the messaging
// client metrics. The shape follows Java's ProducerInterceptor (onSend before the record is
// accepted, onAcknowledgement at its report) and the messaging semantic conventions
// (attributes.ts); it wraps the producer's two entry points on the instance, so the core producer
// knows nothing of OpenTelemetry and pays nothing when this is not used.
import {
  SpanKind,
  SpanStatusCode,
  context,
  metrics,
  propagation,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
  type TextMapPropagator,
  type TracerProvider,
} from '@opentelemetry/api'
import { parseHostPort } from '../cluster/address.js'
import { KafkaError } from '../index.js'
import type { DeliveryCallback, DeliveryReport, Producer, ProducerRecord, SendOptions } from '../index.js'
import * as A from './attributes.js'
import { mapSetter, withInjected } from './headers.js'

export interface InstrumentProducerOptions {
  /** Where spans go; default: the global one (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider
  /** Where metrics go; default: the global one (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider
  /**
   * What writes the trace context into the headers; default: the global propagator
   * (`propagation.inject`), which the OpenTelemetry SDK sets to W3C Trace Context and Baggage.
   */
  propagator?: TextMapPropagator
  /**
   * Whether a string key is recorded as `messaging.kafka.message.key` (the conventions recommend it;
   * turn it off when keys are personal data). Default true. A bytes key is never recorded.
   */
  recordKey?: boolean
  /** Milliseconds of a monotonic clock, for the duration metric; default `performance.now`. */
  now?: () => number
}

/** The name the tracer and meter are registered under (the instrumentation scope). */
export const INSTRUMENTATION_SCOPE = 'reliable-kafka'

const instrumented = new WeakSet<Producer>()

/**
 * Instruments `producer`: every record produced through it from now on gets a span and counts in
 * the metrics, and carries the trace context in its headers. Set it up before producing: produce()
 * is synchronous and the OpenTelemetry API is loaded when this module is, not on the hot path.
 * Returns the function that removes the instrumentation. Throws `_INVALID_ARG` if `producer` is
 * already instrumented.
 */
export function instrumentProducer(producer: Producer, options: InstrumentProducerOptions = {}): () => void {
  if (instrumented.has(producer))
    throw new KafkaError('_INVALID_ARG', 'this producer is instrumented already')
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE)
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE)
  const sent = meter.createCounter(A.METRIC_SENT_MESSAGES, {
    description: 'Messages the producer attempted to send, counted at their delivery report.',
    unit: '{message}',
  })
  const duration = meter.createHistogram(A.METRIC_OPERATION_DURATION, {
    description: 'From produce() or send() to the delivery report.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...A.DURATION_BUCKETS] },
  })
  const traced = new RecordTracing(producer, tracer, { sent, duration }, options)

  // The methods of the class, called on the instance; the wrappers shadow them as own properties.
  const produce = producer.produce
  const send = producer.send
  const wrappers = {
    produce(record: ProducerRecord, callback?: DeliveryCallback): void {
      const t = traced.start(record)
      try {
        produce.call(producer, t.record, (err, report) => {
          t.end(err, report)
          // Without its own callback a record's report goes to dr_cb (delivery-reports.ts); the
          // wrapper's callback would take its place, so it passes the report on.
          const cb = callback ?? producer.config.deliveryReportCb
          cb?.(err, report)
        })
      } catch (err) {
        t.end(err as KafkaError, null)
        throw err
      }
    },
    send(record: ProducerRecord, sendOptions?: SendOptions): Promise<DeliveryReport> {
      const t = traced.start(record)
      let p: Promise<DeliveryReport>
      try {
        p = send.call(producer, t.record, sendOptions)
      } catch (err) {
        t.end(err as KafkaError, null)
        throw err
      }
      p.then(
        (report) => t.end(null, report),
        (err: KafkaError) => t.end(err, null),
      )
      return p
    },
  }
  Object.defineProperty(producer, 'produce', { value: wrappers.produce, configurable: true, writable: true })
  Object.defineProperty(producer, 'send', { value: wrappers.send, configurable: true, writable: true })
  instrumented.add(producer)
  return () => {
    if (!instrumented.delete(producer)) return
    delete (producer as { produce?: unknown }).produce
    delete (producer as { send?: unknown }).send
  }
}

interface Instruments {
  sent: Counter
  duration: Histogram
}

interface TracedRecord {
  /** The record to produce: the caller's, with a copy of its headers plus the trace context. */
  record: ProducerRecord
  /** Ends the span and records the metrics, once. */
  end(err: KafkaError | null, report: DeliveryReport | null): void
}

class RecordTracing {
  private readonly clientId: string
  private readonly server: Attributes
  private readonly now: () => number

  constructor(
    producer: Producer,
    private readonly tracer: ReturnType<TracerProvider['getTracer']>,
    private readonly instruments: Instruments,
    private readonly options: InstrumentProducerOptions,
  ) {
    this.clientId = producer.config.clientId
    this.server = serverAttributes(producer.config.bootstrapServers[0])
    this.now = options.now ?? (() => performance.now())
  }

  start(record: ProducerRecord): TracedRecord {
    const started = this.now()
    // The caller's record may be anything (produce() validates it); the span names what it can.
    const topic = typeof record?.topic === 'string' ? record.topic : ''
    const attributes: Attributes = {
      [A.MESSAGING_SYSTEM]: 'kafka',
      [A.MESSAGING_SYSTEM_NAME]: 'kafka',
      [A.MESSAGING_OPERATION_NAME]: 'send',
      [A.MESSAGING_OPERATION_TYPE]: 'send',
      [A.MESSAGING_DESTINATION_NAME]: topic,
      [A.MESSAGING_CLIENT_ID]: this.clientId,
      ...this.server,
    }
    if (typeof record?.partition === 'number')
      attributes[A.MESSAGING_DESTINATION_PARTITION_ID] = String(record.partition)
    if (this.options.recordKey !== false && typeof record?.key === 'string') {
      attributes[A.MESSAGING_KAFKA_MESSAGE_KEY] = record.key
      attributes[A.KAFKA_MESSAGE_KEY] = record.key
    }
    if (record?.value === null) {
      attributes[A.MESSAGING_KAFKA_MESSAGE_TOMBSTONE] = true
      attributes[A.KAFKA_MESSAGE_TOMBSTONE] = true
    }
    // The application's active context is the parent (the span of the request that produces).
    const parent = context.active()
    const span = this.tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes }, parent)
    const injected = new Map<string, string>()
    const ctx = trace.setSpan(parent, span)
    if (this.options.propagator) this.options.propagator.inject(ctx, injected, mapSetter)
    else propagation.inject(ctx, injected, mapSetter)
    const traced: ProducerRecord =
      injected.size === 0 || record === null || typeof record !== 'object'
        ? record
        : { ...record, headers: withInjected(record.headers, injected) }
    let ended = false
    return {
      record: traced,
      end: (err, report) => {
        if (ended) return
        ended = true
        this.finish(span, topic, started, err, report)
      },
    }
  }

  private finish(
    span: Span,
    topic: string,
    started: number,
    err: KafkaError | null,
    report: DeliveryReport | null,
  ): void {
    const metricAttributes: Attributes = {
      [A.MESSAGING_SYSTEM]: 'kafka',
      [A.MESSAGING_SYSTEM_NAME]: 'kafka',
      [A.MESSAGING_OPERATION_NAME]: 'send',
      [A.MESSAGING_DESTINATION_NAME]: topic,
      ...this.server,
    }
    if (report && report.partition >= 0) {
      const partition = String(report.partition)
      span.setAttribute(A.MESSAGING_DESTINATION_PARTITION_ID, partition)
      metricAttributes[A.MESSAGING_DESTINATION_PARTITION_ID] = partition
    }
    if (err) {
      const type = errorType(err)
      span.setAttribute(A.ERROR_TYPE, type)
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) })
      metricAttributes[A.ERROR_TYPE] = type
    } else if (report && report.offset >= 0) {
      // -1 with acks=0 and for a batch the broker acknowledged as a duplicate: no offset to name.
      span.setAttribute(A.MESSAGING_KAFKA_OFFSET, report.offset)
      span.setAttribute(A.KAFKA_OFFSET, report.offset)
    }
    span.end()
    this.instruments.sent.add(1, metricAttributes)
    this.instruments.duration.record(Math.max(0, this.now() - started) / 1000, metricAttributes)
  }
}

/** error.type: the KafkaError's code (`MESSAGE_TOO_LARGE`, `_MSG_TIMED_OUT`), else the class name. */
function errorType(err: unknown): string {
  const code = (err as { code?: unknown })?.code
  if (typeof code === 'string' && code.length > 0) return code
  return (err as Error)?.constructor?.name || '_OTHER'
}

/** server.address and server.port of the first bootstrap broker (the leader is not known yet). */
function serverAttributes(address: string | undefined): Attributes {
  if (address === undefined) return {}
  try {
    const { host, port } = parseHostPort(address)
    return { [A.SERVER_ADDRESS]: host, [A.SERVER_PORT]: port }
  } catch {
    return {}
  }
}
