// What watches a producer from outside its delivery path, in one place: logging (`logger`, `debug`;
// logging-setup.ts), Java-named metrics (metrics-binding.ts) and librdkafka's statistics
// (statistics-emitter.ts). Each is null when switched off, and then adds no listener to the
// instrumentation hub, so the producer pays nothing for it. The producer calls recordTime() for the
// calls Java times itself (flush, metadata waits, transactional calls) and error() for what error_cb
// hears; close() detaches what must not outlive the producer.
import type { ResolvedProducerConfig } from '../config/index.js'
import type { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import {
  toPrometheusText,
  type Metric,
  type ProducerMetrics,
  type TimedCall,
} from '../observability/metrics/index.js'
import type { Statistics } from '../observability/statistics/index.js'
import type { Clock } from '../util/clock.js'
import type { BufferLimits } from './buffer-limits.js'
import { setupLogging, type ProducerLogging } from './logging-setup.js'
import { createProducerMetrics } from './metrics-binding.js'
import { createStatisticsEmitter, type StatisticsEmitter } from './statistics-emitter.js'

type StatisticsParts = Parameters<typeof createStatisticsEmitter>[4]

export class ProducerObservers {
  private readonly logging: ProducerLogging | null
  private readonly meters: ProducerMetrics | null
  private stats: StatisticsEmitter | null = null

  /** Logging and metrics start at once: the first log line and the first count come from the constructor on. */
  constructor(
    private readonly c: ResolvedProducerConfig,
    private readonly clock: Clock,
    private readonly events: Instrumentation,
    limits: BufferLimits,
  ) {
    this.logging = setupLogging(c, events)
    this.meters = createProducerMetrics(c, clock, events, limits)
  }

  /** Statistics read the producer's parts, so they start once the parts exist. */
  startStatistics(onError: (err: KafkaError) => void, parts: StatisticsParts): void {
    this.stats = createStatisticsEmitter(this.c, this.clock, this.events, onError, parts)
  }

  /** A call Java times (`<call>-time-ns-total`): flush, a metadata wait, a transactional call. */
  recordTime(call: TimedCall, ms: number): void {
    this.meters?.recordTime(call, ms)
  }

  /** An error error_cb hears, for the logger (librdkafka logs errors without a debug context). */
  error(err: KafkaError): void {
    this.logging?.error(err)
  }

  metrics(): readonly Metric[] {
    return this.meters?.read() ?? []
  }

  prometheus(): string {
    return toPrometheusText(this.metrics())
  }

  statistics(): Statistics | null {
    return this.stats?.statistics ?? null
  }

  /** close() is done: no more statistics, and the log detaches from a hub that may outlive us. */
  close(): void {
    this.stats?.close()
    this.logging?.close()
  }
}
