import type { ResolvedProducerConfig } from '../config/index.js'
import type { Instrumentation } from '../observability/events.js'
import { ProducerMetrics } from '../observability/metrics/index.js'
import type { Clock } from '../util/clock.js'
import type { BufferLimits } from './buffer-limits.js'

/**
 * The producer's metrics (docs/metrics.md), or null with metrics.enable=false: then no listener is
 * added to the instrumentation hub and the buffer has no observer, so metrics cost nothing. The
 * buffer gauges read BufferLimits (Java's BufferPool: availableMemory, totalMemory, queued).
 */
export function createProducerMetrics(
  c: ResolvedProducerConfig,
  clock: Clock,
  events: Instrumentation,
  limits: BufferLimits,
): ProducerMetrics | null {
  if (!c.metricsEnable) return null
  const metrics = new ProducerMetrics(events, {
    clientId: c.clientId,
    clock,
    window: { sampleWindowMs: c.metricsSampleWindowMs, numSamples: c.metricsNumSamples },
    buffer: {
      totalBytes: c.bufferMemory,
      availableBytes: () => limits.availableBytes,
      waiting: () => limits.waiting,
    },
  })
  limits.observer = {
    waited: (ms) => metrics.recordBufferWait(ms),
    exhausted: () => metrics.recordBufferExhausted(),
  }
  return metrics
}
