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

describe('purge()', () => {
  /**
   * One batch in flight (held) on a connection that allows one request; behind it, two records in
   * the accumulator, one waiting for the metadata of an unknown topic and one send() waiting for
   * buffer space (queue.buffering.max.messages 4).
   */
  async function loaded(config: Record<string, unknown> = {}) {
    const rig = eagerProducer({
      'max.in.flight.requests.per.connection': 1,
      'queue.buffering.max.messages': 4,
      ...config,
    })
    const { cluster, producer, d, pump } = rig
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'inflight' }, d.cb('inflight'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    producer.produce({ topic: 't', value: 'queued1' }, d.cb('queued1'))
    producer.produce({ topic: 't', value: 'queued2' }, d.cb('queued2'))
    producer.produce({ topic: 'ghost', value: 'waiting' }, d.cb('waiting'))
    const blocked = settled(producer.send({ topic: 't', value: 'blocked' }))
    await pump()
    assert.equal(cluster.produceCalls.length, 1, 'the rest is behind the held request')
    return { ...rig, blocked }
  }

  it('fails what was not sent with _PURGE_QUEUE once, returns the count; in flight gets its answer', async () => {
    const { cluster, producer, d, pump, blocked } = await loaded()
    assert.equal(producer.purge(), 4)
    for (const id of ['queued1', 'queued2', 'waiting']) {
      const { err, report } = d.one(id)
      assert.equal(err!.code, '_PURGE_QUEUE', id)
      assert.equal(err!.retriable, false)
      assert.match(err!.message, /was not sent/)
      assert.equal(report.offset, -1)
    }
    await pump()
    assert.equal((blocked.result as KafkaError).code, '_PURGE_QUEUE')
    assert.equal(d.calls.get('inflight')!.length, 0, 'in flight: left to its answer')
    assert.equal(producer.pending, 1)
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(d.one('inflight').err, null)
    // Still open, and the sequence goes on where the purged records did not take it.
    producer.produce({ topic: 't', value: 'after' }, d.cb('after'))
    cluster.produceHandler = () => 'ok'
    const flushed = producer.flush(5_000)
    await pump()
    assert.equal(await flushed, 0)
    assert.equal(d.one('after').err, null)
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString()),
      ['inflight', 'after'],
    )
    assert.equal(cluster.produceCalls.length, 2, 'the purged records were never sent')
    await pump(200_000)
    d.assertAllOnce()
    assert.equal(producer.pending, 0)
  })

  it('returns 0 with nothing to purge, and after close()', async () => {
    const { producer, pump } = eagerProducer()
    assert.equal(producer.purge(), 0)
    const p = producer.close(0)
    await pump()
    await p
    assert.equal(producer.purge(), 0)
  })

  it('during close(), lets it finish as soon as the records in flight are answered', async () => {
    const { cluster, producer, d, pump, blocked } = await loaded()
    let closed = false
    const p = producer.close({ timeoutMs: 60_000 }).then(() => (closed = true))
    await pump(100)
    assert.equal(producer.purge(), 4)
    await pump()
    assert.equal(closed, false, 'the request in flight is still waited for')
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(closed, true, 'well before the 60 s bound')
    await p
    assert.equal(d.one('inflight').err, null)
    for (const id of ['queued1', 'queued2', 'waiting']) assert.equal(d.one(id).err!.code, '_PURGE_QUEUE')
    assert.equal((blocked.result as KafkaError).code, '_PURGE_QUEUE')
    d.assertAllOnce()
  })

  it('a record sent before and waiting for its retry: purged, its report says it may be in the log; the epoch is bumped', async () => {
    const { cluster, producer, d, pump } = eagerProducer({
      'request.timeout.ms': 1_000,
      'retry.backoff.ms': 10_000,
      'retry.backoff.max.ms': 10_000,
    })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'unanswered' }, d.cb('unanswered'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    // The request times out, and the broker writes the batch all the same: its answer is lost.
    await pump(1_100)
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(d.calls.get('unanswered')!.length, 0, 'waiting for its retry')
    const epoch = producer.producerEpoch
    assert.equal(producer.purge(), 1)
    const err = d.one('unanswered').err!
    assert.equal(err.code, '_PURGE_QUEUE')
    assert.match(err.message, /was sent.*when it was purged.*may be in the log/)
    assert.doesNotMatch(err.message, /transaction/)
    // Its sequence is unresolved: the next record goes under a new epoch, and is accepted.
    cluster.produceHandler = () => 'ok'
    producer.produce({ topic: 't', value: 'next' }, d.cb('next'))
    const flushed = producer.flush(30_000)
    for (let i = 0; i < 20; i++) await pump(1_000)
    assert.equal(await flushed, 0)
    assert.equal(d.one('next').err, null)
    assert.equal(producer.producerEpoch, epoch! + 1)
    assert.equal(cluster.produceCalls.length, 2, 'the purged record is not sent again')
    d.assertAllOnce()
  })

  it('a transactional producer refuses it inside a transaction (_STATE, use abortTransaction())', async () => {
    const { producer, d, pump } = eagerProducer(
      { 'transactional.id': 'tx' },
      { topics: { t: { partitions: 1 } }, transactionVersion: 2 },
    )
    const init = producer.initTransactions()
    for (let i = 0; i < 10; i++) await pump(10)
    await init
    assert.equal(producer.purge(), 0, 'no transaction open: nothing to purge')
    producer.beginTransaction()
    producer.produce({ topic: 't', value: 'x' }, d.cb('x'))
    assert.throws(
      () => producer.purge(),
      (e: KafkaError) => {
        assert.equal(e.code, '_STATE')
        assert.match(e.message, /abortTransaction\(\)/)
        return true
      },
    )
    assert.equal(d.total, 0, 'nothing was failed')
    const abort = producer.abortTransaction()
    for (let i = 0; i < 10; i++) await pump(10)
    await abort
    d.assertAllOnce()
  })
})
