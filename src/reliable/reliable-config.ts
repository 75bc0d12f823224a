// The configuration a ReliableProducer runs its producers with: the user's, checked, with
// idempotence forced on. acks=all is the default already; what is checked is that nothing turns
// either off, because the promise "every record ends delivered, dead-lettered or spooled" rests on
// them: with acks 0 or 1 a record the broker acknowledged can still be lost in a leader failover,
// with no delivery error to route it by; without idempotence a retried batch can be written twice or
// out of order. A conflicting explicit setting is a ConfigError saying so, never silently changed.
// Also here: the check of the ReliableProducer's own options, and the dead-letter producer's
// configuration (the data producer's with the user's overrides on top).
import {
  ConfigError,
  KEY_INDEX,
  resolveProducerConfig,
  type ProducerConfig,
  type ResolvedProducerConfig,
} from '../config/index.js'
import type { ReliableProducerOptions } from './types.js'

/** The key the user wrote for the setting `name` (an alias, maybe), or `name` itself. */
function userKey(config: ProducerConfig, name: string): string {
  const given = config as Record<string, unknown>
  return Object.keys(given).find((k) => KEY_INDEX.get(k)?.entry.name === name && given[k] != null) ?? name
}

/**
 * `config` with `enable.idempotence: true`, after checking that it allows acks=all and idempotence.
 * `which` names the producer in messages ('ReliableProducer', or its dead-letter producer).
 * Throws the producer's own ConfigError for an invalid configuration.
 */
export function reliableConfig(config: ProducerConfig, which: string): ProducerConfig {
  const resolved: ResolvedProducerConfig = resolveProducerConfig(config)
  const refuse = (name: string, why: string): never => {
    const key = userKey(config, name)
    throw new ConfigError(key, `${which}: config key '${key}' ${why}`)
  }
  if (resolved.transactionalId !== null) {
    refuse(
      'transactional.id',
      'is not supported: ReliableProducer writes and dead-letters each record on its own, outside ' +
        'transactions (a transactional producer refuses records outside one)',
    )
  }
  if (resolved.acks !== -1) {
    refuse(
      'acks',
      `is ${resolved.acks}, but ReliableProducer forces acks=all: with fewer acknowledgements a record the ` +
        'broker acknowledged can be lost in a leader failover with no delivery error, so it would be ' +
        "neither delivered nor dead-lettered. Remove it or set it to 'all'",
    )
  }
  if (!resolved.enableIdempotence) {
    if (resolved.enableIdempotenceExplicit) {
      refuse(
        'enable.idempotence',
        'is false, but ReliableProducer forces idempotence on: without it a retried batch can be ' +
          'written twice or out of order. Remove it or set it to true',
      )
    }
    // Turned off silently by one of these (config/resolve.ts, checkIdempotenceRules).
    if (resolved.retries <= 0) {
      refuse('retries', 'is 0, which turns idempotence off; ReliableProducer needs it on. Remove it')
    }
    refuse(
      'max.in.flight.requests.per.connection',
      `is ${resolved.maxInFlight}, which turns idempotence off (it allows at most 5); ReliableProducer ` +
        'needs it on. Set it to 5 or less',
    )
  }
  return { ...config, 'enable.idempotence': true }
}

/**
 * `base` with `over` on top, where a key of `over` replaces the key of `base` that names the same
 * setting under another spelling (`linger.ms` and `queue.buffering.max.ms`), which the producer
 * would otherwise refuse as two values for one setting.
 */
export function overlayConfig(base: ProducerConfig, over: ProducerConfig | undefined): ProducerConfig {
  if (over === undefined) return base
  const names = new Set(Object.keys(over).map((k) => KEY_INDEX.get(k)?.entry.name ?? k))
  const kept = Object.entries(base).filter(([k]) => !names.has(KEY_INDEX.get(k)?.entry.name ?? k))
  return { ...Object.fromEntries(kept), ...over } as ProducerConfig
}

/** Checks the ReliableProducer's own options; a wrong one is a ConfigError naming it. */
export function checkOptions(options: ReliableProducerOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('', 'ReliableProducer options must be an object')
  }
  const t = options.deadLetterTopic
  if (t !== undefined && typeof t !== 'function' && (typeof t !== 'string' || t === '')) {
    throw new ConfigError(
      'deadLetterTopic',
      'deadLetterTopic must be a non-empty suffix (default ".dlq") or a function of the topic: an empty ' +
        'suffix would send failed records back to the topic that refused them',
    )
  }
  const max = options.deadLetterMaxBytes
  if (max !== undefined && (!Number.isInteger(max) || max <= 0)) {
    throw new ConfigError('deadLetterMaxBytes', `deadLetterMaxBytes must be a positive integer, not ${max}`)
  }
  const spool = options.spool
  if (spool !== undefined && (spool === null || typeof spool.path !== 'string' || spool.path === '')) {
    throw new ConfigError('spool', 'spool must be { path: string } with the path of the spool file')
  }
  for (const fn of ['onDeadLetterFailure', 'serialize'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') {
      throw new ConfigError(fn, `${fn} must be a function`)
    }
  }
}
