// Warnings for configuration keys that are accepted but have no effect yet (the resolved
// configuration's notImplemented list): a key silently ignored is a surprise found in production,
// so each one is said once per process, where Node reports warnings.
import { KEY_INDEX } from './catalogue.js'
import type { ResolvedProducerConfig } from './resolve.js'

/** The `type` of every warning this package emits (a `process.on('warning')` listener can filter on it). */
export const WARNING_TYPE = 'ReliableKafkaWarning'

/** The `code` of the warning for a key that is accepted but has no effect yet. */
export const NOT_IMPLEMENTED_WARNING_CODE = 'RK_CONFIG_NOT_IMPLEMENTED'

/** Canonical names already warned about in this process. */
const warned = new Set<string>()

/**
 * Emits one `process.emitWarning` per key of `config.notImplemented` not warned about before in this
 * process (under any of its spellings), saying what the key does not do yet. Node prints warnings to
 * stderr unless the process runs with --no-warnings or has a 'warning' listener of its own.
 */
export function warnNotImplemented(config: ResolvedProducerConfig): void {
  for (const key of config.notImplemented) {
    const entry = KEY_INDEX.get(key)?.entry
    if (entry === undefined || entry.implemented === true || warned.has(entry.name)) continue
    warned.add(entry.name)
    process.emitWarning(`Config key '${key}' has no effect yet: ${entry.implemented}`, {
      type: WARNING_TYPE,
      code: NOT_IMPLEMENTED_WARNING_CODE,
      detail: 'See the Implemented column of docs/configuration.md.',
    })
  }
}
