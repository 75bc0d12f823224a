// connect() and partitionsFor() against the fake broker on a manual clock.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { InitProducerIdApi, type InitProducerIdResponse } from '../../../src/protocol/index.js'
import { closeFakeProducers, closeIdle, fakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

/** A promise's outcome as it stands, without awaiting it. */
interface Tracked<T> {
  readonly settled: boolean
  readonly value: T | undefined
  readonly error: KafkaError | undefined
}

function track<T>(p: Promise<T>): Tracked<T> {
  const t = { settled: false, value: undefined as T | undefined, error: undefined as KafkaError | undefined }
  p.then(
    (v) => Object.assign(t, { settled: true, value: v }),
    (e: unknown) => Object.assign(t, { settled: true, error: e as KafkaError }),
  )
  return t
}

function initRequests(cluster: { requests: { apiKey: number }[] }): number {
  return cluster.requests.filter((r) => r.apiKey === InitProducerIdApi.apiKey).length
}

function initReply(errorCode: number): InitProducerIdResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    producerId: -1n,
    producerEpoch: -1,
    ongoingTxnProducerId: -1n,
    ongoingTxnProducerEpoch: -1,
  }
}

/** Timers that keep the event loop alive (unref'd ones are not listed). */
function refTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe('Producer.connect()', () => {
  it('resolves once the cluster answered Metadata and the producer id arrived, before any record', async () => {
    const { cluster, producer, pump } = fakeProducer()
    const ready = track(producer.connect())
    await pump()
    assert.equal(ready.error, undefined)
    assert.equal(ready.settled, true)
    assert.ok(cluster.metadataRequests().length >= 1)
    assert.equal(initRequests(cluster), 1)
    assert.equal(producer.producerId, 1000n)
    assert.equal(cluster.produceCalls.length, 0)
    // Ready: a second call asks the cluster nothing and resolves at once.
    const requests = cluster.requests.length
    await producer.connect()
    assert.equal(cluster.requests.length, requests)
    await closeIdle(producer, pump)
  })

  it('without idempotence it does not ask for a producer id', async () => {
    const { cluster, producer, pump } = fakeProducer({ 'enable.idempotence': false })
    const ready = track(producer.connect())
    await pump()
    assert.equal(ready.settled, true)
    assert.equal(ready.error, undefined)
    assert.equal(initRequests(cluster), 0)
    await closeIdle(producer, pump)
  })

  it('waits for the given topics; a topic known later is waited for, and checked at once when known', async () => {
    const { cluster, producer, pump } = fakeProducer({}, { topics: { a: { partitions: 2 } } })
    const ready = track(producer.connect({ topics: ['a', 'b'], timeoutMs: 5_000 }))
    await pump()
    assert.equal(ready.settled, false, 'b does not exist yet')
    cluster.topics.set('b', { partitions: 1 })
    await pump(100) // the next refresh for the missing topic (retry.backoff.ms)
    await pump(100)
    assert.equal(ready.error, undefined)
    assert.equal(ready.settled, true)
    const again = track(producer.connect({ topics: ['a'] }))
    await Promise.resolve()
    await Promise.resolve()
    assert.equal(again.settled, true, 'known topics: no wait')
    await closeIdle(producer, pump)
  })

  it('a topic the cluster says does not exist: _UNKNOWN_TOPIC after topic.metadata.propagation.max.ms or the timeout', async () => {
    const { producer, pump } = fakeProducer({ 'topic.metadata.propagation.max.ms': 1_000 })
    const long = track(producer.connect({ topics: ['missing'], timeoutMs: 5_000 }))
    const short = track(producer.connect({ topics: ['missing'], timeoutMs: 300 }))
    await pump()
    await pump(299)
    assert.equal(short.settled, false)
    await pump(1)
    assert.equal(short.error?.code, '_UNKNOWN_TOPIC')
    assert.equal(short.error?.kafkaCode, 3)
    assert.equal((short.error?.cause as KafkaError).code, 'UNKNOWN_TOPIC_OR_PARTITION')
    assert.match(short.error!.message, /connect\(\): topic missing does not exist/)
    await pump(699)
    assert.equal(long.settled, false)
    await pump(1)
    assert.equal(long.error?.code, '_UNKNOWN_TOPIC', 'propagation time is over before the timeout')
    await closeIdle(producer, pump)
  })

  it('a call that gave up on a missing topic stops the producer asking for it', async () => {
    const { cluster, producer, pump } = fakeProducer({ 'topic.metadata.propagation.max.ms': 500 })
    const ready = track(producer.connect({ topics: ['missing'], timeoutMs: 500 }))
    for (let i = 0; i < 5; i++) await pump(100)
    assert.equal(ready.error?.code, '_UNKNOWN_TOPIC')
    const asked = cluster.metadataRequests().length
    for (let i = 0; i < 50; i++) await pump(100)
    assert.equal(cluster.metadataRequests().length, asked, 'not every retry.backoff.ms for ever')
    // Asked again, it gets a fresh answer: the topic exists now.
    cluster.topics.set('missing', { partitions: 1 })
    const later = track(producer.partitionsFor('missing'))
    await pump(100)
    assert.equal(later.error, undefined)
    assert.equal(later.value?.length, 1)
    await closeIdle(producer, pump)
  })

  it('a topic the client may not use rejects at once with the topic error', async () => {
    const { producer, pump } = fakeProducer({}, { topics: { denied: { partitions: 0, errorCode: 29 } } })
    const ready = track(producer.connect({ topics: ['denied'], timeoutMs: 60_000 }))
    await pump()
    assert.equal(ready.error?.code, 'TOPIC_AUTHORIZATION_FAILED')
    assert.equal(ready.error?.kafkaCode, 29)
    assert.equal(ready.error?.retriable, false)
    await closeIdle(producer, pump)
  })

  it('no broker answers: _ALL_BROKERS_DOWN at the timeout, the last failure as cause, holding Node meanwhile', async () => {
    const { cluster, producer, pump } = fakeProducer()
    cluster.down.add(cluster.bootstrap)
    const before = refTimers()
    const ready = track(producer.connect({ timeoutMs: 2_000 }))
    assert.equal(refTimers(), before + 1, 'a pending connect() keeps the process alive')
    for (let i = 0; i < 19; i++) await pump(100)
    await pump(99)
    assert.equal(ready.settled, false)
    await pump(1)
    const err = ready.error!
    assert.equal(err.code, '_ALL_BROKERS_DOWN')
    assert.equal(err.retriable, true)
    assert.match(err.message, /no broker answered within 2000 ms/)
    const cause = err.cause as KafkaError
    assert.equal(cause.code, '_ALL_BROKERS_DOWN')
    assert.match((cause.cause as Error).message, /ECONNREFUSED/)
    assert.equal(refTimers(), before, 'released once settled')
  })

  it('never hangs on a broker that does not answer; the default timeout is request.timeout.ms', async () => {
    const { cluster, producer, pump } = fakeProducer({ 'request.timeout.ms': 3_000 })
    cluster.interceptor = () => 'hold' // Metadata is never answered
    const ready = track(producer.connect())
    await pump(2_999)
    assert.equal(ready.settled, false)
    await pump(1)
    assert.equal(ready.error?.code, '_ALL_BROKERS_DOWN')
  })

  it('the cluster answers but gives no producer id: _TIMED_OUT with the InitProducerId error as cause', async () => {
    const { cluster, producer, pump } = fakeProducer()
    cluster.initProducerIdHandler = () => initReply(15) // COORDINATOR_NOT_AVAILABLE, retriable
    const ready = track(producer.connect({ timeoutMs: 1_000 }))
    for (let i = 0; i < 10; i++) await pump(100)
    assert.equal(ready.error?.code, '_TIMED_OUT')
    assert.equal((ready.error?.cause as KafkaError).code, 'COORDINATOR_NOT_AVAILABLE')
    assert.ok(initRequests(cluster) > 1, 'retried meanwhile')
    // It keeps trying in the background: a later connect() succeeds.
    cluster.initProducerIdHandler = null
    const later = track(producer.connect({ timeoutMs: 5_000 }))
    for (let i = 0; i < 20 && !later.settled; i++) await pump(100)
    assert.equal(later.error, undefined)
    assert.equal(later.settled, true)
  })

  it('a fatal InitProducerId answer rejects with the fatal error, as every later call does', async () => {
    const { cluster, producer, pump } = fakeProducer({ error_cb: () => {} })
    cluster.initProducerIdHandler = () => initReply(31) // CLUSTER_AUTHORIZATION_FAILED
    const ready = track(producer.connect({ timeoutMs: 60_000 }))
    await pump()
    assert.equal(ready.error?.code, 'CLUSTER_AUTHORIZATION_FAILED')
    assert.equal(ready.error?.fatal, true)
    assert.equal(ready.error, producer.fatal)
    await assert.rejects(producer.connect(), (e: unknown) => e === producer.fatal)
    await assert.rejects(producer.partitionsFor('t'), (e: unknown) => e === producer.fatal)
  })

  it('close() rejects a waiting call with _DESTROY; after close() it rejects with _STATE', async () => {
    const { cluster, producer, pump } = fakeProducer()
    cluster.down.add(cluster.bootstrap)
    const ready = track(producer.connect({ timeoutMs: 60_000 }))
    await pump()
    const closed = producer.close()
    await pump()
    assert.equal(ready.error?.code, '_DESTROY')
    await pump()
    await closed
    await assert.rejects(producer.connect(), { code: '_STATE' })
    await assert.rejects(producer.partitionsFor('t'), { code: '_STATE' })
  })

  it('refuses a bad timeout or topic name', async () => {
    const { producer } = fakeProducer()
    await assert.rejects(producer.connect({ timeoutMs: -1 }), { code: '_INVALID_ARG' })
    await assert.rejects(producer.connect({ timeoutMs: Infinity }), { code: '_INVALID_ARG' })
    await assert.rejects(producer.connect({ topics: ['no spaces'] }), { code: 'INVALID_TOPIC_EXCEPTION' })
    await assert.rejects(producer.partitionsFor(''), { code: 'INVALID_TOPIC_EXCEPTION' })
  })
})

describe('Producer.partitionsFor()', () => {
  it('gives each partition with its leader and whether it has one, without waiting for a producer id', async () => {
    const { cluster, producer, pump } = fakeProducer(
      {},
      {
        brokers: [
          { nodeId: 1, host: 'broker1', port: 9092 },
          { nodeId: 2, host: 'broker2', port: 9092 },
        ],
        topics: { t: { partitions: [{ leader: 1 }, { leader: 2 }, { leader: 2, errorCode: 5 }] } },
      },
    )
    cluster.initProducerIdHandler = () => initReply(15)
    const parts = track(producer.partitionsFor('t'))
    await pump()
    assert.equal(parts.error, undefined)
    assert.deepEqual(parts.value, [
      { partition: 0, leader: 1, available: true },
      { partition: 1, leader: 2, available: true },
      { partition: 2, leader: -1, available: false },
    ])
    await closeIdle(producer, pump)
  })

  it('rejects like connect() for a missing topic', async () => {
    const { producer, pump } = fakeProducer({ 'topic.metadata.propagation.max.ms': 500 })
    const parts = track(producer.partitionsFor('missing', { timeoutMs: 10_000 }))
    await pump()
    await pump(500)
    assert.equal(parts.error?.code, '_UNKNOWN_TOPIC')
    assert.match(parts.error!.message, /partitionsFor\(\)/)
    await closeIdle(producer, pump)
  })
})
