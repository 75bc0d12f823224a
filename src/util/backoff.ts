import type { RandomSource } from './random.js'

/**
 * Exponential backoff with ±20 % jitter, as the Java client does for reconnects and retries
 * (KIP-144 for reconnect.backoff.max.ms, KIP-580 for retry.backoff.max.ms): the first wait is
 * `base`, each further attempt doubles it up to `max`. Jitter spreads reconnect storms after a
 * broker restart.
 */
export function backoffMs(attempt: number, base: number, max: number, random: RandomSource): number {
  if (base <= 0) return 0
  const exp = base * Math.pow(2, Math.max(0, attempt - 1))
  const capped = Math.min(exp, Math.max(base, max))
  const jitter = 0.8 + random() * 0.4
  return Math.max(0, Math.round(capped * jitter))
}
