// Public exports only: everything a user imports comes from here.
// Not ProducerDependencies: the constructor's second argument is a seam for tests (manual clock,
// seeded randomness, in-memory or fault-injecting transports), free to change between releases;
// tests import it from src/producer/producer.ts (docs/architecture.md, Rules).
export { Producer } from './producer/producer.js'
export type {
  CloseOptions,
  ConnectOptions,
  FlushOptions,
  PartitionMetadata,
  PartitionsForOptions,
  SendOptions,
} from './producer/options.js'
export type {
  DeliveryCallback,
  DeliveryReport,
  ProducerRecord,
  RecordData,
  RecordHeaders,
} from './producer/record.js'
// producer.createWriteStream(): the stream's class is exported as a type only (made by the producer).
export type {
  DeliveryErrorAction,
  ProducerWriteStream,
  WriteStreamChunk,
  WriteStreamOptions,
  WriteStreamRecord,
} from './producer/write-stream.js'
export type { ConsumerGroupMetadata, TransactionOffset, TransactionState } from './transactions/index.js'
export {
  murmur2,
  toPositive,
  type PartitionerFunction,
  type PartitionerSetting,
} from './producer/partitioner.js'
export {
  KafkaError,
  errorInfo,
  type BrokerErrorName,
  type ErrorInfo,
  type KafkaErrorCode,
  type LocalErrorName,
} from './errors/index.js'
export {
  ConfigError,
  presets,
  type Logger,
  type PresetName,
  type ProducerConfig,
  type ResolvedProducerConfig,
  type OAuthBearerToken,
  type OAuthCallback,
  type SaslMechanism,
  type SecurityProtocol,
  type StoreType,
  type TlsConnectionOptions,
} from './config/index.js'
export { Admin, type AdminOptions, type NewTopic } from './admin/admin.js'
export type { CompressionType } from './compression/index.js'
// The instrumentation seam: events of records, batches, requests and connections (see docs/architecture.md).
export {
  Instrumentation,
  PRODUCER_EVENT_NAMES,
  type BatchAnsweredEvent,
  type BatchBuiltEvent,
  type BatchRetriedEvent,
  type BatchSentEvent,
  type ConnectionClosedEvent,
  type ConnectionFailedEvent,
  type ConnectionOpenedEvent,
  type EventGate,
  type InstrumentationOptions,
  type MetadataBroker,
  type MetadataTopic,
  type MetadataUpdatedEvent,
  type ProducerClosedEvent,
  type ProducerConnectedEvent,
  type ProducerEventListener,
  type ProducerEventName,
  type ProducerEvents,
  type ProducerFatalEvent,
  type ProducerIdEvent,
  type RecordAcceptedEvent,
  type RecordDeliveredEvent,
  type RecordFailedEvent,
  type RequestAnsweredEvent,
  type RequestFailedEvent,
  type RequestSentEvent,
  type TransactionStateEvent,
} from './observability/events.js'
// Java-named metrics and their Prometheus text exposition (docs/metrics.md).
export { toPrometheusText, type Metric, type MetricName } from './observability/metrics/index.js'

// librdkafka-compatible statistics: stats_cb's JSON, typed, and what does not apply (docs/statistics.md).
export {
  NOT_APPLICABLE as STATISTICS_NOT_APPLICABLE,
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
} from './observability/statistics/index.js'
// The reliability layer: dead-letter topics and the local spool (docs/reliability.md).
export { ReliableProducer } from './reliable/reliable-producer.js'
export { DeadLetterError } from './reliable/dead-letter-error.js'
export type {
  DeadLetterFailureHook,
  DeadLetterOutcome,
  DeadLetterTopic,
  DeadLetteredOutcome,
  ReliableProducerOptions,
  ReliableProducerStats,
  ReliableSendOptions,
  ReliableSendResult,
  SpooledOutcome,
} from './reliable/types.js'
export type {
  DeadLetterEnvelope,
  EnvelopeEncoding,
  EnvelopeHeader,
  SpoolEntry,
} from './reliable/envelope-types.js'
export type { ReplayResult } from './reliable/spool-port.js'
