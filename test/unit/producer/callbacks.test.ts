// Delivery callbacks that throw. The producer catches the exception and reports it to error_cb as
// _APPLICATION, so a throwing callback cannot break it, and cannot fail a test either: an assert
// inside a callback is swallowed. test/helpers/fake-producer.ts keeps those errors and fails the test
// when any are left; these tests check both the producer's side and that guard.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import type { DeliveryReport } from '../../../src/producer/record.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, closeIdle, fakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

describe('a delivery callback that throws', () => {
  it('goes to error_cb as _APPLICATION; the other records are reported and the producer goes on', async () => {
    const errors: KafkaError[] = []
    const { producer, pump, takeCallbackThrows } = fakeProducer({
      'linger.ms': 0,
      error_cb: (e: KafkaError) => errors.push(e),
    })
    const d = new Deliveries()
    const boom = new Error('boom in b')
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    producer.produce({ topic: 't', value: 'b' }, () => {
      throw boom
    })
    producer.produce({ topic: 't', value: 'c' }, d.cb('c'))
    await pump()
    assert.equal(d.one('a').err, null)
    assert.equal(d.one('c').err, null)
    assert.deepEqual([d.one('a').report.offset, d.one('c').report.offset], [0, 2])
    assert.equal(errors.length, 1, 'the test’s own error_cb still hears it')
    const [err] = errors
    assert.ok(err instanceof KafkaError)
    assert.equal(err.code, '_APPLICATION')
    assert.match(err.message, /a delivery callback threw: boom in b/)
    assert.equal(err.cause, boom)
    assert.deepEqual(takeCallbackThrows(), [err], 'the fake producer kept it for the test to take')
    assert.deepEqual(takeCallbackThrows(), [], 'taken once')
    assert.equal(producer.pending, 0)
    producer.produce({ topic: 't', value: 'd' }, d.cb('d'))
    await pump()
    assert.equal(d.one('d').err, null)
    await closeIdle(producer, pump)
  })

  it('dr_msg_cb throwing for one record is reported the same way, once', async () => {
    const seen: string[] = []
    const { producer, pump, takeCallbackThrows } = fakeProducer({
      'linger.ms': 0,
      dr_msg_cb: (_err: KafkaError | null, report: DeliveryReport) => {
        seen.push(report.value!.toString())
        if (report.value!.toString() === 'x') throw new Error('dr_msg_cb failed on x')
      },
    })
    for (const v of ['w', 'x', 'y']) producer.produce({ topic: 't', value: v })
    await pump()
    assert.deepEqual(seen, ['w', 'x', 'y'])
    const thrown = takeCallbackThrows()
    assert.deepEqual(
      thrown.map((e) => [e.code, e.message]),
      [['_APPLICATION', 'a delivery callback threw: dr_msg_cb failed on x']],
    )
    await closeIdle(producer, pump)
  })
})

describe('the fake producer’s guard (closeFakeProducers)', () => {
  it('fails the test when an assertion inside a delivery callback fails', async () => {
    const { producer, pump } = fakeProducer({ 'linger.ms': 0 })
    producer.produce({ topic: 't', value: 'a' }, (err) => {
      assert.notEqual(err, null, 'an assertion that fails on purpose')
    })
    await pump()
    assert.equal(producer.pending, 0, 'the producer itself went on')
    await assert.rejects(closeFakeProducers(), (e: unknown) => {
      assert.ok(e instanceof assert.AssertionError)
      assert.match(e.message, /^1 delivery callback\(s\) threw during the test/)
      assert.match(e.message, /a delivery callback threw: an assertion that fails on purpose/)
      assert.match(e.message, /callbacks\.test\.js/, 'it says where the callback threw')
      return true
    })
  })

  it('also catches a callback that throws while close() fails the outstanding records', async () => {
    const { cluster, producer, pump } = fakeProducer({ 'linger.ms': 0 })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'a' }, (err) => {
      assert.equal(err, null, 'expects a delivery that close() never lets happen')
    })
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    await assert.rejects(closeFakeProducers(), /expects a delivery that close\(\) never lets happen/)
  })

  it('is quiet when no callback threw, and when the test took what was thrown', async () => {
    const a = fakeProducer({ 'linger.ms': 0 })
    a.producer.produce({ topic: 't', value: 'fine' }, () => {})
    const b = fakeProducer({ 'linger.ms': 0 })
    b.producer.produce({ topic: 't', value: 'throws' }, () => {
      throw new Error('taken below')
    })
    await a.pump()
    await b.pump()
    assert.equal(b.takeCallbackThrows().length, 1)
    await closeFakeProducers()
  })
})
