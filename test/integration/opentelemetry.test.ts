// reliable-kafka/opentelemetry against the real broker: the spans of 30 records (produce() and
// send(), under an application span) are in an in-memory exporter with the messaging semantic
// conventions' attributes and the broker's partitions and offsets, and kcat (librdkafka, no code
// shared with ours) reads each record's traceparent header back from Kafka: it names that record's
// span, in that span's trace.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, type DeliveryReport, type KafkaError } from '../../src/index.js'
import { instrumentProducer } from '../../src/opentelemetry/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { testTelemetry } from '../helpers/opentelemetry.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const N = 30
const PARTITIONS = 3
const telemetry = testTelemetry()
after(() => telemetry.shutdown())

test('send spans with semantic-convention attributes; kcat reads each traceparent back from Kafka', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('otel')
  await createTopic(bootstrap, { name: topic, numPartitions: PARTITIONS })
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'otel-it', 'linger.ms': 5 })
  instrumentProducer(producer, {
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  })
  const reports = new Map<string, DeliveryReport>()
  const app = telemetry.tracerProvider.getTracer('app')
  const request = app.startSpan('POST /orders')
  try {
    await context.with(trace.setSpan(context.active(), request), async () => {
      const sends: Promise<void>[] = []
      for (let i = 0; i < N; i++) {
        const key = `order-${i}`
        const record = { topic, key, value: `v${i}`, headers: { source: 'otel-it' } }
        if (i % 2 === 0) {
          producer.produce(record, (err, r) => {
            assert.equal(err, null)
            reports.set(key, r)
          })
        } else {
          sends.push(producer.send(record).then((r) => void reports.set(key, r)))
        }
      }
      await Promise.all(sends)
      assert.equal(await producer.flush(30_000), 0)
    })
  } finally {
    request.end()
    await producer.close()
  }
  assert.equal(reports.size, N)

  const spans = telemetry.spans().filter((s) => s.name === `send ${topic}`)
  assert.equal(spans.length, N)
  const byKey = new Map(spans.map((s) => [s.attributes['messaging.kafka.message.key'] as string, s]))
  const host = bootstrap.split(',')[0]!.replace(/:\d+$/, '')
  for (const [key, report] of reports) {
    const span = byKey.get(key)!
    assert.ok(span, key)
    assert.equal(span.kind, SpanKind.PRODUCER)
    assert.equal(span.status.code, SpanStatusCode.UNSET)
    assert.equal(span.parentSpanContext?.spanId, request.spanContext().spanId)
    assert.equal(span.spanContext().traceId, request.spanContext().traceId)
    assert.deepEqual(
      {
        system: span.attributes['messaging.system'],
        operation: span.attributes['messaging.operation.name'],
        type: span.attributes['messaging.operation.type'],
        destination: span.attributes['messaging.destination.name'],
        partition: span.attributes['messaging.destination.partition.id'],
        offset: span.attributes['messaging.kafka.offset'],
        clientId: span.attributes['messaging.client.id'],
        server: span.attributes['server.address'],
      },
      {
        system: 'kafka',
        operation: 'send',
        type: 'send',
        destination: topic,
        partition: String(report.partition),
        offset: report.offset,
        clientId: 'otel-it',
        server: host,
      },
    )
  }

  // What Kafka holds: each record's traceparent names its own span.
  const records = await kcatConsume({ bootstrapServers: bootstrap, topic, count: N })
  assert.equal(records.length, N)
  let matched = 0
  for (const r of records) {
    const key = r.key!.toString()
    const span = byKey.get(key)!
    const headers = new Map(r.headers.map(([k, v]) => [k, v.toString()]))
    assert.equal(headers.get('source'), 'otel-it')
    assert.equal(
      headers.get('traceparent'),
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
      key,
    )
    assert.equal(r.partition, reports.get(key)!.partition)
    assert.equal(r.offset, reports.get(key)!.offset)
    matched++
  }

  await telemetry.collect()
  const sent = telemetry.points('messaging.client.sent.messages')
  const total = sent
    .filter((p) => p.attributes['messaging.destination.name'] === topic)
    .reduce((n, p) => n + (p.value as number), 0)
  assert.equal(total, N)
  const durations = telemetry
    .points('messaging.client.operation.duration')
    .filter((p) => p.attributes['messaging.destination.name'] === topic)
    .map((p) => p.value as { count: number; sum: number })
  const count = durations.reduce((n, h) => n + h.count, 0)
  const meanMs = (1000 * durations.reduce((n, h) => n + h.sum, 0)) / count
  assert.equal(count, N)
  console.log(
    `opentelemetry: ${spans.length} send spans, ${matched} traceparent headers read back by kcat and ` +
      `matched, ${total} messages counted over ${sent.length} partitions, mean send duration ${meanMs.toFixed(1)} ms`,
  )
})

test("a record the broker refuses: its span has error.type from the broker's error and status ERROR", async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('otel-small')
  // The topic takes records of at most 1 KiB: a 4 KiB one passes our own limit and the broker refuses it.
  await createTopic(bootstrap, { name: topic, numPartitions: 1, configs: { 'max.message.bytes': '1024' } })
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'otel-it-2' })
  instrumentProducer(producer, {
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  })
  let code = ''
  try {
    await producer.send({ topic, value: 'x'.repeat(4096) }).then(
      () => assert.fail('the broker accepted a record above max.message.bytes'),
      (err: KafkaError) => void (code = err.code),
    )
  } finally {
    await producer.close()
  }
  const span = telemetry.spans().find((s) => s.name === `send ${topic}`)!
  assert.ok(span)
  assert.equal(span.status.code, SpanStatusCode.ERROR)
  assert.equal(span.attributes['error.type'], code)
  assert.equal(span.attributes['messaging.kafka.offset'], undefined)
  await telemetry.collect()
  const failed = telemetry
    .points('messaging.client.sent.messages')
    .find((p) => p.attributes['messaging.destination.name'] === topic)
  assert.equal(failed?.attributes['error.type'], code)
  assert.equal(failed?.value, 1)
  console.log(`opentelemetry: a refused record's span: error.type ${code}, status ERROR`)
})
