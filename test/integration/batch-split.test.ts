// A batch larger than the topic's max.message.bytes is refused by the broker (MESSAGE_TOO_LARGE);
// the producer splits it and sends the parts (Java's Sender does the same), so every record is
// delivered once: in order with idempotence; without it, batches sent behind the refused one may
// land first, as with any retry at max.in.flight > 1. This is what happens when batch.size is
// larger than the broker allows, or when incompressible data makes a compressed batch bigger than
// its estimate.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { fetchPartitionBytes } from '../../scripts/capture-java-batches.js'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { type DeliveryReport, type KafkaError, Producer } from '../../src/index.js'
import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const MAX_MESSAGE_BYTES = 20_000

for (const [codec, idempotence] of [
  ['none', true],
  ['lz4', true],
  ['none', false],
] as const) {
  test(`batches over the topic's max.message.bytes are split and delivered (${codec}, idempotence ${idempotence})`, async (t) => {
    if (skipWithoutKcat(t)) return
    const bootstrap = sharedBootstrapServers()
    const topic = uniqueTopic(`split-${codec}`)
    await createTopic(bootstrap, {
      name: topic,
      numPartitions: 1,
      configs: { 'max.message.bytes': String(MAX_MESSAGE_BYTES) },
    })
    const producer = new Producer({
      'bootstrap.servers': bootstrap,
      'compression.type': codec,
      'enable.idempotence': idempotence,
      'linger.ms': 50,
      // Ten times what the topic takes; random values do not compress, so lz4 batches are as big.
      'batch.size': 10 * MAX_MESSAGE_BYTES,
    })
    const n = 600
    const values = Array.from({ length: n }, (_, i) =>
      Buffer.concat([Buffer.from(`${String(i).padStart(4, '0')}:`), randomBytes(995)]),
    )
    const outcomes: { err: KafkaError | null; report: DeliveryReport }[][] = values.map(() => [])
    values.forEach((value, i) =>
      producer.produce({ topic, value }, (err, report) => outcomes[i]!.push({ err, report })),
    )
    assert.equal(await producer.flush(30_000), 0)
    await producer.close()

    assert.ok(
      outcomes.every((o) => o.length === 1),
      'one outcome per record',
    )
    assert.deepEqual(
      outcomes.filter(([o]) => o!.err !== null).map(([o]) => o!.err!.message),
      [],
    )
    const batches = decodeRecordBatches(await fetchPartitionBytes(bootstrap, topic, 16 * 1024 * 1024))
    assert.ok(batches.length > 1)
    assert.deepEqual(new Set(batches.map((b) => b.compression)), new Set([codec]))
    const stored = batches.flatMap((b) => b.records.map((r) => r.value!))
    assert.equal(stored.length, n, 'nothing lost, nothing twice')
    // Each report's offset points at its own record.
    assert.ok(outcomes.every(([o], i) => stored[o!.report.offset]!.equals(values[i]!)))
    if (idempotence) {
      // Idempotence keeps the order: the parts land in order, before anything that came after.
      assert.ok(stored.every((v, i) => v.equals(values[i]!)))
    }
    const kcat = await kcatConsume({ bootstrapServers: bootstrap, topic, count: n })
    assert.deepEqual(
      kcat.map((r) => r.value!.subarray(0, 4).toString()),
      stored.map((v) => v.subarray(0, 4).toString()),
    )
  })
}

test('a single record over the topic max.message.bytes fails once with MESSAGE_TOO_LARGE; its neighbours are delivered', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('split-single')
  await createTopic(bootstrap, {
    name: topic,
    numPartitions: 1,
    configs: { 'max.message.bytes': String(MAX_MESSAGE_BYTES) },
  })
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'linger.ms': 50, 'batch.size': 200_000 })
  const outcomes = new Map<string, (KafkaError | null)[]>()
  const produce = (id: string, size: number): void => {
    outcomes.set(id, [])
    producer.produce({ topic, key: id, value: Buffer.alloc(size, 1) }, (err) => outcomes.get(id)!.push(err))
  }
  for (let i = 0; i < 20; i++) produce(`a${i}`, 900)
  produce('big', 3 * MAX_MESSAGE_BYTES)
  for (let i = 0; i < 20; i++) produce(`b${i}`, 900)
  assert.equal(await producer.flush(30_000), 0)
  await producer.close()
  for (const [id, errs] of outcomes) {
    assert.equal(errs.length, 1, `${id} got ${errs.length} outcomes`)
    if (id === 'big') assert.equal(errs[0]?.code, 'MESSAGE_TOO_LARGE')
    else assert.equal(errs[0], null, `${id}: ${errs[0]?.message}`)
  }
  const kcat = await kcatConsume({ bootstrapServers: bootstrap, topic, count: 40 })
  assert.deepEqual(
    kcat.map((r) => r.key!.toString()),
    [...outcomes.keys()].filter((id) => id !== 'big'),
  )
})
