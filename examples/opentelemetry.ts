// Tracing and metrics with OpenTelemetry (docs/opentelemetry.md): reliable-kafka/opentelemetry gives
// each record a PRODUCER span `send <topic>` under the application's active span, writes the W3C
// traceparent into the record's headers for the consumer to continue the trace, and records
// messaging.client.sent.messages and messaging.client.operation.duration. Needs @opentelemetry/api
// (an optional peer dependency) and, here, the SDK packages that print the spans and metrics.
//
//   npx tsc -p tsconfig.json && node dist/examples/opentelemetry.js
//
// Without KAFKA_BOOTSTRAP_SERVERS it starts a local Kafka broker first and stops it at the end.
// In an application, import from 'reliable-kafka' and 'reliable-kafka/opentelemetry'.
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { withKafka } from './local-kafka.js'
import { instrumentProducer } from '../src/opentelemetry/index.js'
import { Admin, Producer } from '../src/index.js'

const TOPIC = 'traced-orders'

// What an application's OpenTelemetry setup does once at startup (the NodeSDK does the same).
context.setGlobalContextManager(new AsyncHooksContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
})
trace.setGlobalTracerProvider(tracerProvider)
const reader = new PeriodicExportingMetricReader({
  exporter: new ConsoleMetricExporter(),
  exportIntervalMillis: 60_000,
})
const meterProvider = new MeterProvider({ readers: [reader] })

async function run(bootstrap: string): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap })
  await admin.createTopics([{ name: TOPIC, numPartitions: 3 }])
  await admin.close()

  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'order-service' })
  // Before the first record: produce() is synchronous and the instrumentation is set up now.
  const uninstrument = instrumentProducer(producer, { meterProvider })

  // The application's span (an HTTP request, a job) is the parent of the send spans.
  const tracer = trace.getTracer('order-service')
  await tracer.startActiveSpan('POST /orders', async (span) => {
    for (let i = 0; i < 3; i++) {
      const report = await producer.send({ topic: TOPIC, key: `order-${i}`, value: JSON.stringify({ i }) })
      console.log(`order-${i} → partition ${report.partition}, offset ${report.offset}`)
    }
    span.end()
  })
  uninstrument()
  await producer.close()
  await reader.forceFlush()
}

try {
  await withKafka(run)
} finally {
  await tracerProvider.shutdown()
  await meterProvider.shutdown()
}
