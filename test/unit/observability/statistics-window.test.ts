// librdkafka's window stats (STATISTICS.md, "Window stats") on Node's HDR histogram: exact count,
// sum, min, max, avg and stddev; percentiles to within the histogram's 0.1 %; zeros (which the HDR
// histogram cannot record) ranked below everything; reset at each rollover.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Window, hdrCountsBytes } from '../../../src/observability/statistics/window.js'

function near(actual: number, expected: number, relative = 0.001): void {
  assert.ok(
    Math.abs(actual - expected) <= Math.max(1, expected * relative),
    `${actual} is not within ${relative * 100} % of ${expected}`,
  )
}

describe('statistics Window', () => {
  it('an empty window is all zeros, hdrsize aside', () => {
    const w = new Window(60_000_000)
    const s = w.rollover()
    assert.deepEqual(
      { ...s, hdrsize: 0 },
      {
        min: 0,
        max: 0,
        avg: 0,
        sum: 0,
        stddev: 0,
        p50: 0,
        p75: 0,
        p90: 0,
        p95: 0,
        p99: 0,
        p99_99: 0,
        outofrange: 0,
        hdrsize: 0,
        cnt: 0,
      },
    )
    assert.equal(s.hdrsize, hdrCountsBytes(60_000_000))
  })

  it('1..1000: exact count, sum, min, max, avg, stddev; percentiles within 0.1 %', () => {
    const w = new Window(1_000_000)
    for (let v = 1000; v >= 1; v--) w.add(v)
    const s = w.rollover()
    assert.equal(s.cnt, 1000)
    assert.equal(s.sum, 500_500)
    assert.equal(s.min, 1)
    assert.equal(s.max, 1000)
    assert.equal(s.avg, 501) // 500.5 rounded
    assert.equal(s.stddev, Math.round(Math.sqrt((1000 * 1000 - 1) / 12)))
    near(s.p50, 500)
    near(s.p75, 750)
    near(s.p90, 900)
    near(s.p95, 950)
    near(s.p99, 990)
    near(s.p99_99, 1000)
  })

  it('zeros count in cnt, sum, min and avg, and rank below every other value', () => {
    const w = new Window(1000)
    for (let i = 0; i < 90; i++) w.add(0)
    for (let i = 0; i < 10; i++) w.add(100)
    const s = w.rollover()
    assert.equal(s.cnt, 100)
    assert.equal(s.sum, 1000)
    assert.equal(s.min, 0)
    assert.equal(s.avg, 10)
    assert.equal(s.stddev, 30) // sqrt(0.9 * 10^2 + 0.1 * 90^2)
    assert.equal(s.p50, 0)
    assert.equal(s.p75, 0)
    assert.equal(s.p90, 0, 'the 90th value of 100 is the last zero')
    assert.equal(s.p95, 100)
    assert.equal(s.p99_99, 100)
  })

  it('only zeros (throttle time 0, the usual case): all percentiles 0, cnt counts them', () => {
    const w = new Window(3_600_000)
    for (let i = 0; i < 5; i++) w.add(0)
    const s = w.rollover()
    assert.equal(s.cnt, 5)
    assert.equal(s.p99, 0)
    assert.equal(s.max, 0)
  })

  it('a value above the range is outofrange: in cnt, sum and max, not in the percentiles', () => {
    const w = new Window(1000)
    w.add(10)
    w.add(5000)
    const s = w.rollover()
    assert.equal(s.outofrange, 1)
    assert.equal(s.cnt, 2)
    assert.equal(s.sum, 5010)
    assert.equal(s.max, 5000)
    near(s.p99_99, 10)
  })

  it('rollover empties the window (librdkafka resets window stats at each emission)', () => {
    const w = new Window(1000)
    w.add(7)
    assert.equal(w.rollover().cnt, 1)
    const s = w.rollover()
    assert.equal(s.cnt, 0)
    assert.equal(s.max, 0)
    assert.equal(s.p50, 0)
    w.add(3)
    assert.deepEqual([w.rollover().min, w.rollover().min], [3, 0])
  })

  it("hdrsize follows HdrHistogram's bucket formula: more range, more buckets", () => {
    // 3 significant figures: 2048 sub-buckets, 1024 counts per extra bucket, 8 bytes each.
    assert.equal(hdrCountsBytes(2047), 2 * 1024 * 8)
    assert.equal(hdrCountsBytes(2048), 3 * 1024 * 8)
    assert.ok(hdrCountsBytes(1 << 30) > hdrCountsBytes(60_000_000))
  })
})
