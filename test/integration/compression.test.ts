// Compressed batches written by us are decompressed by the broker (it validates every batch) and
// read back by Kafka's Java console consumer and by kcat.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { consoleConsume, kcatConsume } from '../../scripts/kafka/tools.js'
import { Producer } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

for (const codec of ['gzip', 'lz4'] as const) {
  test(`compression.type=${codec}: Java's console consumer and kcat read our batches`, async () => {
    const bootstrap = sharedBootstrapServers()
    const topic = uniqueTopic(codec)
    await createTopic(bootstrap, { name: topic, numPartitions: 1 })
    const producer = new Producer({
      'bootstrap.servers': bootstrap,
      'compression.type': codec,
      'linger.ms': 20,
    })
    const n = 2_000
    const values = Array.from(
      { length: n },
      (_, i) => `{"event":"compressible-${i}","pad":"${'z'.repeat(200)}"}`,
    )
    let ok = 0
    for (const [i, value] of values.entries()) {
      producer.produce({ topic, key: `k${i}`, value }, (err) => {
        assert.equal(err, null)
        ok++
      })
    }
    assert.equal(await producer.flush(30_000), 0)
    await producer.close()
    assert.equal(ok, n)

    const java = await consoleConsume({ bootstrapServers: bootstrap, topic, maxMessages: n })
    assert.deepEqual(
      java.split('\n').filter((l) => l.startsWith('{')),
      values,
    )
    const kcat = await kcatConsume({ bootstrapServers: bootstrap, topic, count: n })
    assert.deepEqual(
      kcat.map((r) => r.value!.toString()),
      values,
    )
  })
}
