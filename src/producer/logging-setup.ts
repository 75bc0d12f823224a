// The producer's side of logging (docs/logging.md): picks the logger, turns the `debug` setting into
// subscriptions on the instrumentation hub (src/observability/logging/), logs the configuration for
// the `conf` context, and gives the producer the one call it makes itself: error(), for what
// error_cb hears. Nothing here runs per record: with debug off no listener is added.
import { CATALOGUE, ConfigError, type ResolvedProducerConfig } from '../config/index.js'
import type { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import {
  LOG_LEVELS,
  LogSink,
  attachDebugLog,
  expandContexts,
  stderrLogger,
  type Logger,
} from '../observability/logging/index.js'

/** What the producer calls; null when there is nowhere to log (no `logger`, no `debug`). */
export interface ProducerLogging {
  /** An error error_cb hears, at error level (librdkafka logs its errors without any debug context). */
  error(err: KafkaError): void
  /** Unsubscribes from the hub (close() is done; a hub may outlive its producer). */
  close(): void
}

/**
 * Sets up logging for a producer, or returns null when neither `logger` nor `debug` is set: then the
 * producer logs nothing, as before either existed (a library should not write to stderr unasked).
 * Throws ConfigError for a `logger` that lacks one of debug, info, warn, error.
 */
export function setupLogging(c: ResolvedProducerConfig, events: Instrumentation): ProducerLogging | null {
  const contexts = expandContexts(c.debug)
  if (c.logger === null && contexts.size === 0) return null
  const sink = new LogSink(c.logger === null ? stderrLogger() : checkLogger(c.logger), c.clientId)
  if (contexts.has('conf')) {
    for (const [key, value] of configLines(c)) sink.write('debug', 'CONF', `${key} = ${value}`)
  }
  const detach = attachDebugLog(events, sink, contexts)
  return { error: (err) => sink.write('error', 'ERROR', `${err.code}: ${err.message}`), close: detach }
}

function checkLogger(logger: Logger): Logger {
  for (const level of LOG_LEVELS) {
    if (typeof (logger as unknown as Record<string, unknown>)[level] !== 'function') {
      throw new ConfigError('logger', `logger must have a ${level}() method (pino, winston, console...)`)
    }
  }
  return logger
}

/**
 * The configuration as `key = value` lines for the `conf` context, librdkafka's "Client
 * configuration" dump. A secret is never read: a `sensitive` key shows `[redacted]` when set (the
 * resolved configuration holds only that marker anyway, resolve.ts), functions and objects show
 * `[function]` / `[object]`, unset keys are left out.
 */
export function configLines(c: ResolvedProducerConfig): [string, string][] {
  const lines: [string, string][] = []
  const values = c as unknown as Readonly<Record<string, unknown>>
  for (const entry of CATALOGUE) {
    const value = values[entry.prop]
    if (value === null || value === undefined) continue
    let shown: string
    if (entry.sensitive) shown = '[redacted]'
    else if (entry.type === 'function' || typeof value === 'function') shown = '[function]'
    else if (entry.type === 'object' || (typeof value === 'object' && !Array.isArray(value)))
      shown = '[object]'
    else if (Array.isArray(value)) shown = value.join(',')
    else shown = String(value)
    lines.push([entry.name, shown])
  }
  return lines
}
