// The sampled stats against the values Java's org.apache.kafka.common.metrics.stats gives for the
// same records at the same times (worked out by hand from SampledStat, Rate.windowSize, Avg, Max).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  Avg,
  CumulativeCount,
  CumulativeSum,
  Max,
  Rate,
  WindowedCount,
  WindowedSum,
} from '../../../src/observability/metrics/stats.js'

const T = 1_000_000
const W = { sampleWindowMs: 1000, numSamples: 2 }

describe('sampled stats', () => {
  it('WindowedSum keeps numSamples + 1 samples and forgets a sample with no event for numSamples windows', () => {
    const s = new WindowedSum(W)
    s.record(1, T) // sample A starts at T
    s.record(2, T + 500)
    s.record(4, T + 1000) // A complete: sample B at T+1000
    s.record(8, T + 2000) // sample C at T+2000 (the extra one)
    assert.equal(s.measure(T + 2000), 15)
    // A's last event was at T+500: obsolete from T+2500 (2 windows after it).
    assert.equal(s.measure(T + 2499), 15)
    assert.equal(s.measure(T + 2500), 12)
    s.record(16, T + 3000) // C complete: the ring goes back to A (reset) for T+3000
    // B's last event (T+1000) is two windows old now: A (16) and C (8) are left.
    assert.equal(s.measure(T + 3000), 24)
    // Nothing for numSamples windows after the last event: everything is gone.
    assert.equal(s.measure(T + 5000), 0)
  })

  it('Avg and Max are NaN with nothing recorded, as in Java, and combine the live samples', () => {
    const avg = new Avg(W)
    const max = new Max(W)
    assert.ok(Number.isNaN(avg.measure(T)))
    assert.ok(Number.isNaN(max.measure(T)))
    for (const [v, t] of [
      [10, T],
      [30, T + 100],
      [-5, T + 1200],
    ] as const) {
      avg.record(v, t)
      max.record(v, t)
    }
    assert.equal(avg.measure(T + 1200), 35 / 3)
    assert.equal(max.measure(T + 1200), 30)
    // The first sample's last event (T+100) ages out at T+2100.
    assert.equal(avg.measure(T + 2100), -5)
    assert.equal(max.measure(T + 2100), -5)
    assert.ok(Number.isNaN(avg.measure(T + 3200)))
    assert.ok(Number.isNaN(max.measure(T + 3200)))
  })

  it('a negative maximum is kept (the initial value is -Infinity, not 0)', () => {
    const max = new Max(W)
    max.record(-7, T)
    assert.equal(max.measure(T), -7)
  })

  it('Rate divides by at least numSamples - 1 full windows, then by the real elapsed time', () => {
    const rate = new Rate({ sampleWindowMs: 30_000, numSamples: 2 })
    rate.record(300, T)
    // 1 s after the first record: 300 over 1 s + one assumed earlier window of 30 s.
    assert.equal(rate.measure(T + 1000), 300 / 31)
    rate.record(300, T + 45_000)
    // 45 s from the oldest sample's start: one full window, no padding.
    assert.equal(rate.measure(T + 45_000), 600 / 45)
    // The first sample (last event at T) is obsolete at T+60 s: only the second (from T+45 s) counts,
    // padded by one window: 300 / (15 + 30) s.
    assert.equal(rate.measure(T + 60_000), 300 / 45)
  })

  it('Rate with one sample is the sum over the time since the sample started, at least 1 ms', () => {
    const rate = new Rate({ sampleWindowMs: 1000, numSamples: 1 })
    rate.record(5, T)
    assert.equal(rate.measure(T), 5 / 0.001)
    assert.equal(rate.measure(T + 500), 10)
  })

  it('Rate over a WindowedCount counts events, not their values; a unit of ns gives a ratio', () => {
    const count = new Rate(W, 1000, new WindowedCount(W))
    count.record(1000, T)
    count.record(1000, T + 1)
    assert.equal(count.measure(T + 1000), 2) // 2 events over 1 s (one full window: no padding)
    // 500 ms waited, recorded in ns, over 1 s elapsed: a ratio of 0.5.
    const ratio = new Rate(W, 1e-6)
    ratio.record(500 * 1e6, T)
    assert.ok(Math.abs(ratio.measure(T + 1000) - 0.5) < 1e-12)
  })

  it('cumulative stats never forget', () => {
    const sum = new CumulativeSum()
    const count = new CumulativeCount()
    for (const v of [3, 4, 5]) {
      sum.record(v)
      count.record()
    }
    assert.equal(sum.measure(), 12)
    assert.equal(count.measure(), 3)
  })
})
