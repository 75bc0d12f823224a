// Keyed records land where the Java client puts them: Kafka's console producer (Java's
// BuiltInPartitioner, murmur2) and our producer choose the same partition for every key.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { consoleProduce, kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, murmur2, toPositive } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const PARTITIONS = 6

test("keys produced by Kafka's console producer (parse.key=true) land on the partitions ours choose", async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const javaTopic = uniqueTopic('java-keys')
  const ourTopic = uniqueTopic('our-keys')
  await createTopic(bootstrap, { name: javaTopic, numPartitions: PARTITIONS })
  await createTopic(bootstrap, { name: ourTopic, numPartitions: PARTITIONS })
  const keys = [
    ...Array.from({ length: 200 }, (_, i) => `key-${i}`),
    '21',
    'foobar',
    'kafka',
    'user-123',
    'tenant:42',
  ]

  await consoleProduce({
    bootstrapServers: bootstrap,
    topic: javaTopic,
    lines: keys.map((k) => `${k}\tfrom-java`),
    parseKey: true,
  })
  const javaPlaced = await kcatConsume({ bootstrapServers: bootstrap, topic: javaTopic, count: keys.length })
  assert.equal(javaPlaced.length, keys.length)

  const producer = new Producer({ 'bootstrap.servers': bootstrap })
  const ours = new Map<string, number>()
  await Promise.all(
    keys.map(async (k) => {
      const rep = await producer.send({ topic: ourTopic, key: k, value: 'from-us' })
      ours.set(k, rep.partition)
    }),
  )
  await producer.close()

  let compared = 0
  for (const rec of javaPlaced) {
    const key = rec.key!.toString()
    assert.equal(
      ours.get(key),
      rec.partition,
      `key ${key}: Java chose ${rec.partition}, we chose ${ours.get(key)}`,
    )
    assert.equal(toPositive(murmur2(Buffer.from(key))) % PARTITIONS, rec.partition)
    compared++
  }
  assert.equal(compared, keys.length)
  // The keys spread over every partition, so the comparison is not trivially "all on one".
  assert.equal(new Set(javaPlaced.map((r) => r.partition)).size, PARTITIONS)
})
