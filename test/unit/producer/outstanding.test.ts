import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OutstandingRecords } from '../../../src/producer/outstanding.js'
import { ManualClock } from '../../../src/util/clock.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Whether the process has one of our keep-alive intervals (a referenced Timeout). */
function holding(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe('OutstandingRecords', () => {
  it('counts accepted and reported records; a wait ends when the count reaches 0', async () => {
    const o = new OutstandingRecords(new ManualClock(), () => false)
    o.accepted()
    o.accepted()
    let ended = false
    void o.drained(Infinity, undefined).then(() => (ended = true))
    o.done(1)
    await tick()
    assert.equal(ended, false)
    assert.equal(o.count, 1)
    o.done(1)
    await tick()
    assert.equal(ended, true)
    assert.equal(o.count, 0)
  })

  it('a wait ends at its timeout or when its signal aborts, with records still outstanding', async () => {
    const clock = new ManualClock()
    const o = new OutstandingRecords(clock, () => false)
    o.accepted()
    let timedOut = false
    void o.drained(100, undefined).then(() => (timedOut = true))
    clock.advance(99)
    await tick()
    assert.equal(timedOut, false)
    clock.advance(1)
    await tick()
    assert.equal(timedOut, true)
    const ac = new AbortController()
    let aborted = false
    void o.drained(Infinity, ac.signal).then(() => (aborted = true))
    ac.abort()
    await tick()
    assert.equal(aborted, true)
    assert.equal(o.count, 1)
    o.done(1)
  })

  it('holds Node alive while a record is outstanding or alsoHold() says so, and lets go after', () => {
    let txnCall = false
    const o = new OutstandingRecords(new ManualClock(), () => txnCall)
    const before = holding()
    o.accepted()
    assert.equal(holding(), before + 1)
    o.done(1)
    assert.equal(holding(), before)
    txnCall = true
    o.holdUpdate()
    assert.equal(holding(), before + 1)
    o.release()
    assert.equal(holding(), before)
  })
})
