// The produce smoke test against older brokers (`npm run test:compat`: Kafka 3.9 in KRaft mode, 2.8 with
// ZooKeeper; `npm test` covers the default version). For every codec, idempotent with acks=all and plain
// with acks=1: keyed records with headers, binary values and explicit timestamps, each delivered once,
// read back byte for byte by kcat (librdkafka), and stored by the broker with the codec we chose.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fetchPartitionBytes } from '../../scripts/capture-java-batches.js'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, type DeliveryReport, type KafkaError } from '../../src/index.js'
import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { assertReadBack } from '../helpers/readback.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const N = 300
const PARTITIONS = 3
const BASE_TS = 1_700_000_000_000
/** Set by scripts/test-runner.ts (--kafka-version); only for test names and messages. */
const VERSION = process.env['KAFKA_VERSION'] ?? 'the broker at KAFKA_BOOTSTRAP_SERVERS'

function recordFor(i: number): {
  key: Buffer
  value: Buffer
  headers: [string, string][]
  timestamp: number
} {
  return {
    key: Buffer.from(`user-${i % 40}`),
    // Compressible text, then bytes a text-minded client would mangle (NUL, 0xff, newline).
    value: Buffer.concat([
      Buffer.from(JSON.stringify({ i, event: 'compat', pad: 'x'.repeat(i % 97) })),
      Buffer.from([0x00, 0xff, 0x0a, i & 0xff]),
    ]),
    headers: [
      ['trace_id', `t-${i}`],
      ['source', 'compat-test'],
    ],
    timestamp: BASE_TS + i,
  }
}

const CASES = [
  { acks: 'all', idempotent: true },
  { acks: '1', idempotent: false },
] as const

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  for (const { acks, idempotent } of CASES) {
    const name = `Kafka ${VERSION}: compression.type=${codec}, acks=${acks}, idempotence ${idempotent ? 'on' : 'off'}`
    test(`${name}: ${N} keyed records with headers, each delivered once, stored as sent`, async (t) => {
      const bootstrap = sharedBootstrapServers()
      const topic = uniqueTopic(`compat-${codec}-${acks}`)
      await createTopic(bootstrap, { name: topic, numPartitions: PARTITIONS })
      const errors: KafkaError[] = []
      const producer = new Producer({
        'bootstrap.servers': bootstrap,
        'compression.type': codec,
        acks,
        'enable.idempotence': idempotent,
        'linger.ms': 5,
        error_cb: (err: KafkaError) => errors.push(err),
      })
      const reports: (DeliveryReport | null)[] = new Array<DeliveryReport | null>(N).fill(null)
      const calls = new Array<number>(N).fill(0)
      const failures: string[] = []
      for (let i = 0; i < N; i++) {
        const r = recordFor(i)
        producer.produce({ topic, ...r }, (err, rep) => {
          calls[i]!++
          if (err) failures.push(`record ${i}: ${err.code} ${err.message}`)
          else reports[i] = rep
        })
      }
      assert.equal(await producer.flush(60_000), 0)
      await producer.close()
      assert.deepEqual(failures.slice(0, 5), [])
      assert.deepEqual(
        errors.map((e) => `${e.code}: ${e.message}`),
        [],
      )
      assert.ok(
        calls.every((c) => c === 1),
        'every record gets exactly one callback',
      )
      assert.equal(producer.fatal, null)

      // The broker kept our batches as they were (topic compression.type=producer): our codec, and a
      // producer id exactly when idempotent.
      const batches = decodeRecordBatches(await fetchPartitionBytes(bootstrap, topic, 4 * 1024 * 1024))
      assert.ok(batches.length > 0)
      assert.deepEqual(new Set(batches.map((b) => b.compression)), new Set([codec]))
      for (const b of batches) {
        if (idempotent) assert.ok(b.producerId >= 0n, `batch at ${b.baseOffset} has a producer id`)
        else assert.equal(b.producerId, -1n)
      }

      await t.test('kcat reads them back byte for byte', async (t) => {
        if (skipWithoutKcat(t)) return
        const consumed = await kcatConsume({
          bootstrapServers: bootstrap,
          topic,
          count: N,
          timeoutMs: 60_000,
        })
        assertReadBack(consumed, reports, recordFor)
      })
    })
  }
}
