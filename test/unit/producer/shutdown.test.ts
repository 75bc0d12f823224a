// Shutting a producer down: close({ timeoutMs }) and purge(), against the fake cluster. Every
// record must get exactly one report whichever way it ends (test/helpers/deliveries.ts).
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { KafkaError } from '../../../src/errors/index.js'
import { closeFakeProducers, eagerProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

/** A send() whose outcome is kept: the report, or the error it rejected with. */
function settled<T>(p: Promise<T>): { result: T | KafkaError | undefined } {
  const box: { result: T | KafkaError | undefined } = { result: undefined }
  p.then(
    (r) => (box.result = r),
    (e: KafkaError) => (box.result = e),
  )
  return box
}

describe('close({ timeoutMs })', () => {
  it('bounds the flush like close(timeoutMs), then fails what is left with _DESTROY once', async () => {
    const { cluster, producer, d, pump } = eagerProducer()
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'inflight' }, d.cb('inflight'))
    producer.produce({ topic: 'ghost', value: 'waiting' }, d.cb('waiting'))
    await pump()
    let closed = false
    const p = producer.close({ timeoutMs: 1_000 }).then(() => (closed = true))
    await pump(999)
    assert.equal(closed, false)
    assert.equal(d.total, 0)
    await pump(1)
    await p
    assert.equal(d.one('inflight').err!.code, '_DESTROY')
    assert.equal(d.one('waiting').err!.code, '_DESTROY')
    await pump(60_000)
    d.assertAllOnce()
    assert.equal(producer.pending, 0)
    assert.equal(cluster.openConnections().length, 0, 'disconnected')
  })

  it('close({}) keeps the default bound: an answer that comes within it is used', async () => {
    const { cluster, producer, d, pump } = eagerProducer()
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'x' }, d.cb('x'))
    await pump()
    const p = producer.close({})
    await pump(20_000) // under request.timeout.ms (30 s): the request is still waited for
    cluster.produceCalls[0]!.release()
    await pump()
    await p
    assert.equal(d.one('x').err, null)
  })

  it('close({ timeoutMs: 0 }) fails everything undelivered at once, send() waiting for space included', async () => {
    const { cluster, producer, d, pump } = eagerProducer({ 'queue.buffering.max.messages': 1 })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'inflight' }, d.cb('inflight'))
    const blocked = settled(producer.send({ topic: 't', value: 'blocked' }))
    await pump()
    const p = producer.close({ timeoutMs: 0 })
    await pump()
    await p
    assert.equal(d.one('inflight').err!.code, '_DESTROY')
    assert.equal((blocked.result as KafkaError).code, '_DESTROY')
    // The same promise for every later call, whatever form it takes.
    assert.equal(producer.close(5_000), p)
    assert.equal(producer.close({ timeoutMs: 1 }), p)
  })
})
