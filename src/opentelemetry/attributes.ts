// The OpenTelemetry messaging semantic conventions a Kafka producer's spans and metrics carry:
// https://opentelemetry.io/docs/specs/semconv/messaging/kafka/ and .../messaging/messaging-spans/,
// .../messaging/messaging-metrics/ (semantic-conventions v1.45.0, status Development). v1.45.0
// renamed three attributes (messaging.system → messaging.system.name, messaging.kafka.offset →
// kafka.offset, messaging.kafka.message.key → kafka.message.key); backends and dashboards still key
// on the older names, so both are set, as the conventions' `messaging/dup` migration mode does.
// Written out here rather than imported from @opentelemetry/semantic-conventions: its incubating
// entry point is not meant to be a runtime dependency, and these are plain strings.

export const MESSAGING_SYSTEM = 'messaging.system'
export const MESSAGING_SYSTEM_NAME = 'messaging.system.name'
export const MESSAGING_OPERATION_NAME = 'messaging.operation.name'
/** `send` since v1.45.0 (`publish` before it, now deprecated). */
export const MESSAGING_OPERATION_TYPE = 'messaging.operation.type'
export const MESSAGING_DESTINATION_NAME = 'messaging.destination.name'
export const MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id'
export const MESSAGING_CLIENT_ID = 'messaging.client.id'
export const MESSAGING_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key'
export const KAFKA_MESSAGE_KEY = 'kafka.message.key'
export const MESSAGING_KAFKA_OFFSET = 'messaging.kafka.offset'
export const KAFKA_OFFSET = 'kafka.offset'
export const MESSAGING_KAFKA_MESSAGE_TOMBSTONE = 'messaging.kafka.message.tombstone'
export const KAFKA_MESSAGE_TOMBSTONE = 'kafka.message.tombstone'
export const ERROR_TYPE = 'error.type'
export const SERVER_ADDRESS = 'server.address'
export const SERVER_PORT = 'server.port'

/** Counter: messages the producer attempted to send, counted at their delivery report. */
export const METRIC_SENT_MESSAGES = 'messaging.client.sent.messages'
/** Histogram, seconds: from produce()/send() to the delivery report. */
export const METRIC_OPERATION_DURATION = 'messaging.client.operation.duration'
/** The bucket boundaries the conventions advise for messaging.client.operation.duration. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]
