// The bottom layer: the error class and the table of Kafka's error codes. Every other layer may import
// it; it imports nothing from src/.
export { ErrorCode } from './error-code.js'
export { AUTHENTICATION_ERRORS } from './error-table.js'
export type { BrokerErrorName, KafkaErrorCode, LocalErrorName } from './error-table.js'
export { KafkaError, allErrorInfos, errorInfo } from './kafka-error.js'
export type { ErrorInfo, KafkaErrorOptions } from './kafka-error.js'
