// With many partitions ready for one broker and little data each, a second Produce request waits for
// the answer to the first, and the batches go together, larger (Readiness.worthAnotherRequest). With a
// few partitions, or with enough data to fill a request, requests are pipelined up to
// max.in.flight.requests.per.connection as before. Driven through a real Producer on the fake cluster.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { COALESCE_FROM_PARTITIONS } from '../../../src/producer/readiness.js'
import type { ProduceCall } from '../../helpers/fake-broker.js'
import { closeFakeProducers, eagerProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

const MANY = COALESCE_FROM_PARTITIONS + 20

/**
 * A producer on one broker with topic `w` of `partitions` partitions. One record per partition is
 * answered first (an idempotent producer keeps one batch per partition in flight until the broker
 * has acknowledged one, Readiness.nextToSend); after that every Produce is held, and `calls` lists
 * those held requests.
 */
async function held(partitions: number) {
  const p = eagerProducer({}, { topics: { w: { partitions } } })
  for (let part = 0; part < partitions; part++)
    p.producer.produce({ topic: 'w', partition: part, value: 'warm' })
  await p.pump()
  assert.equal(p.producer.pending, 0)
  const before = p.cluster.produceCalls.length
  p.cluster.produceHandler = () => 'hold'
  return { ...p, calls: (): ProduceCall[] => p.cluster.produceCalls.slice(before) }
}

describe('request coalescing behind a request in flight', () => {
  it('many small partitions: one request in flight, and the next one carries everything that waited', async () => {
    const { producer, calls, pump, d } = await held(MANY)
    let n = 0
    const round = (): void => {
      for (let part = 0; part < MANY; part++)
        producer.produce({ topic: 'w', partition: part, value: 'r' }, d.cb(`${n++}`))
    }
    round()
    await pump()
    assert.equal(calls().length, 1)
    assert.equal(calls()[0]!.partitions.length, MANY)
    // Two more rounds while the first request is unanswered: nothing more is sent...
    round()
    await pump()
    round()
    await pump(50)
    assert.equal(calls().length, 1, 'the second request waits for the first answer')
    // ...until the answer: then one request with two records per partition.
    calls()[0]!.release()
    await pump()
    assert.equal(calls().length, 2)
    const second = calls()[1]!
    assert.equal(second.partitions.length, MANY)
    assert.ok(
      second.partitions.every((pd) => pd.batches.length === 1 && pd.batches[0]!.records.length === 2),
      'one batch of two records per partition',
    )
    second.release()
    await pump()
    assert.equal(d.calls.size, 3 * MANY)
    for (const id of d.calls.keys()) assert.equal(d.one(id).err, null, `record ${id}`)
  })

  it('a few partitions: requests are pipelined up to max.in.flight.requests.per.connection', async () => {
    const parts = 6
    const { producer, calls, pump } = await held(parts)
    for (let r = 0; r < 7; r++) {
      for (let part = 0; part < parts; part++)
        producer.produce({ topic: 'w', partition: part, value: `r${r}` })
      await pump()
    }
    // Five in flight (the default maximum), each with one batch per partition.
    assert.equal(calls().length, 5)
    assert.ok(calls().every((c) => c.partitions.length === parts))
    while (producer.pending > 0) {
      for (const c of calls()) c.release()
      await pump()
    }
  })

  it('many partitions with enough data to fill a request: the next request goes at once', async () => {
    // 120 partitions x 12 KiB > 1 MiB (max.request.size): a full request is pipelined as before.
    const { producer, calls, pump } = await held(MANY)
    const value = Buffer.alloc(12 * 1024, 0x61)
    for (let part = 0; part < MANY; part++) producer.produce({ topic: 'w', partition: part, value: 'first' })
    await pump()
    assert.equal(calls().length, 1)
    for (let part = 0; part < MANY; part++) producer.produce({ topic: 'w', partition: part, value })
    await pump()
    assert.ok(calls().length >= 2, `${calls().length} requests in flight`)
    while (producer.pending > 0) {
      for (const c of calls()) c.release()
      await pump()
    }
  })
})
