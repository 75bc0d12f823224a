// connect(), partitionsFor(), AbortSignal on send() and flush(), `await using` and the lifecycle
// events against a real Kafka 4.4 broker (the shared one), plus an address where nothing listens.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { KafkaError, Producer, type DeliveryReport } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

/** A loopback port nothing listens on (bound once, then released). */
async function deadPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<KafkaError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof KafkaError, String(err))
    return err
  }
  assert.fail('expected a rejection')
}

test('connect({ topics }) resolves with the cluster, the topic and the producer id; partitionsFor() lists the partitions', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('api-connect')
  await createTopic(bootstrap, { name: topic, numPartitions: 3 })
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'api-connect' })
  const connected: { clientId: string; brokers: number }[] = []
  producer.instrumentation.on('producer.connected', (e) => connected.push(e))
  try {
    await producer.connect({ topics: [topic], timeoutMs: 30_000 })
    assert.equal(typeof producer.producerId, 'bigint')
    assert.deepEqual(connected, [{ clientId: 'api-connect', brokers: 1 }])
    const started = Date.now()
    await producer.connect({ topics: [topic] })
    assert.ok(Date.now() - started < 100, 'ready: a second call resolves at once')

    const partitions = await producer.partitionsFor(topic)
    assert.deepEqual(
      partitions.map((p) => [p.partition, p.available]),
      [
        [0, true],
        [1, true],
        [2, true],
      ],
    )
    assert.ok(partitions.every((p) => p.leader >= 0))
    const report = await producer.send({ topic, partition: 2, value: 'after connect' })
    assert.deepEqual([report.partition, report.offset], [2, 0])
  } finally {
    await producer.close()
  }
})

test('a topic that does not exist: connect() and partitionsFor() reject with _UNKNOWN_TOPIC', async () => {
  const bootstrap = sharedBootstrapServers()
  // The shared broker creates topics on request; this producer asks it not to.
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'allow.auto.create.topics': false })
  try {
    const missing = uniqueTopic('api-missing')
    const started = Date.now()
    const err = await rejection(producer.connect({ topics: [missing], timeoutMs: 2_000 }))
    const took = Date.now() - started
    assert.equal(err.code, '_UNKNOWN_TOPIC')
    assert.equal(err.kafkaCode, 3)
    assert.ok(took >= 1_900 && took < 10_000, `rejected after ${took} ms`)
    const err2 = await rejection(producer.partitionsFor(missing, { timeoutMs: 1_000 }))
    assert.equal(err2.code, '_UNKNOWN_TOPIC')
    // The cluster itself is fine: a connect() without topics resolves.
    await producer.connect({ timeoutMs: 30_000 })
  } finally {
    await producer.close()
  }
})

test('no broker listening: connect() rejects with _ALL_BROKERS_DOWN at its timeout, the refused connection as cause', async () => {
  const port = await deadPort()
  const producer = new Producer({ 'bootstrap.servers': `127.0.0.1:${port}` })
  try {
    const started = Date.now()
    const err = await rejection(producer.connect({ timeoutMs: 1_500 }))
    const took = Date.now() - started
    assert.equal(err.code, '_ALL_BROKERS_DOWN')
    assert.ok(took >= 1_400 && took < 5_000, `rejected after ${took} ms`)
    const refresh = err.cause as KafkaError
    assert.equal(refresh.code, '_ALL_BROKERS_DOWN')
    assert.match(String((refresh.cause as Error).message), /ECONNREFUSED/)
  } finally {
    await producer.close()
  }
  await assert.rejects(producer.connect(), { code: '_STATE' })
})

test('AbortSignal: a send() waiting for buffer space is not written; one already in a batch is', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('api-abort')
  await createTopic(bootstrap, { name: topic, numPartitions: 1 })
  // A small buffer, and batches that linger, so that send() has to wait for space.
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'buffer.memory': 4096,
    'linger.ms': 1_000,
  })
  try {
    await producer.connect({ topics: [topic] })
    const filling: Promise<DeliveryReport>[] = []
    for (let i = 0; i < 3; i++) filling.push(producer.send({ topic, value: `fill-${i}-${'x'.repeat(1000)}` }))
    const inBatch = new AbortController()
    const accepted = producer.send(
      { topic, value: `in-batch-${'x'.repeat(500)}` },
      { signal: inBatch.signal },
    )
    inBatch.abort() // too late: the record is in a batch already
    const waiting = new AbortController()
    const blocked = producer.send({ topic, value: `aborted-${'x'.repeat(1000)}` }, { signal: waiting.signal })
    waiting.abort(new Error('no longer needed'))
    const err = await rejection(blocked)
    assert.equal(err.code, '_ABORTED')
    assert.equal((err.cause as Error).message, 'no longer needed')
    const reports = await Promise.all([...filling, accepted])
    assert.deepEqual(
      reports.map((r) => r.offset),
      [0, 1, 2, 3],
    )
    // The aborted record took no offset: the next record written gets the next one.
    const next = await producer.send({ topic, value: 'next' })
    assert.equal(next.offset, 4)
  } finally {
    await producer.close()
  }
})

test("AbortSignal: a send() waiting for its topic's metadata is taken back; an aborted flush() resolves with the count", async () => {
  const bootstrap = sharedBootstrapServers()
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'allow.auto.create.topics': false })
  try {
    const missing = uniqueTopic('api-abort-missing')
    const ac = new AbortController()
    const sent = producer.send({ topic: missing, value: 'v' }, { signal: ac.signal })
    const flushing = producer.flush(60_000, { signal: AbortSignal.timeout(500) })
    assert.equal(await flushing, 1, 'the record still waits for its topic')
    ac.abort()
    const err = await rejection(sent)
    assert.equal(err.code, '_ABORTED')
    assert.equal(producer.pending, 0)
  } finally {
    await producer.close()
  }
})

test('await using: the producer is flushed and closed when the scope ends', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('api-dispose')
  await createTopic(bootstrap, { name: topic, numPartitions: 2 })
  const reports: DeliveryReport[] = []
  const closedEvents: { failed: number }[] = []
  let kept: Producer | null = null
  {
    await using producer = new Producer({ 'bootstrap.servers': bootstrap, 'linger.ms': 50 })
    kept = producer
    producer.instrumentation.on('producer.closed', (e) => closedEvents.push(e))
    for (let i = 0; i < 100; i++) {
      producer.produce({ topic, key: `k${i % 7}`, value: `v${i}` }, (err, report) => {
        if (!err) reports.push(report)
      })
    }
  }
  assert.equal(reports.length, 100, 'every record delivered before the scope ended')
  assert.deepEqual(
    closedEvents.map((e) => e.failed),
    [0],
  )
  assert.throws(() => kept!.produce({ topic, value: 'late' }), { code: '_STATE' })
})
