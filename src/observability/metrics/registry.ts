// A small metrics registry after Java's org.apache.kafka.common.metrics.Metrics: metrics are named
// by (name, group, tags) as Java's MetricName, a Sensor records one value into several stats at
// once (Java's Sensor), and gauges read a value when measured. Everything is measured at the `now`
// of the injected clock, so that windows are deterministic in tests.
import {
  Avg,
  CumulativeCount,
  CumulativeSum,
  Max,
  Rate,
  WindowedCount,
  type Measurable,
  type MetricWindow,
  type Stat,
} from './stats.js'

/** Java's MetricName: a metric is identified by its name, its group and its tags. */
export interface MetricName {
  readonly name: string
  readonly group: string
  readonly description: string
  readonly tags: Readonly<Record<string, string>>
}

/** One metric's value at the time it was read (Java's KafkaMetric.metricValue()). */
export interface Metric extends MetricName {
  /** The value; NaN where Java gives NaN (an average or maximum with nothing recorded in its windows). */
  readonly value: number
}

/** A metric definition without tags: the name, group and description the registry shares. */
export interface MetricTemplate {
  readonly name: string
  readonly group: string
  readonly description: string
}

/** Records one value into each of its stats (Java's Sensor). */
export class Sensor {
  private stats: Stat[] = []

  constructor(private readonly registry: MetricsRegistry) {}

  /** Adds `stat` under `name` (one metric). */
  add(name: MetricName, stat: Stat): this {
    this.stats.push(stat)
    this.registry.addMetric(name, stat)
    return this
  }

  /** Java's Meter: a per-second rate under `rate` and the cumulative sum under `total`. */
  meter(rate: MetricName, total: MetricName): this {
    return this.add(rate, new Rate(this.registry.window)).add(total, new CumulativeSum())
  }

  /** Java's Meter over a WindowedCount: events per second under `rate`, their count under `total`. */
  countMeter(rate: MetricName, total: MetricName): this {
    const w = this.registry.window
    return this.add(rate, new Rate(w, 1000, new WindowedCount(w))).add(total, new CumulativeCount())
  }

  /** An average under `avg` and a maximum under `max` of the same values. */
  avgMax(avg: MetricName, max: MetricName): this {
    return this.add(avg, new Avg(this.registry.window)).add(max, new Max(this.registry.window))
  }

  record(value: number, now: number): void {
    for (const s of this.stats) s.record(value, now)
  }
}

interface Entry {
  readonly name: MetricName
  readonly measurable: Measurable
}

/** The registry: metrics in the order they were added, each measured when read. */
export class MetricsRegistry {
  private readonly entries = new Map<string, Entry>()

  constructor(readonly window: MetricWindow) {}

  /** A sensor whose stats are added to this registry. */
  sensor(): Sensor {
    return new Sensor(this)
  }

  /** Adds (or replaces) the metric `name`, measured by `measurable`. */
  addMetric(name: MetricName, measurable: Measurable): void {
    this.entries.set(keyOf(name), { name, measurable })
  }

  /** Adds a gauge: `read()` is called when the metrics are read. */
  gauge(name: MetricName, read: () => number): void {
    this.addMetric(name, { measure: read })
  }

  /** Every metric's value at `now`, in the order the metrics were added. */
  read(now: number): Metric[] {
    const out: Metric[] = []
    for (const { name, measurable } of this.entries.values()) {
      out.push(Object.freeze({ ...name, value: measurable.measure(now) }))
    }
    return out
  }
}

/** `template` with `tags`, frozen. */
export function named(template: MetricTemplate, tags: Readonly<Record<string, string>> = {}): MetricName {
  return Object.freeze({ ...template, tags: Object.freeze({ ...tags }) })
}

function keyOf(n: MetricName): string {
  const tags = Object.keys(n.tags)
    .sort()
    .map((k) => `${k}=${n.tags[k]}`)
    .join(',')
  return `${n.group}\u0000${n.name}\u0000${tags}`
}
