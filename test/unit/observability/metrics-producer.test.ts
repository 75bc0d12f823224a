// ProducerMetrics from instrumentation events at chosen times (a manual clock), then a producer on the
// fake cluster: Java's names, groups and tags, the per-request and per-batch semantics of Java's
// SenderMetrics, the buffer gauges, and metrics.enable=false adding no listener at all.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { Instrumentation, PRODUCER_EVENT_NAMES } from '../../../src/observability/events.js'
import { ProducerMetrics } from '../../../src/observability/metrics/producer-metrics.js'
import type { Metric } from '../../../src/observability/metrics/registry.js'
import { BufferLimits } from '../../../src/producer/buffer-limits.js'
import { ManualClock } from '../../../src/util/clock.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

/** The value of the metric `name` in `group` whose tags include `tags`; fails if there is not exactly one. */
function value(
  metrics: readonly Metric[],
  group: string,
  name: string,
  tags: Record<string, string> = {},
): number {
  const found = metrics.filter(
    (m) => m.group === group && m.name === name && Object.entries(tags).every(([k, v]) => m.tags[k] === v),
  )
  assert.equal(found.length, 1, `${group} ${name} ${JSON.stringify(tags)}: ${found.length} found`)
  return found[0]!.value
}

const P = 'producer-metrics'
const TOPIC = 'producer-topic-metrics'
const NODE = 'producer-node-metrics'

function setup(buffer = { totalBytes: 1000, availableBytes: () => 600, waiting: () => 2 }) {
  const clock = new ManualClock(1_000_000)
  const hub = new Instrumentation()
  const metrics = new ProducerMetrics(hub, {
    clientId: 'app-1',
    clock,
    window: { sampleWindowMs: 30_000, numSamples: 2 },
    buffer,
  })
  return { clock, hub, metrics }
}

function sendRequest(
  hub: Instrumentation,
  nodeId: number,
  batches: [string, number, number][],
  attempt = 1,
): void {
  for (const [topic, records, wireBytes] of batches) {
    hub.emit('batch.sent', { nodeId, topic, partition: 0, records, wireBytes, attempt })
  }
  const bytes = batches.reduce((s, b) => s + b[2], 100)
  hub.emit('request.sent', { nodeId, apiKey: 0, apiName: 'Produce', apiVersion: 11, bytes, correlationId: 1 })
}

describe('ProducerMetrics', () => {
  it('counts records per Produce request (resends included, as Java), per topic, with rates over the windows', () => {
    const { clock, hub, metrics } = setup()
    sendRequest(hub, 1, [
      ['a', 10, 500],
      ['b', 5, 300],
    ])
    clock.advance(1000)
    sendRequest(hub, 2, [['a', 20, 900]])
    // A Metadata request is a request, not a Produce one: it carries no records.
    hub.emit('request.sent', {
      nodeId: 2,
      apiKey: 3,
      apiName: 'Metadata',
      apiVersion: 12,
      bytes: 50,
      correlationId: 2,
    })
    hub.emit('batch.retried', {
      topic: 'a',
      partition: 0,
      records: 20,
      attempt: 1,
      error: new KafkaError('NOT_LEADER_OR_FOLLOWER', 'moved'),
    })
    sendRequest(hub, 2, [['a', 20, 900]], 2)
    const m = metrics.read()
    assert.equal(value(m, P, 'record-send-total', { 'client-id': 'app-1' }), 55)
    assert.equal(value(m, P, 'records-per-request-avg'), 55 / 3)
    assert.equal(value(m, P, 'record-retry-total'), 20)
    assert.equal(value(m, TOPIC, 'record-send-total', { topic: 'a' }), 50)
    assert.equal(value(m, TOPIC, 'record-send-total', { topic: 'b' }), 5)
    assert.equal(value(m, TOPIC, 'byte-total', { topic: 'a' }), 2300)
    assert.equal(value(m, TOPIC, 'record-retry-total', { topic: 'a' }), 20)
    assert.equal(value(m, TOPIC, 'record-retry-total', { topic: 'b' }), 0)
    // 55 records, 1 s after the first sample started, + one padded 30 s window (Java's Rate).
    assert.equal(value(m, P, 'record-send-rate'), 55 / 31)
    assert.equal(value(m, P, 'request-total'), 4)
    assert.equal(value(m, P, 'outgoing-byte-total'), 900 + 1000 + 50 + 1000)
    assert.equal(value(m, P, 'request-size-max'), 1000)
    assert.equal(value(m, NODE, 'request-total', { 'node-id': 'node-2' }), 3)
    assert.equal(value(m, NODE, 'outgoing-byte-total', { 'node-id': 'node-1' }), 900)
    // Every metric names its client; node and topic metrics their node or topic.
    assert.ok(m.every((x) => x.tags['client-id'] === 'app-1'))
    assert.ok(m.filter((x) => x.group === NODE).every((x) => /^node-\d+$/.test(x.tags['node-id']!)))
    // Read-only: the values are frozen snapshots.
    assert.throws(() => {
      ;(m[0] as { value: number }).value = 1
    })
  })

  it('takes batch size, compression, queue time and record size from batch.built, once per batch', () => {
    const { hub, metrics } = setup()
    const built = { topic: 't', partition: 0, codec: 'lz4' }
    hub.emit('batch.built', {
      ...built,
      records: 4,
      bytes: 1000,
      wireBytes: 250,
      queueTimeMs: 8,
      maxRecordBytes: 300,
    })
    hub.emit('batch.built', {
      ...built,
      records: 1,
      bytes: 100,
      wireBytes: 100,
      queueTimeMs: 2,
      maxRecordBytes: 100,
    })
    const m = metrics.read()
    assert.equal(value(m, P, 'batch-size-avg'), 175)
    assert.equal(value(m, P, 'batch-size-max'), 250)
    assert.equal(value(m, P, 'compression-rate-avg'), (0.25 + 1) / 2)
    assert.equal(value(m, TOPIC, 'compression-rate', { topic: 't' }), (0.25 + 1) / 2)
    assert.equal(value(m, P, 'record-queue-time-avg'), 5)
    assert.equal(value(m, P, 'record-queue-time-max'), 8)
    assert.equal(value(m, P, 'record-size-avg'), 200)
    assert.equal(value(m, P, 'record-size-max'), 300)
  })

  it('request latency and throttle time come from Produce answers only; errors per failed record', () => {
    const { hub, metrics } = setup()
    const answered = { nodeId: 1, apiName: 'Produce', correlationId: 1, bytes: 60 }
    hub.emit('request.answered', { ...answered, apiKey: 0, rttMs: 10, throttleTimeMs: 40 })
    hub.emit('request.answered', { ...answered, apiKey: 0, rttMs: 30 })
    hub.emit('request.answered', { ...answered, apiKey: 3, apiName: 'Metadata', rttMs: 500 })
    const err = new KafkaError('MESSAGE_TOO_LARGE', 'big')
    for (let i = 0; i < 3; i++) hub.emit('record.failed', { topic: 'x', partition: 0, error: err })
    const m = metrics.read()
    assert.equal(value(m, P, 'request-latency-avg'), 20)
    assert.equal(value(m, P, 'request-latency-max'), 30)
    assert.equal(value(m, NODE, 'request-latency-max', { 'node-id': 'node-1' }), 30)
    assert.equal(value(m, P, 'produce-throttle-time-avg'), 20)
    assert.equal(value(m, P, 'produce-throttle-time-max'), 40)
    assert.equal(value(m, P, 'response-total'), 3)
    assert.equal(value(m, P, 'incoming-byte-total'), 180)
    assert.equal(value(m, P, 'record-error-total'), 3)
    assert.equal(value(m, TOPIC, 'record-error-total', { topic: 'x' }), 3)
  })

  it('reads the buffer gauges when read; wait time as a ratio and in ns; exhaustion; timed calls in ns', () => {
    let available = 1000
    const { clock, metrics } = setup({ totalBytes: 1000, availableBytes: () => available, waiting: () => 1 })
    assert.equal(value(metrics.read(), P, 'buffer-available-bytes'), 1000)
    available = 250
    metrics.recordBufferWait(15_000)
    metrics.recordBufferExhausted()
    metrics.recordTime('flush', 7)
    metrics.recordTime('txnCommit', 3)
    clock.advance(30_000)
    const m = metrics.read()
    assert.equal(value(m, P, 'buffer-total-bytes'), 1000)
    assert.equal(value(m, P, 'buffer-available-bytes'), 250)
    assert.equal(value(m, P, 'waiting-threads'), 1)
    // 15 s waited over the 30 s elapsed (one full window: no padding).
    assert.ok(Math.abs(value(m, P, 'bufferpool-wait-ratio') - 0.5) < 1e-12)
    assert.equal(value(m, P, 'bufferpool-wait-time-ns-total'), 15_000 * 1e6)
    assert.equal(value(m, P, 'buffer-exhausted-total'), 1)
    assert.equal(value(m, P, 'flush-time-ns-total'), 7e6)
    assert.equal(value(m, P, 'txn-commit-time-ns-total'), 3e6)
    assert.equal(value(m, P, 'txn-abort-time-ns-total'), 0)
    assert.ok(Number.isNaN(value(m, P, 'request-latency-avg')), 'no Produce answer yet: NaN, as Java')
  })

  it('close() removes every listener it added', () => {
    const { hub, metrics } = setup()
    assert.ok(hub.has('batch.sent'))
    metrics.close()
    assert.deepEqual(
      PRODUCER_EVENT_NAMES.filter((n) => hub.has(n)),
      [],
    )
  })
})

describe('BufferLimits observer (bufferpool-wait-time, buffer-exhausted)', () => {
  it('hears each wait, granted, timed out or aborted, with its length, and each exhaustion', async () => {
    const clock = new ManualClock()
    const l = new BufferLimits(100, 0, clock)
    const heard: (number | 'exhausted')[] = []
    l.observer = { waited: (ms) => heard.push(ms), exhausted: () => heard.push('exhausted') }
    assert.equal(l.tryAcquire(100), true)
    const granted = l.acquire(50, 1000)
    clock.advance(40)
    l.release(100, 1)
    await granted
    const timedOut = l.acquire(80, 100).catch((e: KafkaError) => e.code)
    clock.advance(100)
    assert.equal(await timedOut, '_QUEUE_FULL')
    const ac = new AbortController()
    const aborted = l.acquire(80, 1000, ac.signal).catch((e: KafkaError) => e.code)
    clock.advance(10)
    ac.abort()
    assert.equal(await aborted, '_ABORTED')
    l.refused()
    assert.deepEqual(heard, [40, 100, 'exhausted', 10, 'exhausted'])
  })
})

describe('producer.metrics()', () => {
  it('after N records on the fake cluster: record-send-total = N, one retry counted, the buffer free again', async () => {
    const { producer, cluster, pump } = fakeProducer({
      'linger.ms': 0,
      'retry.backoff.ms': 10,
      'retry.backoff.max.ms': 10,
      'buffer.memory': 1_000_000,
      'client.id': 'unit',
    })
    // The first Produce answer is NOT_LEADER_OR_FOLLOWER (retriable): the batch is sent twice.
    cluster.produceHandler = (call) => (call.seq === 0 ? { errorCode: 6 } : 'ok')
    const d = new Deliveries()
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', value: `v${i}` }, d.cb(`r${i}`))
    assert.ok(value(producer.metrics(), P, 'buffer-available-bytes') < 1_000_000)
    await pump(10)
    for (let i = 0; i < 6; i++) await pump(10)
    d.assertAllOnce()
    const m = producer.metrics()
    assert.equal(value(m, P, 'record-retry-total', { 'client-id': 'unit' }), 5)
    // Java counts a resent record again in record-send-total.
    assert.equal(value(m, P, 'record-send-total'), 10)
    assert.equal(value(m, P, 'record-error-total'), 0)
    assert.equal(value(m, P, 'buffer-available-bytes'), 1_000_000)
    assert.equal(value(m, P, 'buffer-total-bytes'), 1_000_000)
    assert.ok(value(m, P, 'batch-size-max') > 0)
    assert.ok(value(m, P, 'connection-count') >= 1)
    assert.match(producer.prometheus(), /^kafka_producer_record_send_total\{client_id="unit"\} 10$/m)
  })

  it('counts produce() refused for a full buffer as buffer-exhausted', () => {
    const { producer } = fakeProducer({ 'buffer.memory': 1024 })
    producer.produce({ topic: 't', value: Buffer.alloc(900) }, () => {})
    assert.throws(() => producer.produce({ topic: 't', value: Buffer.alloc(900) }, () => {}), {
      code: '_QUEUE_FULL',
    })
    assert.equal(value(producer.metrics(), P, 'buffer-exhausted-total'), 1)
  })

  it('metrics.enable=false: no listener on the hub, metrics() empty, prometheus() empty', () => {
    const { producer } = fakeProducer({ 'metrics.enable': false })
    assert.deepEqual(
      PRODUCER_EVENT_NAMES.filter((n) => producer.instrumentation.has(n)),
      [],
    )
    assert.deepEqual(producer.metrics(), [])
    assert.equal(producer.prometheus(), '')
  })
})
