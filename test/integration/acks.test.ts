// acks=0 (at-most-once: no broker answer, offset -1 in the report) and acks=1 (leader only) both
// write records that an independent consumer reads back. Also what happens to a topic nobody created:
// created on first use by default (as by stock Kafka), _UNKNOWN_TOPIC when the producer says not to.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kcatConsumeAtLeast, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, type DeliveryReport } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

for (const acks of ['0', '1', 'all'] as const) {
  test(`acks=${acks}: records are written and reports carry ${acks === '0' ? 'offset -1' : 'real offsets'}`, async (t) => {
    if (skipWithoutKcat(t)) return
    const bootstrap = sharedBootstrapServers()
    const topic = uniqueTopic(`acks${acks}`)
    await createTopic(bootstrap, { name: topic, numPartitions: 3 })
    const producer = new Producer({ 'bootstrap.servers': bootstrap, acks })
    const n = 3_000
    // The callbacks only record: the producer catches what a callback throws (an assert included)
    // and hands it to error_cb, so assertions belong after flush().
    const calls = new Array<number>(n).fill(0)
    const failures: string[] = []
    const reports: DeliveryReport[] = []
    for (let i = 0; i < n; i++) {
      producer.produce({ topic, key: `k${i % 30}`, value: `v${i}` }, (err, rep) => {
        calls[i]!++
        if (err) failures.push(`v${i}: ${err.code} ${err.message}`)
        else reports.push(rep)
      })
    }
    assert.equal(await producer.flush(30_000), 0)
    await producer.close()
    assert.equal(
      failures.length,
      0,
      `${failures.length} record(s) failed: ${failures.slice(0, 5).join('; ')}`,
    )
    const notOnce = calls.flatMap((c, i) => (c === 1 ? [] : [`v${i}: ${c} callbacks`]))
    assert.equal(notOnce.length, 0, `not one callback per record: ${notOnce.slice(0, 5).join('; ')}`)
    assert.equal(reports.length, n)
    if (acks === '0') assert.ok(reports.every((r) => r.offset === -1))
    else assert.ok(reports.every((r) => r.offset >= 0))
    // acks=0 reports a record once it is on the wire, not once the broker appended it.
    const consumed = await kcatConsumeAtLeast({ bootstrapServers: bootstrap, topic, count: n })
    assert.equal(consumed.length, n)
    assert.deepEqual(
      consumed.map((c) => c.value!.toString()).sort(),
      Array.from({ length: n }, (_, i) => `v${i}`).sort(),
    )
  })
}

test('a topic that does not exist fails with _UNKNOWN_TOPIC after topic.metadata.propagation.max.ms', async () => {
  const bootstrap = sharedBootstrapServers()
  // The test broker, like stock Kafka, creates a topic when a client asks for its metadata; this
  // producer asks it not to, as a client of a cluster without auto-creation would see it.
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'topic.metadata.propagation.max.ms': 1500,
    'allow.auto.create.topics': false,
  })
  const started = Date.now()
  await assert.rejects(
    producer.send({ topic: uniqueTopic('missing'), value: 'x' }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, '_UNKNOWN_TOPIC')
      return true
    },
  )
  const waited = Date.now() - started
  assert.ok(waited >= 1400 && waited < 10_000, `waited ${waited} ms`)
  await producer.close()
})

test('a topic nobody created is created on first use, as by stock Kafka (auto.create.topics.enable)', async () => {
  const producer = new Producer({ 'bootstrap.servers': sharedBootstrapServers() })
  try {
    const report = await producer.send({ topic: uniqueTopic('autocreated'), value: 'x' })
    // The broker's num.partitions default: one partition.
    assert.equal(report.partition, 0)
    assert.equal(report.offset, 0)
  } finally {
    await producer.close()
  }
})
