// reliable-kafka/opentelemetry: tracing and metrics through @opentelemetry/api, an optional peer
// dependency. Only this entry point imports it; `reliable-kafka` itself never does, so an
// application without OpenTelemetry loads nothing of it (docs/opentelemetry.md).
export { INSTRUMENTATION_SCOPE, instrumentProducer, type InstrumentProducerOptions } from './instrument.js'
