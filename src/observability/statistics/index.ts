// librdkafka-compatible statistics (statistics.interval.ms, stats_cb): docs/statistics.md.
export { StatisticsCollector, type StatisticsCollectorOptions } from './collector.js'
export type {
  BrokerSnapshot,
  EosSnapshot,
  PartitionSnapshot,
  StatisticsProbe,
  StatisticsSnapshot,
} from './snapshot.js'
export {
  NOT_APPLICABLE,
  type BrokerState,
  type BrokerStatistics,
  type EosStatistics,
  type IdempotenceStateName,
  type PartitionStatistics,
  type Statistics,
  type StatisticsSection,
  type TopicStatistics,
  type TopparStatistics,
  type TransactionStateName,
  type WindowStats,
} from './types.js'
export { Window, hdrCountsBytes } from './window.js'
