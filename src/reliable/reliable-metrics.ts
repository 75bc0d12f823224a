import { MetricsRegistry, named, type Metric } from '../observability/metrics/index.js'
import type { Clock } from '../util/clock.js'
import type { ReliableProducerStats } from './types.js'

/** The ReliableProducer's own metrics' group (docs/metrics.md); Java has no such producer. */
export const RELIABLE_GROUP = 'reliable-producer-metrics'

const m = (name: string, description: string) => ({ name, group: RELIABLE_GROUP, description })

const ROUTED = m('record-dead-lettered-total', 'The total number of records written to a dead-letter topic.')
const SPOOLED = m(
  'record-spooled-total',
  'The total number of records appended to the local spool because their dead-letter write failed.',
)
const REPLAYED = m(
  'record-replayed-total',
  'The total number of spooled records acknowledged by their original topic during replaySpool().',
)
const DLQ_ERRORS = m('dead-letter-error-total', 'The total number of dead-letter writes that failed.')
const PENDING = m('send-pending', 'The number of send() calls without an outcome yet.')

/**
 * The ReliableProducer's counters (its `stats`) as metrics of the group reliable-producer-metrics,
 * tagged with the data producer's client-id: cumulative counts read when the metrics are read, so
 * they cost nothing on the send path.
 */
export class ReliableMetrics {
  private readonly registry = new MetricsRegistry({ sampleWindowMs: 30_000, numSamples: 2 })

  constructor(
    clientId: string,
    stats: () => ReliableProducerStats,
    pending: () => number,
    private readonly clock: Clock,
  ) {
    const tags = { 'client-id': clientId }
    this.registry.gauge(named(ROUTED, tags), () => stats().routed)
    this.registry.gauge(named(SPOOLED, tags), () => stats().spooled)
    this.registry.gauge(named(REPLAYED, tags), () => stats().replayed)
    this.registry.gauge(named(DLQ_ERRORS, tags), () => stats().deadLetterFailures)
    this.registry.gauge(named(PENDING, tags), pending)
  }

  read(): Metric[] {
    return this.registry.read(this.clock.now())
  }
}
