// Debug logging: the `logger` option's contract, librdkafka's debug contexts, and the subscriber
// that turns instrumentation events into log lines (docs/logging.md).
export { LOG_LEVELS, LogSink, sanitize, stderrLogger, type LogLevel, type Logger } from './logger.js'
export { DEBUG_CONTEXTS, expandContexts, type DebugContext } from './contexts.js'
export { attachDebugLog } from './debug-log.js'
