// reliable-kafka/opentelemetry against the fake cluster: a PRODUCER span per record with the
// messaging semantic conventions' attributes, the W3C traceparent in the record's headers (a copy:
// the caller's headers are not touched), the error path, and the two messaging client metrics.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { KafkaError } from '../../../src/errors/index.js'
import { instrumentProducer } from '../../../src/opentelemetry/index.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer } from '../../helpers/fake-producer.js'
import { pointWith, testTelemetry, type TestTelemetry } from '../../helpers/opentelemetry.js'

let telemetry: TestTelemetry | null = null
afterEach(async () => {
  await closeFakeProducers()
  await telemetry?.shutdown()
  telemetry = null
})

function header(headers: [string, Buffer | null][], name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1]?.toString()
}

describe('instrumentProducer', () => {
  it('a send span per record, child of the active span, its context in the traceparent header', async () => {
    const t = (telemetry = testTelemetry())
    const { producer, cluster, pump } = fakeProducer({ 'linger.ms': 0, 'client.id': 'otel-app' })
    instrumentProducer(producer, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider })
    const d = new Deliveries()
    const callerHeaders = Object.freeze({ app: 'a', traceparent: 'stale', multi: ['1', '2'] })
    const parent = t.tracerProvider.getTracer('test').startSpan('handle request')
    const { context } = await import('@opentelemetry/api')
    context.with(trace.setSpan(context.active(), parent), () => {
      producer.produce({ topic: 't', key: 'user-1', value: 'v', headers: callerHeaders }, d.cb('r'))
    })
    parent.end()
    for (let i = 0; i < 5; i++) await pump(10)
    d.assertAllOnce()
    assert.equal(d.one('r').err, null)

    const [span] = t.spans().filter((s) => s.name === 'send t')
    assert.ok(
      span,
      t
        .spans()
        .map((s) => s.name)
        .join(),
    )
    assert.equal(span.kind, SpanKind.PRODUCER)
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId)
    assert.equal(span.spanContext().traceId, parent.spanContext().traceId)
    assert.deepEqual(span.attributes, {
      'messaging.system': 'kafka',
      'messaging.system.name': 'kafka',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 't',
      'messaging.client.id': 'otel-app',
      'messaging.kafka.message.key': 'user-1',
      'kafka.message.key': 'user-1',
      'server.address': 'broker1',
      'server.port': 9092,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 0,
      'kafka.offset': 0,
    })
    assert.equal(span.status.code, SpanStatusCode.UNSET)

    // On the wire: the caller's headers in order, the stale traceparent replaced by the span's.
    const [written] = cluster.log('t', 0)
    const headers = written!.headers as [string, Buffer | null][]
    assert.deepEqual(
      headers.map(([k]) => k),
      ['app', 'multi', 'multi', 'traceparent'],
    )
    assert.equal(
      header(headers, 'traceparent'),
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    )
    assert.deepEqual(callerHeaders, { app: 'a', traceparent: 'stale', multi: ['1', '2'] })
  })

  it('send() ends its span at the report; a failed record has error.type and an ERROR status', async () => {
    const t = (telemetry = testTelemetry())
    const { producer, pump } = fakeProducer(
      { 'linger.ms': 0 },
      { topics: { t: { partitions: 1 }, denied: { partitions: 0, errorCode: 29 } } },
    )
    instrumentProducer(producer, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider })
    const ok = producer.send({ topic: 't', value: 'x', headers: [['h', 'v']] })
    const denied = producer.send({ topic: 'denied', value: null })
    const deniedOutcome = denied.then(
      () => null,
      (err: KafkaError) => err,
    )
    for (let i = 0; i < 5; i++) await pump(10)
    assert.equal((await ok).offset, 0)
    assert.equal((await deniedOutcome)?.code, 'TOPIC_AUTHORIZATION_FAILED')

    const failed = t.spans().find((s) => s.name === 'send denied')!
    assert.equal(failed.attributes['error.type'], 'TOPIC_AUTHORIZATION_FAILED')
    assert.equal(failed.attributes['messaging.kafka.message.tombstone'], true)
    assert.equal(failed.attributes['messaging.kafka.offset'], undefined)
    assert.equal(failed.status.code, SpanStatusCode.ERROR)
    assert.equal(t.spans().find((s) => s.name === 'send t')!.attributes['kafka.offset'], 0)
  })

  it('a record produce() refuses ends its span with the error, which is thrown as before', () => {
    const t = (telemetry = testTelemetry())
    const { producer } = fakeProducer()
    instrumentProducer(producer, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider })
    assert.throws(
      () => producer.produce({ topic: 't' } as never),
      (err: unknown) => err instanceof KafkaError && err.code === '_INVALID_ARG',
    )
    const [span] = t.spans()
    assert.equal(span?.attributes['error.type'], '_INVALID_ARG')
  })

  it('counts messaging.client.sent.messages and records messaging.client.operation.duration', async () => {
    const t = (telemetry = testTelemetry())
    const { producer, pump } = fakeProducer(
      { 'linger.ms': 0 },
      { topics: { t: { partitions: 1 }, denied: { partitions: 0, errorCode: 29 } } },
    )
    let now = 1000
    instrumentProducer(producer, {
      tracerProvider: t.tracerProvider,
      meterProvider: t.meterProvider,
      now: () => (now += 250),
    })
    const d = new Deliveries()
    for (let i = 0; i < 3; i++) producer.produce({ topic: 't', value: `v${i}` }, d.cb(`r${i}`))
    producer.produce({ topic: 'denied', value: 'x' }, d.cb('denied'))
    for (let i = 0; i < 5; i++) await pump(10)
    d.assertAllOnce()
    await t.collect()
    const sent = t.points('messaging.client.sent.messages')
    const okPoint = pointWith(sent, {
      'messaging.destination.name': 't',
      'messaging.destination.partition.id': '0',
    })
    assert.equal(okPoint?.value, 3)
    assert.equal(okPoint?.attributes['error.type'], undefined)
    assert.equal(okPoint?.attributes['messaging.operation.name'], 'send')
    assert.equal(pointWith(sent, { 'error.type': 'TOPIC_AUTHORIZATION_FAILED' })?.value, 1)
    const durations = t.points('messaging.client.operation.duration')
    const h = pointWith(durations, { 'messaging.destination.name': 't' })!.value as {
      count: number
      sum: number
    }
    assert.equal(h.count, 3)
    // Each record's start and end read the clock once each: positive, whole multiples of 0.25 s.
    assert.ok(h.sum > 0 && Number.isInteger(h.sum / 0.25), String(h.sum))
  })

  it('dr_cb still hears a record produced without its own callback', async () => {
    const t = (telemetry = testTelemetry())
    const reports: number[] = []
    const { producer, pump } = fakeProducer({
      'linger.ms': 0,
      dr_cb: (_err, r) => void reports.push(r.offset),
    })
    instrumentProducer(producer, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider })
    producer.produce({ topic: 't', value: 'x' })
    for (let i = 0; i < 5; i++) await pump(10)
    assert.deepEqual(reports, [0])
    assert.equal(t.spans().length, 1)
  })

  it('uninstrumenting restores the plain producer; instrumenting twice is refused', async () => {
    const t = (telemetry = testTelemetry())
    const { producer, cluster, pump } = fakeProducer({ 'linger.ms': 0 })
    const opts = { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider }
    const undo = instrumentProducer(producer, opts)
    assert.throws(() => instrumentProducer(producer, opts), /instrumented already/)
    undo()
    assert.equal(Object.hasOwn(producer, 'produce'), false)
    producer.produce({ topic: 't', value: 'x' })
    for (let i = 0; i < 5; i++) await pump(10)
    assert.equal(t.spans().length, 0)
    assert.deepEqual(cluster.log('t', 0)[0]!.headers, [])
    instrumentProducer(producer, opts)()
  })

  it('recordKey: false keeps keys out of the span', async () => {
    const t = (telemetry = testTelemetry())
    const { producer, pump } = fakeProducer({ 'linger.ms': 0 })
    instrumentProducer(producer, {
      tracerProvider: t.tracerProvider,
      meterProvider: t.meterProvider,
      recordKey: false,
    })
    producer.produce({ topic: 't', key: 'personal', value: 'x' })
    for (let i = 0; i < 5; i++) await pump(10)
    assert.equal(JSON.stringify(t.spans()[0]!.attributes).includes('personal'), false)
  })
})
