// Keyed records land where other clients put them: Kafka's console producer (Java's
// BuiltInPartitioner, murmur2) and our producer choose the same partition for every key, and each of
// librdkafka's named partitioners, run by kcat, chooses the partition our partitioner of that name does.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { consoleProduce, kcatConsume, kcatProduce, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, murmur2, toPositive } from '../../src/index.js'
import { createPartitioner, fnv1a, fnv1aPartitionHash } from '../../src/producer/partitioner.js'
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

// Keys for the librdkafka comparison. kcat splits each line at the first ':', so no key contains one.
// fnv1a of 'k3D52m9' is 0x80000000, INT32_MIN as a signed int, the one hash whose absolute value wraps.
const INT32_MIN_FNV1A_KEY = 'k3D52m9'
const LIBRDKAFKA_KEYS = [
  ...Array.from({ length: 200 }, (_, i) => `key-${i}`),
  ...Array.from({ length: 20 }, (_, i) => `user-${i}`),
  'a',
  '21',
  'foobar',
  'kafka',
  'tenant-42',
  'ünïcödé',
  INT32_MIN_FNV1A_KEY,
]
const NULL_KEY_LINES = 3 // lines without ':' have a null key
const EMPTY_KEY_LINES = 3 // lines starting with ':' have an empty, non-null key

/** Whether librdkafka's placement of this key is deterministic (not its random/sticky partition). */
function hashed(partitioner: string, key: Buffer | null): boolean {
  if (key === null) return !partitioner.endsWith('_random')
  return key.length > 0 || partitioner !== 'consistent_random'
}

test('the librdkafka key set has keys whose signed fnv1a hash is negative, and the INT32_MIN one', () => {
  const signed = LIBRDKAFKA_KEYS.map((k) => fnv1a(Buffer.from(k)) | 0)
  assert.ok(signed.filter((h) => h < 0).length >= 50, `${signed.filter((h) => h < 0).length} negative`)
  assert.ok(signed.filter((h) => h >= 0).length >= 50)
  assert.equal(fnv1a(Buffer.from(INT32_MIN_FNV1A_KEY)), 0x80000000)
  // With the unsigned hash many of them would go elsewhere, so the comparison below can tell.
  for (const n of [6, 7]) {
    const moved = LIBRDKAFKA_KEYS.filter((k) => {
      const key = Buffer.from(k)
      return fnv1a(key) % n !== fnv1aPartitionHash(key) % n
    })
    assert.ok(moved.length >= 40, `${n} partitions: only ${moved.length} keys tell signed from unsigned`)
  }
})

for (const name of [
  'fnv1a',
  'fnv1a_random',
  'consistent',
  'consistent_random',
  'murmur2',
  'murmur2_random',
] as const) {
  test(`librdkafka's ${name} (kcat -X partitioner=${name}) places every key where ours does`, async (t) => {
    if (skipWithoutKcat(t)) return
    const bootstrap = sharedBootstrapServers()
    const lines = [
      ...LIBRDKAFKA_KEYS.map((k) => `${k}:v`),
      ...Array.from({ length: NULL_KEY_LINES }, () => 'null-key'),
      ...Array.from({ length: EMPTY_KEY_LINES }, () => ':empty-key'),
    ]
    for (const partitionCount of [6, 7]) {
      const topic = uniqueTopic(`kcat-${name.replace('_', '-')}-${partitionCount}`)
      await createTopic(bootstrap, { name: topic, numPartitions: partitionCount })
      await kcatProduce({
        bootstrapServers: bootstrap,
        topic,
        lines,
        keyDelimiter: ':',
        properties: { partitioner: name },
      })
      const placed = await kcatConsume({ bootstrapServers: bootstrap, topic, count: lines.length })
      assert.equal(placed.length, lines.length)

      // Random draws never matter: only deterministic placements are compared.
      const ours = createPartitioner(name, { batchSize: 16384, random: Math.random })
      let compared = 0
      for (const rec of placed) {
        assert.ok(rec.partition >= 0 && rec.partition < partitionCount)
        if (!hashed(name, rec.key)) continue
        const expected = ours.partition(topic, rec.key, 10, partitionCount, [])
        const shown = rec.key === null ? 'null key' : JSON.stringify(rec.key.toString())
        assert.equal(
          rec.partition,
          expected,
          `${name}, ${partitionCount} partitions, ${shown}: librdkafka chose ${rec.partition}, we chose ${expected}`,
        )
        compared++
      }
      const expectedCompared =
        LIBRDKAFKA_KEYS.length +
        (hashed(name, null) ? NULL_KEY_LINES : 0) +
        (hashed(name, Buffer.alloc(0)) ? EMPTY_KEY_LINES : 0)
      assert.equal(compared, expectedCompared)
      assert.equal(new Set(placed.map((r) => r.partition)).size, partitionCount)
    }
  })
}
