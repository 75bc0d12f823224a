// The guide's configuration dictionaries, copied as they are (only bootstrap.servers points at the
// test broker), construct producers that deliver.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kcatConsumeAtLeast, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, type ProducerConfig } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const guideConfigs = (bootstrap: string): Record<string, ProducerConfig> => ({
  'Production Configuration': {
    // Connection
    'bootstrap.servers': bootstrap,
    'client.id': 'order-service-producer',
    // Durability (CRITICAL)
    acks: 'all',
    'enable.idempotence': true,
    // Retries
    retries: 2147483647,
    'retry.backoff.ms': 100,
    'delivery.timeout.ms': 120000,
    // Batching (performance)
    'batch.size': 16384,
    'linger.ms': 5,
    'compression.type': 'lz4',
    // Memory
    'buffer.memory': 33554432,
    'max.block.ms': 60000,
  },
  'At-Most-Once': { 'bootstrap.servers': bootstrap, acks: '0' },
  'At-Least-Once': {
    'bootstrap.servers': bootstrap,
    acks: 'all',
    'enable.idempotence': true,
    retries: 2147483647,
  },
  'Batching for Throughput': {
    'bootstrap.servers': bootstrap,
    acks: 'all',
    'batch.size': 65536,
    'linger.ms': 50,
    'compression.type': 'lz4',
    'max.in.flight.requests.per.connection': 5,
  },
})

for (const name of Object.keys(guideConfigs('x:1'))) {
  test(`the guide's "${name}" dictionary produces records an independent consumer reads`, async (t) => {
    if (skipWithoutKcat(t)) return
    const bootstrap = sharedBootstrapServers()
    const topic = uniqueTopic('guide')
    await createTopic(bootstrap, { name: topic, numPartitions: 3 })
    const producer = new Producer(guideConfigs(bootstrap)[name]!)
    const errors: unknown[] = []
    for (let i = 0; i < 500; i++) {
      producer.produce({ topic, key: `order-${i % 20}`, value: JSON.stringify({ i }) }, (err) => {
        if (err) errors.push(err)
      })
    }
    assert.equal(await producer.flush(30_000), 0)
    await producer.close()
    assert.deepEqual(errors, [])
    // acks=0 reports a record once it is on the wire, not once the broker appended it.
    const consumed = await kcatConsumeAtLeast({ bootstrapServers: bootstrap, topic, count: 500 })
    assert.equal(consumed.length, 500)
  })
}
