// producer.metrics() against the real broker (issue 13): after N records record-send-total is N and
// buffer-available-bytes is back at buffer.memory; with faults injected through the TCP fault proxy
// (connections cut mid-flight, traffic black-holed until delivery.timeout.ms, records over the
// topic's max.message.bytes) record-retry-total, record-error-total and buffer-exhausted-total are
// exactly what the test itself observed (batch.retried events, delivery reports with an error,
// _QUEUE_FULL refusals); producer.prometheus() parses with a real text-format parser.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { Producer, type KafkaError, type Metric } from '../../src/index.js'
import { FaultProxy } from '../helpers/fault-proxy.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const P = 'producer-metrics'

function value(
  metrics: readonly Metric[],
  name: string,
  tags: Record<string, string> = {},
  group = P,
): number {
  const found = metrics.filter(
    (m) => m.group === group && m.name === name && Object.entries(tags).every(([k, v]) => m.tags[k] === v),
  )
  assert.equal(found.length, 1, `${group} ${name} ${JSON.stringify(tags)}: ${found.length} found`)
  return found[0]!.value
}

/** Counts what the test itself sees: records in batch.retried events and in batch.sent events. */
function observe(producer: Producer): { retried: number; sent: number } {
  const seen = { retried: 0, sent: 0 }
  producer.instrumentation.on('batch.retried', (e) => (seen.retried += e.records))
  producer.instrumentation.on('batch.sent', (e) => (seen.sent += e.records))
  return seen
}

test('after N records: record-send-total = N, buffer-available-bytes back to buffer.memory, Prometheus parses', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('metrics')
  await createTopic(bootstrap, { name: topic, numPartitions: 3 })
  const N = 20_000
  const BUFFER = 8 * 1024 * 1024
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'metrics-test',
    'linger.ms': 5,
    'buffer.memory': BUFFER,
  })
  try {
    const seen = observe(producer)
    let failed = 0
    for (let i = 0; i < N; i++) {
      producer.produce({ topic, key: `k${i % 100}`, value: `value-${i}` }, (err) => {
        if (err) failed++
      })
    }
    const during = producer.metrics()
    assert.ok(value(during, 'buffer-available-bytes') < BUFFER, 'records take buffer space until delivered')
    assert.equal(await producer.flush(30_000), 0)
    const m = producer.metrics()
    assert.equal(failed, 0)
    assert.equal(seen.retried, 0, 'no fault: no retry')
    assert.equal(value(m, 'record-send-total', { 'client-id': 'metrics-test' }), N)
    assert.equal(value(m, 'record-send-total', { topic }, 'producer-topic-metrics'), N)
    assert.equal(value(m, 'record-retry-total'), 0)
    assert.equal(value(m, 'record-error-total'), 0)
    assert.equal(value(m, 'buffer-available-bytes'), BUFFER)
    assert.equal(value(m, 'buffer-total-bytes'), BUFFER)
    assert.ok(value(m, 'record-send-rate') > 0)
    assert.ok(value(m, 'request-latency-avg') > 0, 'a real broker takes some time to answer')
    assert.ok(value(m, 'request-latency-max') >= value(m, 'request-latency-avg'))
    assert.ok(value(m, 'batch-size-avg') > 0)
    assert.ok(value(m, 'records-per-request-avg') >= 1)
    assert.ok(value(m, 'record-size-max') > 0)
    assert.equal(value(m, 'produce-throttle-time-max'), 0, 'no quota on the test broker')
    assert.ok(value(m, 'outgoing-byte-total') > N * 10)
    const compression = value(m, 'compression-rate-avg')
    assert.ok(compression > 0.9 && compression <= 1.01, `uncompressed batches: ${compression}`)
    assert.ok(value(m, 'flush-time-ns-total') > 0)
    const nodes = m.filter((x) => x.group === 'producer-node-metrics' && x.name === 'request-latency-avg')
    // node-<id> as Java's Selector names brokers; a bootstrap connection's id is negative (node--1).
    assert.ok(nodes.length >= 1 && nodes.every((x) => /^node--?\d+$/.test(x.tags['node-id']!)))
    assert.ok(nodes.some((x) => /^node-\d+$/.test(x.tags['node-id']!)))
    console.log(
      `[metrics] ${N} records: record-send-total=${value(m, 'record-send-total')} ` +
        `records-per-request-avg=${value(m, 'records-per-request-avg').toFixed(1)} ` +
        `request-latency-avg=${value(m, 'request-latency-avg').toFixed(2)} ms ` +
        `batch-size-avg=${value(m, 'batch-size-avg').toFixed(0)} B`,
    )

    // The Prometheus text, parsed by parse-prometheus-text-format, gives the same numbers.
    const families = parsePrometheusTextFormat(producer.prometheus())
    const names = families.map((f) => f.name)
    assert.equal(new Set(names).size, names.length, 'each family once')
    const send = families.find((f) => f.name === 'kafka_producer_record_send_total')!
    assert.equal(send.type, 'COUNTER')
    assert.deepEqual(send.metrics, [{ labels: { client_id: 'metrics-test' }, value: String(N) }])
    const topicSend = families.find((f) => f.name === 'kafka_producer_topic_record_send_total')!
    assert.deepEqual(topicSend.metrics, [{ labels: { client_id: 'metrics-test', topic }, value: String(N) }])
    const available = families.find((f) => f.name === 'kafka_producer_buffer_available_bytes')!
    assert.equal(available.type, 'GAUGE')
    assert.equal(Number(available.metrics[0]!.value), BUFFER)
  } finally {
    await producer.close()
  }
})

test('faults through the proxy: retry, error and exhausted totals equal what the test observed', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('metrics-faults')
  const small = uniqueTopic('metrics-small')
  await createTopic(bootstrap, { name: topic, numPartitions: 3 })
  await createTopic(bootstrap, { name: small, numPartitions: 1, configs: { 'max.message.bytes': '2000' } })
  const proxy = await FaultProxy.start(bootstrap.split(','))
  const BUFFER = 1_000_000
  const producer = new Producer(
    {
      'bootstrap.servers': bootstrap,
      'linger.ms': 5,
      'buffer.memory': BUFFER,
      'request.timeout.ms': 1_500,
      'socket.connection.setup.timeout.ms': 1_500,
      'delivery.timeout.ms': 6_000,
      'retry.backoff.ms': 50,
      'max.block.ms': 300,
    },
    { transport: proxy.transport },
  )
  try {
    const seen = observe(producer)
    const errors: KafkaError[] = []
    const cb = (err: KafkaError | null): void => {
      if (err) errors.push(err)
    }
    let accepted = 0
    const produce = (t: string, value: string | Buffer): void => {
      producer.produce({ topic: t, value }, cb)
      accepted++
    }

    // 1. Retries: connections cut while Produce requests are in flight (the proxy holds every byte
    // back for 100 ms, so they are in flight when the cut comes); every record still arrives.
    await producer.connect({ topics: [topic, small] })
    proxy.delay(100)
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 2_000; i++) produce(topic, `r${round}-${i}`)
      await sleep(40)
      proxy.cutAll()
    }
    proxy.delay(0)
    assert.equal(await producer.flush(30_000), 0)
    assert.equal(errors.length, 0)
    let m = producer.metrics()
    assert.ok(seen.retried > 0, 'cutting connections mid-flight made batches retry')
    assert.equal(value(m, 'record-retry-total'), seen.retried)
    assert.equal(value(m, 'record-retry-total', { topic }, 'producer-topic-metrics'), seen.retried)
    // Java counts a resent record again: sent = accepted + resent, every retried batch being resent.
    assert.equal(value(m, 'record-send-total'), seen.sent)
    assert.equal(value(m, 'record-send-total'), accepted + seen.retried)
    assert.equal(value(m, 'record-send-total', { topic }, 'producer-topic-metrics'), accepted + seen.retried)
    assert.ok(value(m, 'connection-close-total') >= 1)
    const retriesAfterCuts = seen.retried

    // 2. Broker errors: records larger than the topic's max.message.bytes (2000) fail for good.
    const TOO_LARGE = 5
    for (let i = 0; i < TOO_LARGE; i++) produce(small, Buffer.alloc(5_000, 1))
    assert.equal(await producer.flush(30_000), 0)
    assert.equal(errors.length, TOO_LARGE)
    m = producer.metrics()
    assert.equal(value(m, 'record-error-total'), TOO_LARGE)
    assert.equal(value(m, 'record-error-total', { topic: small }, 'producer-topic-metrics'), TOO_LARGE)

    // 3. Black hole: the buffer fills (produce() refused, send() times out after max.block.ms while
    // it waits, seen in waiting-threads), then every record expires at delivery.timeout.ms.
    proxy.blackhole(true)
    let refused = 0
    const big = Buffer.alloc(1_000, 2)
    for (let i = 0; i < 1_500; i++) {
      try {
        produce(topic, big)
      } catch (err) {
        assert.equal((err as KafkaError).code, '_QUEUE_FULL')
        accepted--
        refused++
      }
    }
    assert.ok(refused > 0, 'the buffer filled up')
    const blocked = producer.send({ topic, value: big })
    await sleep(50)
    assert.equal(value(producer.metrics(), 'waiting-threads'), 1)
    await assert.rejects(blocked, { code: '_QUEUE_FULL' })
    assert.equal(value(producer.metrics(), 'waiting-threads'), 0)
    const expiring = producer.pending
    assert.ok(expiring > 0)
    assert.equal(await producer.flush(20_000), 0)
    proxy.blackhole(false)
    m = producer.metrics()
    assert.equal(errors.length, TOO_LARGE + expiring, 'every record in the black hole expired')
    assert.equal(value(m, 'record-error-total'), errors.length)
    assert.equal(value(m, 'buffer-exhausted-total'), refused + 1)
    assert.ok(value(m, 'bufferpool-wait-time-ns-total') >= 250e6, 'send() waited about max.block.ms')
    assert.equal(value(m, 'record-retry-total'), seen.retried)
    assert.equal(
      value(m, 'buffer-available-bytes'),
      BUFFER,
      'all space is free once every record has its report',
    )
    console.log(
      `[metrics] faults: record-retry-total=${value(m, 'record-retry-total')} (after cuts ${retriesAfterCuts}) ` +
        `record-error-total=${value(m, 'record-error-total')} (${TOO_LARGE} too large + ${expiring} expired) ` +
        `buffer-exhausted-total=${value(m, 'buffer-exhausted-total')} record-send-total=${value(m, 'record-send-total')} ` +
        `for ${accepted} records accepted`,
    )
    assert.doesNotThrow(() => parsePrometheusTextFormat(producer.prometheus()))
  } finally {
    await producer.close(5_000)
    await proxy.close()
  }
})

test('transactions: the txn-*-time-ns-total metrics grow with each call', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('metrics-txn')
  await createTopic(bootstrap, { name: topic, numPartitions: 1 })
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'transactional.id': uniqueTopic('txn') })
  try {
    await producer.initTransactions(30_000)
    // The clock has milliseconds: a few rounds, so that EndTxn's time shows however fast the broker is.
    for (let i = 0; i < 5; i++) {
      producer.beginTransaction()
      await producer.send({ topic, value: `committed-${i}` })
      await producer.commitTransaction()
      producer.beginTransaction()
      await producer.send({ topic, value: `aborted-${i}` })
      await producer.abortTransaction()
    }
    const m = producer.metrics()
    assert.ok(value(m, 'txn-init-time-ns-total') > 0)
    assert.ok(value(m, 'txn-commit-time-ns-total') > 0)
    assert.ok(value(m, 'txn-abort-time-ns-total') > 0)
    assert.ok(value(m, 'txn-begin-time-ns-total') >= 0)
    assert.equal(value(m, 'txn-send-offsets-time-ns-total'), 0)
  } finally {
    await producer.close()
  }
})
