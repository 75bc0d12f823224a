// The producer's instrumentation seam: every record, batch, request and connection event is emitted
// with the payload the statistics and metrics work will count, and nothing is emitted (or computed)
// for an event no one listens to.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { PRODUCER_EVENT_NAMES } from '../../../src/observability/events.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer } from '../../helpers/fake-producer.js'
import { GuardedInstrumentation, listen, payloads } from '../../helpers/instrumentation.js'

afterEach(closeFakeProducers)

describe('Producer instrumentation', () => {
  it('emits record, batch, request and connection events with what happened', async () => {
    const { producer, cluster, pump } = fakeProducer(
      { 'linger.ms': 0, 'retry.backoff.ms': 10, 'retry.backoff.max.ms': 10 },
      { topics: { t: { partitions: 1 }, denied: { partitions: 0, errorCode: 29 } } },
    )
    const heard = listen(producer.instrumentation, ...PRODUCER_EVENT_NAMES)
    const d = new Deliveries()
    // The first Produce answer is NOT_LEADER_OR_FOLLOWER (retriable): one retry.
    cluster.produceHandler = (call) => (call.seq === 0 ? { errorCode: 6 } : 'ok')
    for (let i = 0; i < 3; i++) producer.produce({ topic: 't', value: `v${i}` }, d.cb(`r${i}`))
    producer.produce({ topic: 'denied', value: 'x' }, d.cb('denied'))
    for (let i = 0; i < 6; i++) await pump(10)
    d.assertAllOnce()

    const accepted = payloads(heard, 'record.accepted')
    assert.equal(accepted.length, 4)
    assert.deepEqual(
      accepted.map((e) => e.topic),
      ['t', 't', 't', 'denied'],
    )
    assert.ok(accepted.every((e) => e.bytes > 0))

    const built = payloads(heard, 'batch.built')
    assert.equal(built.length, 1, 'built once, the retry resends the same bytes')
    assert.equal(built[0]!.records, 3)
    assert.equal(built[0]!.codec, 'none')
    assert.equal(built[0]!.wireBytes, cluster.produceCalls[0]!.partitions[0]!.bytes)

    assert.deepEqual(
      payloads(heard, 'batch.sent').map((e) => [e.nodeId, e.records, e.attempt]),
      [
        [1, 3, 1],
        [1, 3, 2],
      ],
    )
    assert.deepEqual(
      payloads(heard, 'batch.answered').map((e) => e.errorCode),
      [6, 0],
    )
    const retried = payloads(heard, 'batch.retried')
    assert.equal(retried.length, 1)
    assert.equal(retried[0]!.error.code, 'NOT_LEADER_OR_FOLLOWER')
    assert.equal(retried[0]!.attempt, 1)

    assert.deepEqual(
      payloads(heard, 'record.delivered').map((e) => [e.topic, e.offset]),
      [
        ['t', 0],
        ['t', 1],
        ['t', 2],
      ],
    )
    const failed = payloads(heard, 'record.failed')
    assert.deepEqual(
      failed.map((e) => [e.topic, e.error.code]),
      [['denied', 'TOPIC_AUTHORIZATION_FAILED']],
    )

    const produceSent = payloads(heard, 'request.sent').filter((e) => e.apiName === 'Produce')
    const produceAnswered = payloads(heard, 'request.answered').filter((e) => e.apiName === 'Produce')
    assert.equal(produceSent.length, 2)
    assert.deepEqual(
      produceAnswered.map((e) => e.correlationId),
      produceSent.map((e) => e.correlationId),
    )
    assert.ok(payloads(heard, 'connection.opened').length >= 1)
  })

  it('a listener that throws reaches error_cb and changes nothing else', async () => {
    const errors: string[] = []
    const { producer, pump, takeCallbackThrows } = fakeProducer({
      'linger.ms': 0,
      error_cb: (e) => errors.push(e.message),
    })
    producer.instrumentation.on('record.delivered', () => {
      throw new Error('listener broke')
    })
    const d = new Deliveries()
    producer.produce({ topic: 't', value: 'v' }, d.cb('a'))
    for (let i = 0; i < 4; i++) await pump(5)
    assert.equal(d.one('a').err, null)
    assert.ok(
      errors.some((m) => /listener broke/.test(m)),
      errors.join('; '),
    )
    // The guard of the fake producers counts it like a throwing callback: taken here on purpose.
    assert.equal(takeCallbackThrows().length, 1)
  })

  it('with no listener, no event is emitted and no payload built', async () => {
    const hub = new GuardedInstrumentation()
    const { producer, cluster, pump } = fakeProducer(
      { 'linger.ms': 0 },
      { topics: { t: { partitions: 2 }, denied: { partitions: 0, errorCode: 29 } } },
      7,
      { instrumentation: hub },
    )
    cluster.produceHandler = (call) => (call.seq === 0 ? { errorCode: 6 } : 'ok')
    const d = new Deliveries()
    for (let i = 0; i < 20; i++) producer.produce({ topic: 't', key: `k${i}`, value: 'v' }, d.cb(`r${i}`))
    producer.produce({ topic: 'denied', value: 'x' }, d.cb('denied'))
    for (let i = 0; i < 8; i++) await pump(200)
    d.assertAllOnce()
    assert.equal(d.total, 21)
    assert.deepEqual(hub.unguarded, [])
  })
  it('record.accepted is heard from the listener added after the producer was made, until it is removed', async () => {
    // produce() checks a gate taken when the producer was made (one read per record), so a listener
    // added or removed later must move that gate.
    const { producer, pump } = fakeProducer({ 'linger.ms': 0 })
    const heard: string[] = []
    const listener = (e: { topic: string }): void => void heard.push(e.topic)
    const d = new Deliveries()
    producer.produce({ topic: 't', value: 'before' }, d.cb('before'))
    producer.instrumentation.on('record.accepted', listener)
    producer.produce({ topic: 't', value: 'during' }, d.cb('during'))
    producer.produce({ topic: 't', value: 'during' }, d.cb('during2'))
    producer.instrumentation.off('record.accepted', listener)
    producer.produce({ topic: 't', value: 'after' }, d.cb('after'))
    for (let i = 0; i < 4; i++) await pump(5)
    d.assertAllOnce()
    assert.equal(d.total, 4)
    assert.deepEqual(heard, ['t', 't'])
  })
})
