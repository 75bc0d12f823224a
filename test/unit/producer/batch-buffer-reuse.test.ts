// Large batch buffers are reused after delivery (issue 14, W7's memory): the pool's own rules, and the
// producer's: a delivered batch of 512 KiB or more goes back to the pool once its callbacks returned,
// unless a report's key or value was read in the callback or kept by send(); the next large batch
// takes it; every record is still written with its own bytes; a recycled report's key and value
// throw a typed error instead of showing another record's bytes.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { BatchBufferPool, POOLED_BUFFER_MIN_BYTES } from '../../../src/protocol/index.js'
import { ProducerBatch } from '../../../src/producer/batch.js'
import type { DeliveryReport } from '../../../src/producer/record.js'
import { closeFakeProducers, eagerProducer, type FakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

const BIG = 600 * 1024

/** A value of `size` bytes that differs from every other (its first bytes and its fill). */
function valueOf(i: number, size = BIG): Buffer {
  const b = Buffer.alloc(size, 0x41 + (i % 26))
  b.write(`record-${i}-`)
  return b
}

function poolOf(p: FakeProducer): BatchBufferPool {
  return (p.producer as unknown as { accumulator: { opts: { bufferPool: BatchBufferPool } } }).accumulator
    .opts.bufferPool
}

async function deliver(p: FakeProducer, n = 6): Promise<void> {
  for (let i = 0; i < n; i++) await p.pump(1)
}

describe('BatchBufferPool', () => {
  const MIN = POOLED_BUFFER_MIN_BYTES

  it('hands back a given buffer for a size it fits within a quarter, the smallest first', () => {
    const pool = new BatchBufferPool(8 * MIN)
    const a = Buffer.allocUnsafe(MIN)
    const b = Buffer.allocUnsafe(MIN + MIN / 2)
    pool.give(b)
    pool.give(a)
    assert.equal(pool.idleBytes, a.length + b.length)
    // Below the pooled sizes a request is always a new buffer.
    assert.notEqual(pool.take(MIN - 100), a)
    assert.equal(pool.take(MIN), a)
    // b is more than a quarter larger than asked: a new buffer, b stays.
    const c = pool.take(MIN + 1)
    assert.notEqual(c, b)
    assert.equal(c.length, MIN + 64 * 1024, 'a new large buffer is rounded up to 64 KiB')
    assert.equal(pool.take(MIN + MIN / 4 + 1), b)
    assert.equal(pool.idleBytes, 0)
  })

  it('keeps nothing small, nothing that shares its memory, and nothing beyond maxBytes', () => {
    const pool = new BatchBufferPool(2 * MIN)
    pool.give(Buffer.allocUnsafe(MIN - 1))
    pool.give(Buffer.allocUnsafe(MIN + 8).subarray(8))
    assert.equal(pool.idleBytes, 0)
    const small = pool.take(1000)
    assert.equal(small.length, 1000)
    pool.give(Buffer.allocUnsafe(MIN))
    pool.give(Buffer.allocUnsafe(MIN))
    pool.give(Buffer.allocUnsafe(MIN))
    assert.equal(pool.idleBytes, 2 * MIN)
    pool.clear()
    assert.equal(pool.idleBytes, 0)
  })

  it('shares its bound with the bytes in use, as buffer.memory does in Java', () => {
    let inUse = 3 * MIN
    const pool = new BatchBufferPool(4 * MIN, () => inUse)
    pool.give(Buffer.allocUnsafe(MIN))
    pool.give(Buffer.allocUnsafe(MIN))
    assert.equal(pool.idleBytes, MIN)
    inUse = 0
    pool.give(Buffer.allocUnsafe(MIN))
    assert.equal(pool.idleBytes, 2 * MIN)
  })
})

describe('ProducerBatch.recycle', () => {
  function deliveredBatch(pool: BatchBufferPool): ProducerBatch {
    const b = new ProducerBatch('t', 0, BIG + 1024, 0, 120_000, 1, pool)
    const value = valueOf(0)
    assert.ok(
      b.tryAppend(
        {
          key: null,
          keyLength: -1,
          value,
          valueLength: value.length,
          headers: null,
          timestamp: 0,
          callback: undefined,
          bytes: BIG,
          deadline: 120_000,
        },
        BIG + 100,
        16384,
        1000,
      ),
    )
    b.moveTo('done')
    return b
  }

  it('waits for the request write when the answer came first, then gives the buffer back', () => {
    const pool = new BatchBufferPool(64 * 1024 * 1024)
    const b = deliveredBatch(pool)
    assert.equal(b.recycle(), false)
    assert.equal(pool.idleBytes, 0)
    assert.ok(b.valueAt(0)?.equals(valueOf(0)), 'readable until the write is over')
    // Reading the value kept it: the write's end no longer recycles it.
    b.written()
    assert.equal(pool.idleBytes, 0)

    const c = deliveredBatch(pool)
    assert.equal(c.recycle(), false)
    c.written()
    assert.ok(pool.idleBytes > BIG)
    assert.throws(
      () => c.valueAt(0),
      (e: unknown) => e instanceof KafkaError && e.code === '_STATE',
    )
  })

  it('never gives back a batch that is not done', () => {
    const pool = new BatchBufferPool(64 * 1024 * 1024)
    const b = new ProducerBatch('t', 0, BIG + 1024, 0, 120_000, 1, pool)
    b.written()
    assert.equal(b.recycle(), false)
    assert.equal(pool.idleBytes, 0)
  })
})

describe('large batch buffers after delivery', () => {
  it('go back to the pool when no report was read, and the next large batch takes them', async () => {
    const p = eagerProducer()
    const { producer, cluster } = p
    const reports: DeliveryReport[] = []
    producer.produce({ topic: 't', value: valueOf(0) }, (err, r) => {
      assert.equal(err, null)
      reports.push(r)
    })
    await deliver(p)
    assert.equal(reports.length, 1)
    const pool = poolOf(p)
    assert.ok(pool.idleBytes >= BIG, `pooled ${pool.idleBytes} bytes`)
    // The report outlived its callback without reading the value: reading it now is a typed error.
    assert.throws(
      () => reports[0]!.value,
      (e: unknown) =>
        e instanceof KafkaError && e.code === '_STATE' && /only while its delivery callback/.test(e.message),
    )
    assert.throws(
      () => reports[0]!.key,
      (e: unknown) => e instanceof KafkaError && e.code === '_STATE',
    )
    // Offset, partition, timestamp and headers stay.
    assert.equal(reports[0]!.offset, 0)
    assert.deepEqual(reports[0]!.headers, [])

    producer.produce({ topic: 't', value: valueOf(1) }, (_err, r) => reports.push(r))
    assert.equal(pool.idleBytes, 0, 'the second batch took the pooled buffer')
    await deliver(p)
    assert.equal(reports.length, 2)
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value),
      [valueOf(0), valueOf(1)],
    )
  })

  it('stay with their reports when a callback read the value, or the report came from send()', async () => {
    const p = eagerProducer()
    const { producer } = p
    const kept: Buffer[] = []
    producer.produce({ topic: 't', value: valueOf(0) }, (_err, r) => {
      kept.push(r.value!)
    })
    await deliver(p)
    assert.equal(poolOf(p).idleBytes, 0)
    const sent = producer.send({ topic: 't', value: valueOf(1) })
    await deliver(p)
    const report = await sent
    assert.equal(poolOf(p).idleBytes, 0)
    // Neither buffer was reused: the views show their records after more large batches went out.
    for (let i = 2; i < 6; i++) producer.produce({ topic: 't', value: valueOf(i) })
    await deliver(p, 10)
    assert.ok(kept[0]!.equals(valueOf(0)))
    assert.ok(report.value!.equals(valueOf(1)))
    assert.ok(report.key === null)
  })

  it('stay when the delivery failed, so that the report can still hand the value on', async () => {
    const p = eagerProducer({ 'enable.idempotence': false, retries: 0 })
    const { producer, cluster } = p
    cluster.produceHandler = () => ({ errorCode: 87 }) // INVALID_RECORD: not retriable
    const reports: DeliveryReport[] = []
    producer.produce({ topic: 't', value: valueOf(0) }, (err, r) => {
      assert.ok(err)
      reports.push(r)
    })
    await deliver(p)
    assert.equal(reports.length, 1)
    assert.equal(poolOf(p).idleBytes, 0)
    assert.ok(reports[0]!.value!.equals(valueOf(0)))
  })

  it('are never pooled below 512 KiB: a later read of such a report still works', async () => {
    const p = eagerProducer()
    const { producer } = p
    const reports: DeliveryReport[] = []
    producer.produce({ topic: 't', value: valueOf(0, 100 * 1024) }, (_err, r) => reports.push(r))
    await deliver(p)
    assert.equal(poolOf(p).idleBytes, 0)
    assert.ok(reports[0]!.value!.equals(valueOf(0, 100 * 1024)))
  })

  it('every record keeps its own bytes through many reuses, with compression too', async () => {
    for (const compression of ['none', 'gzip'] as const) {
      const p = eagerProducer({ 'compression.type': compression })
      const { producer, cluster } = p
      let delivered = 0
      for (let wave = 0; wave < 4; wave++) {
        for (let i = 0; i < 3; i++) {
          producer.produce({ topic: 't', key: `k${wave * 3 + i}`, value: valueOf(wave * 3 + i) }, (err) => {
            assert.equal(err, null)
            delivered++
          })
        }
        // gzip runs on libuv's thread pool, in real time: pump until the wave is delivered.
        const deadline = Date.now() + 10_000
        while (delivered < (wave + 1) * 3 && Date.now() < deadline) {
          await p.pump(1)
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
      }
      assert.equal(delivered, 12)
      const log = cluster.log('t', 0)
      assert.equal(log.length, 12, compression)
      log.forEach((r, i) => {
        assert.equal(r.key?.toString(), `k${i}`, `${compression} key ${i}`)
        assert.ok(r.value?.equals(valueOf(i)), `${compression} value ${i}`)
      })
      await producer.close()
    }
  })
})
