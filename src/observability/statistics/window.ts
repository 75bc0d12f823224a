// librdkafka's "window stats" (STATISTICS.md, "Window stats"; rd_avg_t in rdavg.h): min, max, avg,
// sum, cnt, stddev and percentiles of the values seen since the last emission, reset at each one.
// The percentiles come from Node's built-in HDR histogram (perf_hooks.createHistogram), the same
// structure librdkafka uses (rdhdrhistogram.c), so there is no histogram code of our own.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'

/** One window as librdkafka prints it (all integers). */
export interface WindowStats {
  readonly min: number
  readonly max: number
  readonly avg: number
  readonly sum: number
  readonly stddev: number
  readonly p50: number
  readonly p75: number
  readonly p90: number
  readonly p95: number
  readonly p99: number
  readonly p99_99: number
  /** Values above the histogram's range: in min/max/sum/cnt/avg, not in the percentiles. */
  readonly outofrange: number
  /** Bytes of the histogram's counts array (HdrHistogram's bucket formula for its range). */
  readonly hdrsize: number
  readonly cnt: number
}

/** Significant figures the histograms keep: values are exact to within 0.1 %. */
const FIGURES = 3

/**
 * Size in bytes of an HDR histogram's counts array for values 1..highest with 3 significant
 * figures: the formula of HdrHistogram_c's hdr_calculate_bucket_config (64-bit counts), which is
 * what Node's histogram allocates. librdkafka's `hdrsize` is its own histogram's memory size, so
 * the magnitudes differ; the meaning (memory the window costs) is the same.
 */
export function hdrCountsBytes(highest: number): number {
  const subBucketCount = 2 ** Math.ceil(Math.log2(2 * 10 ** FIGURES))
  let smallestUntrackable = subBucketCount
  let buckets = 1
  while (smallestUntrackable <= highest) {
    smallestUntrackable *= 2
    buckets++
  }
  return (buckets + 1) * (subBucketCount / 2) * 8
}

/**
 * A window of integer samples >= 0. Node's HDR histogram records values >= 1 only, so zeros (a
 * throttle time of 0, the common case) are counted beside it: they take part in cnt, sum, min and
 * avg exactly, and the percentiles rank them below every histogram value (a percentile that falls
 * among the zeros is 0). stddev is computed exactly from the sum of squares, not from the histogram.
 */
export class Window {
  private readonly hist: RecordableHistogram
  private readonly hdrsize: number
  private cnt = 0
  private sum = 0
  private sumSquares = 0
  private min = Infinity
  private max = 0
  private zeros = 0

  /** `highest`: the largest value the percentiles cover (larger ones count as outofrange). */
  constructor(highest: number) {
    this.hist = createHistogram({ lowest: 1, highest, figures: FIGURES })
    this.hdrsize = hdrCountsBytes(highest)
  }

  add(value: number): void {
    const v = value > 0 ? Math.round(value) : 0
    this.cnt++
    this.sum += v
    this.sumSquares += v * v
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
    // A value above `highest` is not recorded: Node counts it in `exceeds` (outofrange).
    if (v === 0) this.zeros++
    else this.hist.record(v)
  }

  /** The window so far, then empty again (librdkafka's rd_avg_rollover at each emission). */
  rollover(): WindowStats {
    const cnt = this.cnt
    const outofrange = this.hist.exceeds
    const stats: WindowStats = {
      min: cnt > 0 ? this.min : 0,
      max: this.max,
      avg: cnt > 0 ? Math.round(this.sum / cnt) : 0,
      sum: this.sum,
      stddev: cnt > 0 ? Math.round(Math.sqrt(Math.max(0, this.sumSquares / cnt - (this.sum / cnt) ** 2))) : 0,
      p50: this.percentile(50),
      p75: this.percentile(75),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      p99_99: this.percentile(99.99),
      outofrange,
      hdrsize: this.hdrsize,
      cnt,
    }
    this.hist.reset()
    this.cnt = 0
    this.sum = 0
    this.sumSquares = 0
    this.min = Infinity
    this.max = 0
    this.zeros = 0
    return stats
  }

  /** The `p`th percentile over the zeros and the histogram's values together. */
  private percentile(p: number): number {
    const inHistogram = this.hist.count
    const total = this.zeros + inHistogram
    if (total === 0) return 0
    const rank = (p / 100) * total
    if (rank <= this.zeros || inHistogram === 0) return 0
    const q = Math.min(100, ((rank - this.zeros) / inHistogram) * 100)
    return this.hist.percentile(q)
  }
}
