// Public exports only: everything a user imports comes from here.
export { Producer, type ProducerDependencies } from './producer/producer.js'
export type {
  DeliveryCallback,
  DeliveryReport,
  ProducerRecord,
  RecordData,
  RecordHeaders,
} from './producer/record.js'
export {
  murmur2,
  toPositive,
  type PartitionerFunction,
  type PartitionerSetting,
} from './producer/partitioner.js'
export { KafkaError, errorInfo, type ErrorInfo } from './errors/index.js'
export { ConfigError, presets, type ProducerConfig } from './config/index.js'
export { Admin, type AdminOptions, type NewTopic } from './admin/admin.js'
export type { CompressionType } from './compression/index.js'
