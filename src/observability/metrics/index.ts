// Java-named metrics (docs/metrics.md): sampled stats, a registry, the producer's metric set and the
// Prometheus text exposition.
export type { Metric, MetricName } from './registry.js'
export { MetricsRegistry, Sensor, named, type MetricTemplate } from './registry.js'
export { Avg, CumulativeCount, CumulativeSum, Max, Rate, WindowedCount, WindowedSum } from './stats.js'
export type { Measurable, MetricWindow, Stat } from './stats.js'
export { ProducerMetrics, type BufferGauges, type ProducerMetricsOptions } from './producer-metrics.js'
export { NODE_GROUP, PRODUCER_GROUP, TOPIC_GROUP, type TimedCall } from './producer-metric-names.js'
export { prometheusName, toPrometheusText } from './prometheus.js'
