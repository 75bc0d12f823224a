// librdkafka's debug contexts (CONFIGURATION.md, `debug`), the subset a producer has: which events of
// the instrumentation hub each one turns into log lines. librdkafka has more (consumer, cgrp, fetch,
// ...): they are consumer-side and not accepted by the configuration.
import type { ProducerEventName } from '../events.js'

export type DebugContext =
  | 'generic'
  | 'broker'
  | 'topic'
  | 'metadata'
  | 'feature'
  | 'queue'
  | 'msg'
  | 'protocol'
  | 'security'
  | 'eos'
  | 'conf'

/** Every context `all` stands for. */
export const DEBUG_CONTEXTS: readonly DebugContext[] = [
  'generic',
  'broker',
  'topic',
  'metadata',
  'feature',
  'queue',
  'msg',
  'protocol',
  'security',
  'eos',
  'conf',
]

/**
 * The events each context listens to. `feature` and `security` hear requests too, but log only the
 * ones they are about (ApiVersions; SaslHandshake and SaslAuthenticate). `conf` has no event: the
 * configuration is logged once, when the producer is made.
 */
export const CONTEXT_EVENTS: Readonly<Record<DebugContext, readonly ProducerEventName[]>> = {
  generic: ['producer.connected', 'producer.fatal', 'producer.closed'],
  broker: ['connection.opened', 'connection.closed', 'connection.failed'],
  topic: ['metadata.updated'],
  metadata: ['metadata.updated'],
  feature: ['request.answered'],
  queue: ['batch.built', 'batch.sent', 'batch.answered', 'batch.retried'],
  msg: [
    'record.accepted',
    'record.delivered',
    'record.failed',
    'batch.built',
    'batch.sent',
    'batch.answered',
    'batch.retried',
  ],
  protocol: ['request.sent', 'request.answered', 'request.failed'],
  security: ['request.sent', 'request.answered', 'request.failed', 'connection.failed'],
  eos: ['producer.id', 'transaction.state'],
  conf: [],
}

/** The contexts a `debug` setting turns on (already validated by the configuration): `all` is every one. */
export function expandContexts(debug: readonly string[]): ReadonlySet<DebugContext> {
  if (debug.includes('all')) return new Set(DEBUG_CONTEXTS)
  return new Set(debug.filter((d): d is DebugContext => (DEBUG_CONTEXTS as readonly string[]).includes(d)))
}
