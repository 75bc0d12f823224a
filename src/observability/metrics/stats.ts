// Sampled statistics with the semantics of Java's org.apache.kafka.common.metrics.stats (Kafka 4.x):
// a value is measured over `numSamples` windows of `sampleWindowMs` each (metrics.num.samples,
// metrics.sample.window.ms). SampledStat keeps a ring of numSamples + 1 samples (the extra one so
// that a sample overlapping the monitored period still counts); a sample is complete once its
// window has passed, and a sample whose last event is numSamples * sampleWindowMs old or older is
// reset when measured (SampledStat.purgeObsoleteSamples). Rate divides a windowed sum by the elapsed
// time the way Java's Rate.windowSize does. Written from those classes' documented behaviour.
// Times are milliseconds from an injected clock: the caller passes `now`.

/** The window settings of a metrics registry (Java's MetricConfig). */
export interface MetricWindow {
  /** metrics.sample.window.ms: the length of one sample. */
  readonly sampleWindowMs: number
  /** metrics.num.samples: how many samples a windowed value spans. */
  readonly numSamples: number
}

/** Something that yields a value when measured at `now` (Java's Measurable). */
export interface Measurable {
  measure(now: number): number
}

/** A stat a sensor records into (Java's Stat). */
export interface Stat extends Measurable {
  record(value: number, now: number): void
}

interface Sample {
  value: number
  events: number
  /** When this sample's window started (Java's Sample.startTimeMs). */
  start: number
  /** When a value was last recorded into it, or its start (Java's Sample.lastEventMs). */
  lastEvent: number
}

/** Java's SampledStat: a ring of at most numSamples samples, combined when measured. */
abstract class SampledStat implements Stat {
  protected readonly samples: Sample[] = []
  private current = 0

  constructor(
    protected readonly window: MetricWindow,
    private readonly initial: number,
  ) {}

  record(value: number, now: number): void {
    let s = this.currentSample(now)
    if (now - s.start >= this.window.sampleWindowMs) s = this.advance(now)
    this.update(s, value)
    s.events++
    s.lastEvent = now
  }

  measure(now: number): number {
    this.purgeObsolete(now)
    return this.combine()
  }

  /** Resets samples with no event in the last numSamples windows (they no longer count). */
  purgeObsolete(now: number): void {
    const expireAge = this.window.numSamples * this.window.sampleWindowMs
    for (const s of this.samples) if (now - s.lastEvent >= expireAge) this.reset(s, now)
  }

  /** The sample whose window started first (Java's SampledStat.oldest); makes one if there is none. */
  oldest(now: number): Sample {
    let oldest = this.currentSample(now)
    for (const s of this.samples) if (s.start < oldest.start) oldest = s
    return oldest
  }

  protected abstract update(sample: Sample, value: number): void
  protected abstract combine(): number

  private currentSample(now: number): Sample {
    if (this.samples.length === 0) this.samples.push(this.fresh(now))
    return this.samples[this.current]!
  }

  private advance(now: number): Sample {
    // One sample more than numSamples, as Java keeps (see purgeObsolete).
    this.current = (this.current + 1) % (this.window.numSamples + 1)
    let s = this.samples[this.current]
    if (s === undefined) {
      s = this.fresh(now)
      this.samples.push(s)
    } else this.reset(s, now)
    return s
  }

  private fresh(now: number): Sample {
    return { value: this.initial, events: 0, start: now, lastEvent: now }
  }

  private reset(s: Sample, now: number): void {
    s.value = this.initial
    s.events = 0
    s.start = now
    s.lastEvent = now
  }
}

/** Java's WindowedSum: the sum of the values recorded in the live samples. */
export class WindowedSum extends SampledStat {
  constructor(window: MetricWindow) {
    super(window, 0)
  }
  protected update(s: Sample, value: number): void {
    s.value += value
  }
  protected combine(): number {
    let total = 0
    for (const s of this.samples) total += s.value
    return total
  }
}

/** Java's WindowedCount: how many values were recorded in the live samples. */
export class WindowedCount extends WindowedSum {
  protected override update(s: Sample): void {
    s.value += 1
  }
}

/** Java's Avg: the mean of the values in the live samples; NaN when there are none (as Java). */
export class Avg extends SampledStat {
  constructor(window: MetricWindow) {
    super(window, 0)
  }
  protected update(s: Sample, value: number): void {
    s.value += value
  }
  protected combine(): number {
    let total = 0
    let count = 0
    for (const s of this.samples) {
      total += s.value
      count += s.events
    }
    return count === 0 ? NaN : total / count
  }
}

/** Java's Max: the largest value in the live samples; NaN when there are none (as Java). */
export class Max extends SampledStat {
  constructor(window: MetricWindow) {
    super(window, -Infinity)
  }
  protected update(s: Sample, value: number): void {
    if (value > s.value) s.value = value
  }
  protected combine(): number {
    let max = -Infinity
    let count = 0
    for (const s of this.samples) {
      if (s.value > max) max = s.value
      count += s.events
    }
    return count === 0 ? NaN : max
  }
}

/**
 * Java's Rate: a windowed sum per unit of time (per second by default). The elapsed time is from the
 * oldest live sample's start to now, but never less than numSamples - 1 full windows (so that a
 * young producer's first burst is not divided by a few milliseconds) and never less than 1 ms.
 * `unitMs` is the time unit in milliseconds: 1000 for "per second"; bufferpool-wait-ratio records
 * milliseconds and uses 1 (Java records nanoseconds over TimeUnit.NANOSECONDS: the same ratio).
 */
export class Rate implements Stat {
  private readonly stat: SampledStat

  constructor(
    private readonly window: MetricWindow,
    private readonly unitMs = 1000,
    stat?: WindowedSum,
  ) {
    this.stat = stat ?? new WindowedSum(window)
  }

  record(value: number, now: number): void {
    this.stat.record(value, now)
  }

  measure(now: number): number {
    const value = this.stat.measure(now)
    return value / (this.windowSizeMs(now) / this.unitMs)
  }

  /** Java's Rate.windowSize, in milliseconds. */
  windowSizeMs(now: number): number {
    this.stat.purgeObsolete(now)
    let elapsed = now - this.stat.oldest(now).start
    const fullWindows = Math.floor(elapsed / this.window.sampleWindowMs)
    const minFullWindows = this.window.numSamples - 1
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.window.sampleWindowMs
    return Math.max(elapsed, 1)
  }
}

/** Java's CumulativeSum: every value recorded since the start (the `-total` metrics). */
export class CumulativeSum implements Stat {
  private total = 0
  record(value: number): void {
    this.total += value
  }
  measure(): number {
    return this.total
  }
}

/** Java's CumulativeCount: how many values were recorded since the start. */
export class CumulativeCount implements Stat {
  private count = 0
  record(): void {
    this.count++
  }
  measure(): number {
    return this.count
  }
}
