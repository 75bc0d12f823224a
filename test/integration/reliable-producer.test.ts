// Issue 12 against a real broker: records the broker refuses land in <topic>.dlq with the full
// envelope, and independent clients (kcat, and Kafka's own console consumer) read them back with the
// original bytes intact. The shared broker covers a value over the topic's max.message.bytes, a
// topic that does not exist (auto-creation refused), all 256 byte values, and an envelope too large
// for the dead-letter topic itself; a secured broker of its own covers a topic an ACL denies.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { allowProduce } from '../../scripts/kafka/acl.js'
import { startKafka, type SecureKafkaCluster } from '../../scripts/kafka/cluster.js'
import { consoleConsume, kcatConsume, skipWithoutKcat, type KcatRecord } from '../../scripts/kafka/tools.js'
import {
  ReliableProducer,
  type DeadLetterEnvelope,
  type DeadLetteredOutcome,
  type ProducerConfig,
  type ReliableSendResult,
} from '../../src/index.js'
import { decodeBytes } from '../../src/reliable/envelope.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

function deadLettered(r: ReliableSendResult): DeadLetteredOutcome {
  assert.ok('deadLettered' in r && r.deadLettered, `expected a dead-letter outcome, got ${JSON.stringify(r)}`)
  return r
}

/** The one record of `topic`, read by kcat (librdkafka), and its envelope. */
async function readDeadLetter(
  bootstrap: string,
  topic: string,
): Promise<{ rec: KcatRecord; env: DeadLetterEnvelope }> {
  const recs = await kcatConsume({ bootstrapServers: bootstrap, topic, count: 1 })
  assert.equal(recs.length, 1, `one record in ${topic}`)
  const rec = recs[0]!
  return { rec, env: JSON.parse(rec.value!.toString('utf8')) as DeadLetterEnvelope }
}

/** Header values by name, as kcat printed them (text headers only: kcat's %h does not escape). */
function textHeaders(rec: KcatRecord): [string, string][] {
  return rec.headers.map(([k, v]) => [k, v.toString('utf8')])
}

describe('ReliableProducer against a real broker', () => {
  let bootstrap: string
  before(() => {
    bootstrap = sharedBootstrapServers()
  })

  test("a value over the topic's max.message.bytes: MESSAGE_TOO_LARGE, the full envelope in <topic>.dlq", async (t) => {
    if (skipWithoutKcat(t)) return
    const topic = uniqueTopic('rp-too-large')
    await createTopic(bootstrap, { name: topic, numPartitions: 1, configs: { 'max.message.bytes': '2000' } })
    await createTopic(bootstrap, { name: `${topic}.dlq`, numPartitions: 1 })
    const rp = new ReliableProducer({ 'bootstrap.servers': bootstrap, 'linger.ms': 5 })
    const value = { order: 1, items: Array.from({ length: 200 }, (_, i) => `item-${i}`) }
    const json = Buffer.from(JSON.stringify(value))
    assert.ok(json.length > 2000)
    try {
      const small = await rp.send(topic, 'order-0', { order: 0 })
      assert.ok(!('deadLettered' in small), 'a record that fits is delivered')
      const out = deadLettered(await rp.send(topic, 'order-1', value, { headers: { trace: 'abc-123' } }))
      assert.equal(out.error.code, 'MESSAGE_TOO_LARGE')
      assert.deepEqual([out.dlq.topic, out.truncated], [`${topic}.dlq`, false])
      assert.equal(await rp.flush(10_000), 0)
    } finally {
      await rp.close()
    }
    assert.deepEqual(rp.stats, { routed: 1, spooled: 0, replayed: 0, deadLetterFailures: 0 })

    const { rec, env } = await readDeadLetter(bootstrap, `${topic}.dlq`)
    assert.deepEqual(rec.key, Buffer.from('order-1'))
    assert.deepEqual(textHeaders(rec), [
      ['original.trace', 'abc-123'],
      ['dlq.error_code', 'MESSAGE_TOO_LARGE'],
    ])
    assert.equal(env.envelope_version, 1)
    assert.equal(env.original_topic, topic)
    assert.equal(env.original_partition, 0)
    assert.deepEqual([env.original_key, env.original_key_encoding], ['order-1', 'utf8'])
    assert.deepEqual([env.original_value_encoding, env.original_value_truncated], ['utf8', false])
    assert.equal(env.original_value_bytes, json.length)
    assert.deepEqual(decodeBytes(env.original_value, env.original_value_encoding, 'value'), json)
    assert.deepEqual(env.original_headers, [{ key: 'trace', value: 'abc-123', encoding: 'utf8' }])
    assert.deepEqual([env.error_code, env.error_retriable, env.attempts], ['MESSAGE_TOO_LARGE', false, 1])
    assert.match(env.error, new RegExp(topic))
    assert.ok(Math.abs(Date.parse(env.failed_at) - Date.now()) < 120_000, env.failed_at)
    const original = await kcatConsume({ bootstrapServers: bootstrap, topic, count: 10 })
    assert.deepEqual(
      original.map((r) => r.key?.toString()),
      ['order-0'],
      'only the record that fit is in the topic',
    )
  })

  test('a topic that does not exist, auto-creation refused: _UNKNOWN_TOPIC, original_partition null', async (t) => {
    if (skipWithoutKcat(t)) return
    const topic = uniqueTopic('rp-missing')
    await createTopic(bootstrap, { name: `${topic}.dlq`, numPartitions: 1 })
    const rp = new ReliableProducer({
      'bootstrap.servers': bootstrap,
      'allow.auto.create.topics': false,
      'topic.metadata.propagation.max.ms': 2_000,
    })
    try {
      const out = deadLettered(await rp.send(topic, 'k', 'v'))
      assert.equal(out.error.code, '_UNKNOWN_TOPIC')
    } finally {
      await rp.close()
    }
    const { rec, env } = await readDeadLetter(bootstrap, `${topic}.dlq`)
    assert.deepEqual(rec.key, Buffer.from('k'))
    assert.deepEqual(
      [env.original_topic, env.original_partition, env.original_value, env.error_code],
      [topic, null, 'v', '_UNKNOWN_TOPIC'],
    )
    assert.deepEqual(textHeaders(rec), [['dlq.error_code', '_UNKNOWN_TOPIC']])
  })

  test('all 256 byte values in key, value and a header: base64 in the envelope, exact in kcat and the console consumer', async (t) => {
    if (skipWithoutKcat(t)) return
    const topic = uniqueTopic('rp-binary')
    await createTopic(bootstrap, { name: topic, numPartitions: 1, configs: { 'max.message.bytes': '1000' } })
    await createTopic(bootstrap, { name: `${topic}.dlq`, numPartitions: 1 })
    const value = Buffer.concat(Array.from({ length: 8 }, () => ALL_BYTES))
    // kcat prints headers unescaped: no ',', '=' or newline in this one, but not UTF-8 either.
    const binHeader = Buffer.from([0xff, 0x00, 0x80, 0xfe, 0xc0, 0x01])
    const rp = new ReliableProducer({ 'bootstrap.servers': bootstrap })
    try {
      const out = deadLettered(
        await rp.send(topic, ALL_BYTES, value, {
          headers: [
            ['bin', binHeader],
            ['text', 'plain'],
          ],
          timestamp: 1_700_000_000_042,
        }),
      )
      assert.equal(out.error.code, 'MESSAGE_TOO_LARGE')
    } finally {
      await rp.close()
    }
    const { rec, env } = await readDeadLetter(bootstrap, `${topic}.dlq`)
    assert.deepEqual(rec.key, ALL_BYTES, 'the dead-letter record keeps the original key bytes')
    assert.deepEqual(
      rec.headers.map(([k]) => k),
      ['original.bin', 'original.text', 'dlq.error_code'],
    )
    assert.deepEqual([env.original_key_encoding, env.original_value_encoding], ['base64', 'base64'])
    assert.deepEqual(decodeBytes(env.original_key, env.original_key_encoding, 'key'), ALL_BYTES)
    assert.deepEqual(decodeBytes(env.original_value, env.original_value_encoding, 'value'), value)
    assert.equal(env.original_value_bytes, value.length)
    assert.deepEqual(
      env.original_headers.map((h) => [h.key, decodeBytes(h.value, h.encoding, h.key), h.encoding]),
      [
        ['bin', binHeader, 'base64'],
        ['text', Buffer.from('plain'), 'utf8'],
      ],
    )
    assert.equal(env.original_timestamp, 1_700_000_000_042)

    // Kafka's own consumer (Java) reads the same envelope: the value only (the key's bytes would
    // not print as text), one JSON document per line.
    const java = await consoleConsume({
      bootstrapServers: bootstrap,
      topic: `${topic}.dlq`,
      maxMessages: 1,
      properties: { 'print.key': 'false', 'print.value': 'true' },
    })
    assert.deepEqual(JSON.parse(java.trim()), env)
  })

  test('an envelope too large for the dead-letter topic: cut to deadLetterMaxBytes, or sent without its value', async (t) => {
    if (skipWithoutKcat(t)) return
    const value = Buffer.from('é'.repeat(5_000)) // 10,000 bytes of 2-byte characters
    for (const deadLetterMaxBytes of [undefined, 3_000]) {
      const topic = uniqueTopic('rp-dlq-limit')
      await createTopic(bootstrap, {
        name: topic,
        numPartitions: 1,
        configs: { 'max.message.bytes': '2000' },
      })
      await createTopic(bootstrap, {
        name: `${topic}.dlq`,
        numPartitions: 1,
        configs: { 'max.message.bytes': '3000' },
      })
      const rp = new ReliableProducer(
        { 'bootstrap.servers': bootstrap },
        deadLetterMaxBytes ? { deadLetterMaxBytes } : {},
      )
      try {
        const out = deadLettered(await rp.send(topic, 'big', value))
        assert.equal(out.truncated, true)
      } finally {
        await rp.close()
      }
      const { env } = await readDeadLetter(bootstrap, `${topic}.dlq`)
      assert.deepEqual(
        [env.original_topic, env.original_value_bytes, env.original_value_truncated, env.error_code],
        [topic, 10_000, true, 'MESSAGE_TOO_LARGE'],
      )
      const kept = decodeBytes(env.original_value, env.original_value_encoding, 'value')!
      assert.deepEqual(kept, value.subarray(0, kept.length), 'a prefix of the original bytes')
      if (deadLetterMaxBytes === undefined)
        assert.equal(kept.length, 0, 'the broker refused the cut: no value')
      else assert.ok(kept.length > 1_000, `kept ${kept.length} bytes`)
    }
  })
})

describe('ReliableProducer against a secured broker', () => {
  let cluster: SecureKafkaCluster
  before(async () => {
    cluster = await startKafka({ security: true })
  })
  after(async () => {
    await cluster?.stop()
  })

  test('a topic an ACL denies: TOPIC_AUTHORIZATION_FAILED, dead-lettered to a topic the user may write', async (t) => {
    if (skipWithoutKcat(t)) return
    const denied = uniqueTopic('rp-denied')
    await createTopic(cluster.bootstrapServers, { name: denied, numPartitions: 1 })
    await createTopic(cluster.bootstrapServers, { name: `${denied}.dlq`, numPartitions: 1 })
    await allowProduce(cluster, 'User:alice', `${denied}.dlq`)
    const s = cluster.security
    const config: ProducerConfig = {
      'bootstrap.servers': s.listeners.saslSsl,
      'security.protocol': 'SASL_SSL',
      'ssl.ca.location': s.caPath,
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': s.users.alice.name,
      'sasl.password': s.users.alice.password,
    }
    const rp = new ReliableProducer(config)
    try {
      const out = deadLettered(await rp.send(denied, 'k', { secret: false }))
      assert.equal(out.error.code, 'TOPIC_AUTHORIZATION_FAILED')
    } finally {
      await rp.close()
    }
    // Read back over the PLAINTEXT listener (a super user).
    const { rec, env } = await readDeadLetter(cluster.bootstrapServers, `${denied}.dlq`)
    assert.deepEqual(rec.key, Buffer.from('k'))
    assert.deepEqual(
      [env.original_topic, env.original_value, env.error_code, env.error_retriable],
      [denied, '{"secret":false}', 'TOPIC_AUTHORIZATION_FAILED', false],
    )
  })
})
