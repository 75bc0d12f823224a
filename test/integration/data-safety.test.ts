// Data safety against the real broker: a reused Buffer is written as it was when accepted, and so is
// every record of a large batch whose buffer the producer reused after an earlier delivery; slow
// delivery callbacks do not expire records the broker has acknowledged, and a request larger than
// the broker's socket.request.max.bytes fails with the reason after a few tries instead of being
// resent until delivery.timeout.ms.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { KafkaError, Producer, type DeliveryReport } from '../../src/index.js'
import type { BatchBufferPool } from '../../src/protocol/index.js'
import { sharedBootstrapServers, withPrivateKafka } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

test('a Buffer reused right after produce() is written as it was accepted, cold and warm', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('reuse')
  await createTopic(bootstrap, { name: topic, numPartitions: 1 })
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'linger.ms': 5 })
  const buf = Buffer.alloc(16)
  const expected: string[] = []
  const produceBurst = (tag: string): void => {
    for (let i = 0; i < 50; i++) {
      const v = `${tag}-${String(i).padStart(6, '0')}`.padEnd(16, '.')
      buf.write(v)
      producer.produce({ topic, key: buf.subarray(0, 4), value: buf, headers: { h: buf } })
      expected.push(v)
    }
    buf.fill(0x21) // what a pooled buffer looks like once the application moved on
  }
  produceBurst('cold') // before the producer knows the topic: records wait for metadata
  assert.equal(await producer.flush(30_000), 0)
  produceBurst('warm')
  assert.equal(await producer.flush(30_000), 0)
  await producer.close()
  const got = await kcatConsume({ bootstrapServers: bootstrap, topic, count: expected.length })
  assert.deepEqual(
    got.map((r) => r.value!.toString()),
    expected,
  )
  assert.deepEqual(
    got.map((r) => r.headers[0]![1].toString()),
    expected,
  )
  assert.deepEqual(
    got.map((r) => r.key!.toString()),
    expected.map((v) => v.slice(0, 4)),
  )
})

test('large batch buffers reused after delivery: every record is read back with its own bytes', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  for (const compression of ['none', 'lz4'] as const) {
    const topic = uniqueTopic(`reuse-large-${compression}`)
    await createTopic(bootstrap, { name: topic, numPartitions: 2 })
    const producer = new Producer({
      'bootstrap.servers': bootstrap,
      'linger.ms': 0,
      'compression.type': compression,
    })
    const pool = (producer as unknown as { accumulator: { opts: { bufferPool: BatchBufferPool } } })
      .accumulator.opts.bufferPool
    const values: Buffer[] = []
    const reports: DeliveryReport[] = []
    const errors: KafkaError[] = []
    let reusedWaves = 0
    for (let wave = 0; wave < 4; wave++) {
      const idleBefore = pool.idleBytes
      for (let i = 0; i < 3; i++) {
        const n = values.length
        values.push(randomBytes(700 * 1024))
        // The callback keeps the report but reads neither key nor value: the batch is recycled.
        producer.produce({ topic, key: `k${n}`, value: values[n]! }, (err, r) => {
          if (err) errors.push(err)
          reports[n] = r
        })
      }
      if (pool.idleBytes < idleBefore) reusedWaves++
      assert.equal(await producer.flush(30_000), 0)
    }
    await producer.close()
    assert.deepEqual(errors, [])
    assert.ok(reusedWaves >= 3, `${compression}: waves that took pooled buffers: ${reusedWaves}`)
    assert.throws(
      () => reports[0]!.value,
      (e: unknown) => e instanceof KafkaError && e.code === '_STATE',
    )
    const got = await kcatConsume({ bootstrapServers: bootstrap, topic, count: values.length })
    const at = new Map(got.map((r) => [`${r.partition}@${r.offset}`, r]))
    values.forEach((v, i) => {
      const r = at.get(`${reports[i]!.partition}@${reports[i]!.offset}`)
      assert.ok(r, `${compression}: record ${i} at its reported offset`)
      assert.equal(r.key?.toString(), `k${i}`, `${compression}: key of record ${i}`)
      assert.ok(r.value?.equals(v), `${compression}: value of record ${i}`)
    })
  }
})

test('delivery callbacks slower than delivery.timeout.ms do not expire acknowledged records', async (t) => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('slow-callbacks')
  await createTopic(bootstrap, { name: topic, numPartitions: 1 })
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'enable.idempotence': false,
    'linger.ms': 0,
    'batch.num.messages': 10,
    'request.timeout.ms': 1000,
    'delivery.timeout.ms': 1500,
  })
  // Open the connection and learn the topic first, so the three batches go out back to back.
  await producer.send({ topic, value: 'warm-up' })
  const outcomes = new Map<number, KafkaError | DeliveryReport>()
  for (let i = 0; i < 30; i++) {
    producer.produce({ topic, value: `r${i}` }, (err, report) => {
      outcomes.set(i, err ?? report)
      // The first batch's callbacks take 2 s in all, while the answers to the next two batches
      // arrive and wait, unread, past their delivery deadline.
      if (i < 10) {
        const end = Date.now() + 200
        while (Date.now() < end) {
          /* a slow, synchronous callback */
        }
      }
    })
  }
  assert.equal(await producer.flush(30_000), 0)
  await producer.close()
  const failed = [...outcomes].filter(([, o]) => o instanceof KafkaError)
  assert.deepEqual(
    failed.map(([i, e]) => `r${i}: ${(e as KafkaError).message}`),
    [],
  )
  assert.equal(outcomes.size, 30)
  if (skipWithoutKcat(t)) return
  const got = await kcatConsume({ bootstrapServers: bootstrap, topic, count: 31 })
  assert.equal(got.length, 31, 'each record written once')
})

test('a record over the broker socket.request.max.bytes fails with the reason after a few tries', async () => {
  await withPrivateKafka(
    { nodes: 1, brokerProps: { 'socket.request.max.bytes': String(2 * 1024 * 1024) } },
    async (cluster) => {
      const bootstrap = cluster.bootstrapServers
      const topic = uniqueTopic('request-too-large')
      await createTopic(bootstrap, { name: topic, numPartitions: 1 })
      const producer = new Producer({
        'bootstrap.servers': bootstrap,
        // The client's limits raised far above what the broker reads in one request.
        'message.max.bytes': 40 * 1024 * 1024,
        'buffer.memory': 128 * 1024 * 1024,
        'delivery.timeout.ms': 120_000,
        'linger.ms': 0,
      })
      const started = Date.now()
      const big = producer.send({ topic, value: Buffer.alloc(24 * 1024 * 1024, 0x61) }).then(
        () => null,
        (e: KafkaError) => e,
      )
      const err = await big
      const elapsed = Date.now() - started
      assert.ok(err instanceof KafkaError, 'the oversized record fails')
      assert.equal(err.code, 'MESSAGE_TOO_LARGE')
      assert.equal(err.retriable, false)
      assert.match(err.message, /socket\.request\.max\.bytes/)
      assert.ok(elapsed < 60_000, `failed after ${elapsed} ms, not at delivery.timeout.ms`)
      // The producer goes on: a small record to the same topic is delivered.
      const report = await producer.send({ topic, value: 'small' })
      assert.equal(report.offset, 0)
      await producer.close()
    },
  )
})
