// An in-memory OpenTelemetry SDK for the tests of reliable-kafka/opentelemetry: spans in an
// InMemorySpanExporter, metrics collected on demand, W3C Trace Context as the propagator and an
// async-hooks context manager so that an active parent span is seen by produce().
import { context, propagation, type Attributes } from '@opentelemetry/api'
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'

/** A reader that exports nowhere: the test calls collect() when it wants the numbers. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface TestTelemetry {
  tracerProvider: BasicTracerProvider
  meterProvider: MeterProvider
  exporter: InMemorySpanExporter
  spans(): ReadableSpan[]
  /** The data points of metric `name` now. */
  points(name: string): DataPoint<number | Histogram>[]
  collect(): Promise<void>
  shutdown(): Promise<void>
}

let contextManager: AsyncHooksContextManager | null = null

/** Sets the global context manager and propagator (once per process) and makes fresh providers. */
export function testTelemetry(): TestTelemetry {
  if (!contextManager) {
    contextManager = new AsyncHooksContextManager().enable()
    context.setGlobalContextManager(contextManager)
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  }
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const reader = new CollectingReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  let collected = new Map<string, DataPoint<number | Histogram>[]>()
  return {
    tracerProvider,
    meterProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    points: (name) => collected.get(name) ?? [],
    async collect() {
      const { resourceMetrics } = await reader.collect()
      collected = new Map()
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const m of scope.metrics) {
          collected.set(m.descriptor.name, m.dataPoints as DataPoint<number | Histogram>[])
        }
      }
    },
    async shutdown() {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    },
  }
}

/** The data point whose attributes include `match`. */
export function pointWith<T>(points: DataPoint<T>[], match: Attributes): DataPoint<T> | undefined {
  return points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
}
