// Compressed batches written by us are decompressed by the broker (it validates every batch) and
// read back by Kafka's Java console consumer and by kcat, for every codec. The batches are also
// fetched raw to check that the broker stored them with the codec asked for.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { fetchPartitionBytes } from '../../scripts/capture-java-batches.js'
import { consoleConsume, kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { type CompressionType, Producer } from '../../src/index.js'
import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`compression.type=${codec}: Java's console consumer and kcat read our batches`, async (t) => {
    const bootstrap = sharedBootstrapServers()
    const topic = uniqueTopic(codec)
    await createTopic(bootstrap, { name: topic, numPartitions: 1 })
    const n = 2_000
    const values = Array.from(
      { length: n },
      (_, i) => `{"event":"compressible-${i}","pad":"${'z'.repeat(200)}"}`,
    )
    await produceAll(bootstrap, topic, codec, values)

    // The topic's compression.type is `producer`: the log holds our batches with our codec.
    const batches = decodeRecordBatches(await fetchPartitionBytes(bootstrap, topic, 16 * 1024 * 1024))
    assert.ok(
      batches.some((b) => b.records.length > 500),
      `some batch holds more than 500 records (> 64 KiB); sizes: ${batches.map((b) => b.records.length).join(',')}`,
    )
    assert.deepEqual(new Set(batches.map((b) => b.compression)), new Set([codec]))
    assert.deepEqual(
      batches.flatMap((b) => b.records.map((r) => r.value!.toString())),
      values,
    )

    const java = await consoleConsume({ bootstrapServers: bootstrap, topic, maxMessages: n })
    assert.deepEqual(
      java.split('\n').filter((l) => l.startsWith('{')),
      values,
    )
    await t.test('kcat reads them too', async (t) => {
      if (skipWithoutKcat(t)) return
      const kcat = await kcatConsume({ bootstrapServers: bootstrap, topic, count: n })
      assert.deepEqual(
        kcat.map((r) => r.value!.toString()),
        values,
      )
    })
  })
}

// lz4 stores a block that does not get smaller uncompressed (the size field's high bit), as the frame
// format allows. Random base64 does not shrink under lz4, so these batches are made of such blocks;
// the broker decompresses every batch it appends (Java's KafkaLZ4BlockInputStream) and Java's console
// consumer reads them back.
test('compression.type=lz4: batches of incompressible records (stored blocks) are read by Java', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('lz4-stored')
  await createTopic(bootstrap, { name: topic, numPartitions: 1 })
  const values = Array.from({ length: 600 }, () => randomBytes(450).toString('base64'))
  await produceAll(bootstrap, topic, 'lz4', values)
  const batches = decodeRecordBatches(await fetchPartitionBytes(bootstrap, topic, 16 * 1024 * 1024))
  assert.ok(
    batches.some((b) => b.records.length * 600 > 64 * 1024),
    `some batch spans more than one 64 KiB block; sizes: ${batches.map((b) => b.records.length).join(',')}`,
  )
  const java = await consoleConsume({ bootstrapServers: bootstrap, topic, maxMessages: values.length })
  assert.deepEqual(
    java.split('\n').filter((l) => l.length >= 600),
    values,
  )
})

/** Produces `values` (key `k<i>`), checks one successful callback each, and closes the producer. */
async function produceAll(
  bootstrap: string,
  topic: string,
  codec: CompressionType,
  values: readonly string[],
): Promise<void> {
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'compression.type': codec,
    'linger.ms': 20,
    // Batches of up to ~250 KiB, so snappy batches hold several 32 KiB xerial blocks.
    'batch.size': 256 * 1024,
  })
  const n = values.length
  // The callbacks only record: the producer catches what a callback throws (an assert included)
  // and hands it to error_cb, so assertions belong after flush().
  const calls = new Array<number>(n).fill(0)
  const failures: string[] = []
  for (const [i, value] of values.entries()) {
    producer.produce({ topic, key: `k${i}`, value }, (err) => {
      calls[i]!++
      if (err) failures.push(`k${i}: ${err.code} ${err.message}`)
    })
  }
  assert.equal(await producer.flush(30_000), 0)
  await producer.close()
  assert.equal(failures.length, 0, `${failures.length} record(s) failed: ${failures.slice(0, 5).join('; ')}`)
  const notOnce = calls.flatMap((c, i) => (c === 1 ? [] : [`k${i}: ${c} callbacks`]))
  assert.equal(notOnce.length, 0, `not one callback per record: ${notOnce.slice(0, 5).join('; ')}`)
}
