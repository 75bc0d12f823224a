// statistics.interval.ms and stats_cb (librdkafka's rd_kafka_stats_emit_all): every interval, the
// statistics object is built and handed to stats_cb as a JSON string; the typed object is kept for
// producer.statistics(). With statistics.interval.ms=0 (the default) none of this exists: no
// listener is added to the instrumentation hub, so the producer does no statistics work at all.
import type { ResolvedProducerConfig, StatsCallback } from '../config/index.js'
import { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import {
  StatisticsCollector,
  type Statistics,
  type StatisticsProbe,
} from '../observability/statistics/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { createStatisticsProbe, type StatisticsProbeParts } from './statistics-probe.js'

/** Producers made in this process: librdkafka names its handles `<client.id>#producer-<n>`. */
let producersMade = 0

export interface StatisticsEmitterOptions {
  readonly intervalMs: number
  readonly clientId: string
  readonly clock: Clock
  readonly events: Instrumentation
  readonly probe: StatisticsProbe
  readonly statsCb: StatsCallback | null
  /** Where a stats_cb exception goes (error_cb, as `_APPLICATION`). */
  readonly onError: (err: KafkaError) => void
  /** acks=0: Produce requests get no answer. */
  readonly unansweredProduce: boolean
  /** A monotonic clock in µs for `ts` and rtt (tests); default performance.now(). */
  readonly monotonicUs?: () => number
}

export class StatisticsEmitter {
  private readonly collector: StatisticsCollector
  private timer: TimerHandle | null = null
  private next: number
  private latest: Statistics | null = null

  constructor(private readonly opts: StatisticsEmitterOptions) {
    this.collector = new StatisticsCollector({
      name: `${opts.clientId}#producer-${++producersMade}`,
      clientId: opts.clientId,
      clock: opts.clock,
      unansweredProduce: opts.unansweredProduce,
      ...(opts.monotonicUs ? { monotonicUs: opts.monotonicUs } : {}),
    })
    this.collector.attach(opts.events)
    this.next = opts.clock.now() + opts.intervalMs
    this.arm()
  }

  /** The statistics last emitted, or null before the first emission. */
  get statistics(): Statistics | null {
    return this.latest
  }

  /** Stops the timer and the listeners (close()). No final emission, as in librdkafka. */
  close(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = null
    this.collector.detach()
  }

  private arm(): void {
    // The clock's timers are unref'd: statistics never keep Node alive on their own.
    this.timer = this.opts.clock.setTimeout(() => this.emit(), this.next - this.opts.clock.now())
  }

  private emit(): void {
    // Emissions keep to the interval's grid (no drift); one that is late skips the missed ones.
    const now = this.opts.clock.now()
    this.next += this.opts.intervalMs
    if (this.next <= now) this.next = now + this.opts.intervalMs
    this.arm()
    const stats = this.collector.collect(this.opts.probe)
    this.latest = stats
    const cb = this.opts.statsCb
    if (!cb) return
    try {
      cb(JSON.stringify(stats))
    } catch (e) {
      this.opts.onError(
        new KafkaError('_APPLICATION', `stats_cb threw: ${(e as Error)?.message ?? String(e)}`, { cause: e }),
      )
    }
  }
}

/** The producer's statistics emitter, or null with statistics.interval.ms=0 (then nothing listens). */
export function createStatisticsEmitter(
  c: ResolvedProducerConfig,
  clock: Clock,
  events: Instrumentation,
  onError: (err: KafkaError) => void,
  parts: Omit<StatisticsProbeParts, 'msgMax' | 'msgSizeMax'>,
): StatisticsEmitter | null {
  if (c.statisticsIntervalMs <= 0) return null
  return new StatisticsEmitter({
    intervalMs: c.statisticsIntervalMs,
    clientId: c.clientId,
    clock,
    events,
    statsCb: c.statsCb,
    onError,
    unansweredProduce: c.acks === 0,
    probe: createStatisticsProbe({
      ...parts,
      msgMax: c.queueBufferingMaxMessages,
      msgSizeMax: c.bufferMemory,
    }),
  })
}
