// Brokers older than this client's features (issue 8), as the fake cluster plays them by advertising
// the ApiVersions ranges of old Kafka releases: idempotence without InitProducerId (before 0.11) must
// stop the producer at once with a clear fatal error, and zstd batches must not go to a broker whose
// Produce is older than v7 (before 2.1), which would answer UNKNOWN_SERVER_ERROR.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { ProducerConfig } from '../../../src/config/index.js'
import { InitProducerIdApi, KafkaError, ProduceApi } from '../../../src/protocol/index.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { DEFAULT_API_VERSIONS, type FakeClusterOptions } from '../../helpers/fake-broker.js'
import { closeFakeProducers, fakeProducer, type FakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

type Versions = NonNullable<FakeClusterOptions['apiVersions']>

/** The default (4.x) ranges with `overrides` applied; `null` removes an API. */
function versions(overrides: Record<number, [number, number] | null>): Versions {
  const out = DEFAULT_API_VERSIONS.filter((v) => overrides[v.apiKey] !== null).map((v) => {
    const o = overrides[v.apiKey]
    return o ? { apiKey: v.apiKey, minVersion: o[0], maxVersion: o[1] } : { ...v }
  })
  return out
}

/** A Kafka-compatible broker without idempotent producers: recent Produce, no InitProducerId. */
const NO_INIT_PRODUCER_ID = versions({ [InitProducerIdApi.apiKey]: null })
/** Kafka 0.10.2: Produce v0-v2, Metadata v0-v2, no InitProducerId. */
const KAFKA_0_10 = versions({
  [ProduceApi.apiKey]: [0, 2],
  3: [0, 2],
  [InitProducerIdApi.apiKey]: null,
  1: [0, 5],
  2: [0, 1],
  10: [0, 0],
  18: [0, 1],
  19: [0, 1],
  24: null,
  26: null,
})
/** Kafka 2.0: Produce up to v6 (zstd came with v7 in 2.1), InitProducerId v0-v1. */
const KAFKA_2_0 = versions({ [ProduceApi.apiKey]: [0, 6], [InitProducerIdApi.apiKey]: [0, 1] })

function setup(
  config: ProducerConfig | Record<string, unknown>,
  apiVersions: Versions,
): FakeProducer & { d: Deliveries; errors: KafkaError[] } {
  const errors: KafkaError[] = []
  const rig = fakeProducer(
    { 'linger.ms': 0, error_cb: (e: KafkaError) => errors.push(e), ...config },
    { topics: { t: { partitions: 1 } }, apiVersions },
  )
  return { ...rig, d: new Deliveries(), errors }
}

function initRequests(rig: FakeProducer): number {
  return rig.cluster.requests.filter((r) => r.apiKey === InitProducerIdApi.apiKey).length
}

describe('idempotence against a broker without InitProducerId', () => {
  for (const [label, config] of [
    ['left at its default', {}],
    ['set explicitly', { 'enable.idempotence': true }],
  ] as const) {
    it(`idempotence ${label}: fatal at once, not a delivery timeout per record`, async () => {
      const rig = setup(config, NO_INIT_PRODUCER_ID)
      const { producer, d, errors, pump, cluster } = rig
      producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
      const sent = producer.send({ topic: 't', value: 'b' }).then(
        () => null,
        (e: unknown) => e as KafkaError,
      )
      await pump() // no time passes: well before delivery.timeout.ms
      const fatal = producer.fatal
      assert.ok(fatal instanceof KafkaError, 'producer.fatal is set')
      assert.equal(fatal.code, '_UNSUPPORTED_FEATURE')
      assert.equal(fatal.fatal, true)
      assert.match(fatal.message, /broker broker1:9092 does not support InitProducerId/)
      assert.match(fatal.message, /older than Kafka 0\.11/)
      assert.match(fatal.message, /Set 'enable\.idempotence: false'/)
      assert.match(fatal.message, /upgrade the broker to Kafka 0\.11 or newer/)
      assert.deepEqual(errors, [fatal], 'error_cb hears it once')
      assert.equal(d.one('a').err, fatal)
      assert.equal(await sent, fatal)
      assert.equal(cluster.produceCalls.length, 0)
      assert.equal(initRequests(rig), 0, 'never sent: the broker does not know the API')
      assert.throws(
        () => producer.produce({ topic: 't', value: 'c' }),
        (e: unknown) => e === fatal,
      )
    })
  }

  it('Kafka 0.10: the message says that this client cannot produce to it at all', async () => {
    const { producer, pump } = setup({}, KAFKA_0_10)
    const sent = producer.send({ topic: 't', value: 'a' }).then(
      () => null,
      (e: unknown) => e as KafkaError,
    )
    await pump()
    const err = producer.fatal
    assert.ok(err instanceof KafkaError, 'producer.fatal is set')
    assert.equal(await sent, err)
    assert.match(err.message, /Upgrade the broker to Kafka 0\.11 or newer/)
    assert.match(err.message, /accepts Produce only up to v2 and this client needs v3 to send any record/)
  })

  it('Kafka 0.10 without idempotence: records fail at once with _UNSUPPORTED_FEATURE (no Produce v3)', async () => {
    const { producer, d, errors, pump, cluster } = setup({ 'enable.idempotence': false }, KAFKA_0_10)
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    await pump()
    const { err } = d.one('a')
    assert.ok(err instanceof KafkaError)
    assert.equal(err.code, '_UNSUPPORTED_FEATURE')
    assert.match(err.message, /Produce/)
    assert.equal(cluster.produceCalls.length, 0)
    assert.equal(producer.fatal, null)
    assert.deepEqual(errors, [])
  })

  it('a broker with InitProducerId still gets a producer id (the check is no false alarm)', async () => {
    const { producer, pump, cluster } = setup({}, KAFKA_2_0)
    const sent = producer.send({ topic: 't', value: 'a' })
    await pump()
    assert.equal(producer.fatal, null)
    assert.equal(producer.pending, 0)
    await sent
    assert.equal(cluster.produceCalls[0]!.partitions[0]!.batches[0]!.producerId, 1000n)
  })
})

describe('zstd against a broker older than Kafka 2.1 (Produce below v7)', () => {
  for (const idempotence of [true, false]) {
    it(`idempotence ${idempotence ? 'on' : 'off'}: the batches fail with UNSUPPORTED_COMPRESSION_TYPE, unsent`, async () => {
      const { producer, d, pump, cluster, errors } = setup(
        { 'compression.type': 'zstd', 'enable.idempotence': idempotence },
        KAFKA_2_0,
      )
      for (const id of ['a', 'b', 'c']) producer.produce({ topic: 't', key: id, value: id }, d.cb(id))
      await pump()
      for (const id of ['a', 'b', 'c']) {
        const { err } = d.one(id)
        assert.ok(err instanceof KafkaError, `record ${id} failed`)
        assert.equal(err.code, 'UNSUPPORTED_COMPRESSION_TYPE')
        assert.equal(err.kafkaCode, 76)
        assert.equal(err.retriable, false)
        assert.match(err.message, /zstd/)
        assert.match(err.message, /broker broker1:9092 accepts Produce up to v6/)
        assert.match(err.message, /v7 \(Kafka 2\.1\)/)
        assert.match(err.message, /lz4, gzip or snappy/)
      }
      assert.equal(cluster.produceCalls.length, 0, 'nothing sent')
      assert.equal(producer.fatal, null, 'the producer itself is fine')
      assert.deepEqual(errors, [])
      assert.equal(producer.pending, 0)
    })
  }

  it('lz4 to the same broker is sent as usual', async () => {
    const { producer, pump, cluster } = setup({ 'compression.type': 'lz4' }, KAFKA_2_0)
    const sent = producer.send({ topic: 't', value: 'a' })
    await pump()
    assert.equal(producer.pending, 0)
    await sent
    assert.equal(cluster.produceCalls.length, 1)
    assert.equal(cluster.produceCalls[0]!.apiVersion, 6)
    assert.equal(cluster.produceCalls[0]!.partitions[0]!.batches[0]!.compression, 'lz4')
  })

  it('zstd to a broker with Produce v7 (Kafka 2.1) is sent as usual', async () => {
    const { producer, pump, cluster } = setup(
      { 'compression.type': 'zstd' },
      versions({ [ProduceApi.apiKey]: [0, 7] }),
    )
    const sent = producer.send({ topic: 't', value: 'a' })
    await pump()
    assert.equal(producer.pending, 0)
    await sent
    assert.equal(cluster.produceCalls[0]!.apiVersion, 7)
    assert.equal(cluster.produceCalls[0]!.partitions[0]!.batches[0]!.compression, 'zstd')
  })
})
