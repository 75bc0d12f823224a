// connect(), partitionsFor(), AbortSignal on send() and flush(), `await using`, and the lifecycle
// events, against the fake broker on a manual clock.
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import type { DeliveryReport } from '../../../src/producer/record.js'
import {
  InitProducerIdApi,
  RecordBatchBuilder,
  type InitProducerIdResponse,
} from '../../../src/protocol/index.js'
import { closeFakeProducers, closeIdle, eagerProducer, fakeProducer } from '../../helpers/fake-producer.js'
import { GuardedInstrumentation, listen, payloads } from '../../helpers/instrumentation.js'

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

describe('AbortSignal on send()', () => {
  it('an aborted signal rejects at once with _ABORTED, its reason as cause, and accepts nothing', async () => {
    const { cluster, producer, pump } = eagerProducer()
    const ac = new AbortController()
    const reason = new Error('user gave up')
    ac.abort(reason)
    const sent = track(producer.send({ topic: 't', value: 'v' }, { signal: ac.signal }))
    await pump()
    assert.equal(sent.error?.code, '_ABORTED')
    assert.equal(sent.error?.cause, reason)
    assert.equal(producer.pending, 0)
    assert.equal(cluster.produceCalls.length, 0)
    await assert.rejects(producer.send({ topic: 't', value: 'v' }, { signal: {} as AbortSignal }), {
      code: '_INVALID_ARG',
    })
    await closeIdle(producer, pump)
  })

  it('while waiting for buffer space: rejects, takes nothing, and lets the next waiter in', async () => {
    const { cluster, producer, d, pump } = eagerProducer({ 'buffer.memory': 1024 })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'x'.repeat(800) }, d.cb('held'))
    await pump()
    const ac = new AbortController()
    const big = track(producer.send({ topic: 't', value: 'x'.repeat(400) }, { signal: ac.signal }))
    // Fits now, but waits behind `big` (first come, first served).
    const small = track(producer.send({ topic: 't', value: 's' }, { signal: ac.signal }))
    await pump()
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'one listener however many calls')
    assert.equal(producer.pending, 1)
    const other = new AbortController()
    const third = track(producer.send({ topic: 't', value: 'x'.repeat(400) }, { signal: other.signal }))
    await pump()
    ac.abort()
    await pump()
    assert.equal(big.error?.code, '_ABORTED')
    assert.match(big.error!.message, /waiting for buffer space/)
    assert.equal(small.error?.code, '_ABORTED', 'aborted while still in line')
    assert.equal(third.settled, false)
    assert.equal(producer.pending, 1, 'nothing was accepted')
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
    for (const c of cluster.produceCalls) c.release()
    cluster.produceHandler = () => 'ok'
    for (let i = 0; i < 3; i++) await pump()
    assert.equal(d.one('held').err, null)
    assert.equal((third.value as DeliveryReport).offset, 1, 'the next waiter got the space')
    assert.equal(getEventListeners(other.signal, 'abort').length, 0, 'listener gone once granted')
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.length),
      [800, 400],
    )
    await closeIdle(producer, pump)
  })

  it('space granted, then aborted before send() went on: the space is given back and nothing is sent', async () => {
    const { cluster, producer, pump } = eagerProducer({ 'buffer.memory': 1024 })
    cluster.produceHandler = () => 'hold'
    const ac = new AbortController()
    const bound = RecordBatchBuilder.recordSizeUpperBound(null, Buffer.from('x'.repeat(800)), null)
    assert.ok(2 * bound > 1024)
    // Its delivery callback runs after its bytes were released, which grants the waiting send().
    producer.produce({ topic: 't', value: 'x'.repeat(800) }, () => ac.abort())
    await pump()
    const waiting = track(producer.send({ topic: 't', value: 'x'.repeat(800) }, { signal: ac.signal }))
    await pump()
    cluster.produceCalls[0]!.release()
    cluster.produceHandler = () => 'ok'
    await pump()
    assert.equal(waiting.error?.code, '_ABORTED')
    assert.equal(producer.pending, 0)
    assert.equal(cluster.produceCalls.length, 1)
    // All of buffer.memory is free again: two records of 400 bytes fit without waiting.
    producer.produce({ topic: 't', value: 'x'.repeat(400) })
    producer.produce({ topic: 't', value: 'x'.repeat(400) })
    for (let i = 0; i < 3; i++) await pump()
    await closeIdle(producer, pump)
  })

  it("while waiting for its topic's metadata: the record is taken back and fails once with _ABORTED", async () => {
    const { cluster, producer, pump } = eagerProducer({}, { topics: {} })
    const heard = listen(producer.instrumentation, 'record.accepted', 'record.failed')
    const ac = new AbortController()
    const sent = track(producer.send({ topic: 'later', value: 'v' }, { signal: ac.signal }))
    await pump()
    assert.equal(producer.pending, 1, 'accepted, waiting for metadata')
    ac.abort()
    await pump()
    assert.equal(sent.error?.code, '_ABORTED')
    assert.match(sent.error!.message, /waited for metadata of later/)
    assert.equal(producer.pending, 0)
    assert.deepEqual(
      payloads(heard, 'record.failed').map((e) => e.error.code),
      ['_ABORTED'],
    )
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
    cluster.topics.set('later', { partitions: 1 })
    for (let i = 0; i < 3; i++) await pump(100)
    assert.equal(cluster.produceCalls.length, 0, 'never sent')
    await closeIdle(producer, pump)
  })

  it('once in a batch, aborting changes nothing: the promise settles with the delivery outcome', async () => {
    const { cluster, producer, pump } = eagerProducer({ 'enable.idempotence': false, retries: 0 })
    cluster.produceHandler = () => 'hold'
    const ac = new AbortController()
    const ok = track(producer.send({ topic: 't', value: 'a' }, { signal: ac.signal }))
    await pump()
    const failing = track(producer.send({ topic: 't', value: 'b' }, { signal: ac.signal }))
    await pump()
    ac.abort()
    await pump()
    assert.equal(ok.settled, false)
    assert.equal(failing.settled, false)
    cluster.produceCalls[0]!.release('ok')
    cluster.produceCalls[1]!.release({ errorCode: 87 }) // INVALID_RECORD
    await pump()
    assert.equal((ok.value as DeliveryReport).offset, 0)
    assert.equal(failing.error?.code, 'INVALID_RECORD', 'its own outcome, not _ABORTED')
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
    await closeIdle(producer, pump)
  })
})

describe('AbortSignal on flush()', () => {
  it('ends the wait early with the number of records still undelivered; they are delivered later', async () => {
    const { cluster, producer, d, pump } = eagerProducer()
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    const ac = new AbortController()
    const flushed = track(producer.flush(60_000, { signal: ac.signal }))
    const objectForm = track(producer.flush({ timeoutMs: 60_000, signal: ac.signal }))
    await pump()
    assert.equal(flushed.settled, false)
    ac.abort()
    await pump()
    assert.equal(flushed.value, 1)
    assert.equal(objectForm.value, 1)
    assert.equal(await producer.flush({ signal: ac.signal }), 1, 'already aborted: at once')
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(d.one('a').err, null)
    assert.equal(await producer.flush({ timeoutMs: 10 }), 0)
    await closeIdle(producer, pump)
  })
})

describe('await using', () => {
  it('Symbol.asyncDispose closes the producer at the end of the scope, after delivering', async () => {
    assert.equal(typeof Symbol.asyncDispose, 'symbol')
    const { cluster, producer: made, d, pump } = eagerProducer()
    // Metadata and producer id first: the manual clock stands still in the scope below.
    const ready = made.connect({ topics: ['t'] })
    await pump()
    await ready
    {
      await using producer = made
      producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    }
    assert.equal(d.one('a').err, null)
    assert.equal(cluster.log('t', 0).length, 1)
    assert.throws(() => made.produce({ topic: 't', value: 'b' }), { code: '_STATE' })
    assert.equal(made[Symbol.asyncDispose](), made.close(), 'the same close')
  })
})

describe('lifecycle events', () => {
  it('producer.connected once, producer.fatal, producer.closed with the records close() failed', async () => {
    const { cluster, producer, d, pump } = eagerProducer({ 'client.id': 'lifecycle', error_cb: () => {} })
    const heard = listen(producer.instrumentation, 'producer.connected', 'producer.fatal', 'producer.closed')
    const ready = producer.connect()
    await pump()
    await ready
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    for (let i = 0; i < 3; i++) await pump(100)
    assert.deepEqual(payloads(heard, 'producer.connected'), [{ clientId: 'lifecycle', brokers: 1 }])
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
    await pump()
    const closed = producer.close(0)
    await pump()
    await closed
    assert.equal(d.one('b').err?.code, '_DESTROY')
    assert.deepEqual(payloads(heard, 'producer.closed'), [{ clientId: 'lifecycle', failed: 1 }])
    assert.deepEqual(payloads(heard, 'producer.fatal'), [])

    const second = fakeProducer({ error_cb: () => {} })
    const heard2 = listen(second.producer.instrumentation, 'producer.fatal')
    second.cluster.initProducerIdHandler = () => initReply(31)
    const refused = track(second.producer.connect())
    await second.pump()
    assert.equal(refused.error?.code, 'CLUSTER_AUTHORIZATION_FAILED')
    const fatal = payloads(heard2, 'producer.fatal')
    assert.equal(fatal.length, 1)
    assert.equal(fatal[0]!.error, second.producer.fatal)
  })

  it('with no listener, no lifecycle event is emitted', async () => {
    const hub = new GuardedInstrumentation()
    const { producer, pump } = fakeProducer({}, undefined, 7, { instrumentation: hub })
    const ready = producer.connect()
    await pump()
    await ready
    await closeIdle(producer, pump)
    assert.deepEqual(hub.unguarded, [])
  })
})
