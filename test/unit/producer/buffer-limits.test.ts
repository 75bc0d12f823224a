import assert from 'node:assert/strict'
import { describe, it, test } from 'node:test'
import { BufferLimits } from '../../../src/producer/buffer-limits.js'
import { KafkaError } from '../../../src/errors/index.js'
import { ManualClock } from '../../../src/util/clock.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('BufferLimits', () => {
  it('admits by bytes up to the limit and releases', () => {
    const l = new BufferLimits(100, 1000, new ManualClock())
    assert.equal(l.tryAcquire(60), true)
    assert.equal(l.tryAcquire(40), true)
    assert.equal(l.bytes, 100)
    assert.equal(l.availableBytes, 0)
    assert.equal(l.tryAcquire(1), false)
    l.release(40, 1)
    assert.equal(l.tryAcquire(41), false)
    assert.equal(l.tryAcquire(40), true)
    assert.deepEqual([l.bytes, l.count], [100, 2])
  })

  it('admits by count up to queue.buffering.max.messages', () => {
    const l = new BufferLimits(1_000_000, 2, new ManualClock())
    assert.equal(l.tryAcquire(1), true)
    assert.equal(l.tryAcquire(1), true)
    assert.equal(l.tryAcquire(1), false)
    l.release(1, 1)
    assert.equal(l.tryAcquire(1), true)
    assert.equal(l.count, 2)
  })

  it('admits one record larger than the whole buffer when the buffer is empty, and only then', () => {
    const l = new BufferLimits(100, 10, new ManualClock())
    assert.equal(l.tryAcquire(500), true)
    assert.equal(l.tryAcquire(1), false)
    l.release(500, 1)
    assert.equal(l.tryAcquire(1), true)
    assert.equal(l.tryAcquire(500), false)
  })

  it('serves waiters in FIFO order as space frees up', async () => {
    const l = new BufferLimits(100, 100, new ManualClock())
    assert.equal(l.tryAcquire(100), true)
    const order: string[] = []
    const a = l.acquire(50, 1000).then(() => order.push('a'))
    const b = l.acquire(10, 1000).then(() => order.push('b'))
    const c = l.acquire(60, 1000).then(() => order.push('c'))
    assert.equal(l.waiting, 3)
    // 30 bytes free: the head (50) does not fit, so nobody behind it goes either.
    l.release(30, 1)
    await tick()
    assert.deepEqual(order, [])
    assert.equal(l.waiting, 3)
    l.release(30, 0) // 60 free: a (50) then b (10)
    await Promise.all([a, b])
    assert.deepEqual(order, ['a', 'b'])
    assert.deepEqual([l.bytes, l.count, l.waiting], [100, 2, 1])
    l.release(60, 1)
    await c
    assert.deepEqual(order, ['a', 'b', 'c'])
    assert.deepEqual([l.bytes, l.count, l.waiting], [100, 2, 0])
  })

  it('a waiter times out with a retriable _QUEUE_FULL after max.block.ms, and unblocks those behind it', async () => {
    const clock = new ManualClock()
    const l = new BufferLimits(100, 100, clock)
    assert.equal(l.tryAcquire(80), true)
    const big = l.acquire(50, 1000).then(
      () => assert.fail('must not be admitted'),
      (e: unknown) => e as KafkaError,
    )
    clock.advance(500)
    let smallDone = false
    const small = l.acquire(20, 1000).then(() => (smallDone = true))
    await tick()
    assert.equal(smallDone, false, 'queued behind the big one although it fits')
    clock.advance(499)
    await tick()
    assert.equal(l.waiting, 2)
    clock.advance(1)
    const e = await big
    assert.ok(e instanceof KafkaError)
    assert.equal(e.code, '_QUEUE_FULL')
    assert.equal(e.retriable, true)
    assert.match(e.message, /no buffer space for 50 bytes within max.block.ms=1000/)
    await small
    assert.equal(smallDone, true)
    assert.deepEqual([l.bytes, l.count, l.waiting], [100, 2, 0])
    assert.equal(clock.pendingTimers, 0, 'the admitted waiter cleared its timer')
  })

  it('tryAcquire (produce) never overtakes a waiting send()', async () => {
    const l = new BufferLimits(100, 100, new ManualClock())
    assert.equal(l.tryAcquire(90), true)
    let admitted = false
    const w = l.acquire(50, 1000).then(() => (admitted = true))
    // 10 bytes are free, but a waiter is queued: the fast path must not take them.
    assert.equal(l.tryAcquire(5), false)
    l.release(90, 1)
    await w
    assert.equal(admitted, true)
    assert.equal(l.tryAcquire(5), true)
    assert.deepEqual([l.bytes, l.count], [55, 2])
  })

  it('acquire() resolves at once when there is space and nobody waits', async () => {
    const clock = new ManualClock()
    const l = new BufferLimits(100, 100, clock)
    await l.acquire(100, 0)
    assert.equal(l.bytes, 100)
    assert.equal(clock.pendingTimers, 0)
  })

  it('rejectWaiters fails every waiter with the given error and clears their timers', async () => {
    const clock = new ManualClock()
    const l = new BufferLimits(10, 100, clock)
    l.tryAcquire(10)
    const ps = [l.acquire(5, 1000), l.acquire(5, 1000)].map((p) =>
      p.catch((e: unknown) => (e as KafkaError).code),
    )
    l.rejectWaiters(new KafkaError('_DESTROY', 'closed'))
    assert.deepEqual(await Promise.all(ps), ['_DESTROY', '_DESTROY'])
    assert.equal(l.waiting, 0)
    assert.equal(clock.pendingTimers, 0)
  })

  it('a waiter whose AbortSignal aborts leaves the line with _ABORTED, having taken nothing', async () => {
    const clock = new ManualClock()
    const l = new BufferLimits(100, 100, clock)
    assert.equal(l.tryAcquire(90), true)
    const ac = new AbortController()
    const a = l.acquire(50, 1000, ac.signal).then(
      () => assert.fail('granted'),
      (e: unknown) => e as KafkaError,
    )
    let bGranted = false
    const b = l.acquire(10, 1000).then(() => (bGranted = true))
    assert.equal(l.waiting, 2)
    ac.abort('stop')
    const err = await a
    assert.equal(err.code, '_ABORTED')
    assert.equal(err.cause, 'stop')
    await b
    assert.equal(bGranted, true, 'the next in line fits once the head left')
    assert.deepEqual([l.bytes, l.count, l.waiting], [100, 2, 0])
    assert.equal(clock.pendingTimers, 0, "the aborted waiter's max.block.ms timer is gone")
    await assert.rejects(l.acquire(1, 10, ac.signal), { code: '_ABORTED' })
    assert.deepEqual([l.bytes, l.count, l.waiting], [100, 2, 0])
  })

  it('onceSpace: a one-shot signal on release, on a waiter leaving and on rejectWaiters; cancellable', () => {
    const clock = new ManualClock()
    const l = new BufferLimits(100, 100, clock)
    assert.equal(l.tryAcquire(100), true)
    let calls = 0
    l.onceSpace(() => calls++)
    const cancelled = l.onceSpace(() => assert.fail('cancelled listener called'))
    cancelled()
    l.release(10, 1)
    assert.equal(calls, 1)
    l.release(10, 0)
    assert.equal(calls, 1, 'one-shot: a listener hears one release')
    // A waiter timing out may let tryAcquire succeed (it no longer queues ahead): a signal too.
    void l.acquire(500, 10).catch(() => undefined)
    l.onceSpace(() => calls++)
    clock.advance(10)
    assert.equal(calls, 2)
    // close() and fatal errors reject the waiters: a retry then hears the error from the producer.
    void l.acquire(500, 1000).catch(() => undefined)
    l.onceSpace(() => calls++)
    l.rejectWaiters(new KafkaError('_DESTROY', 'closed'))
    assert.equal(calls, 3)
  })
})

test('a count limit of 0 means no count limit (queue.buffering.max.messages=0)', () => {
  const limits = new BufferLimits(1_000_000, 0, new ManualClock())
  for (let i = 0; i < 10_000; i++) assert.equal(limits.tryAcquire(10), true)
  assert.equal(limits.count, 10_000)
})
