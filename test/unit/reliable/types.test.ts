// Type tests of ReliableProducer's public types (src/index.ts), as test/unit/types.test.ts does for
// the producer: compiled by `npm run build`, never called; each `@ts-expect-error` line must fail to
// compile, every other line must compile.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DeadLetterError,
  KafkaError,
  ReliableProducer,
  type DeadLetterEnvelope,
  type ReliableProducerStats,
  type ReliableSendResult,
  type SpoolEntry,
} from '../../../src/index.js'
// @ts-expect-error the constructor's test seams are not public
import type { ReliableProducerDependencies } from '../../../src/index.js'

/** send()'s result is told apart by `'deadLettered' in r`, then by `deadLettered`. */
export function outcomes(r: ReliableSendResult): string {
  // @ts-expect-error dlq exists only on a dead-letter outcome
  void r.dlq
  if (!('deadLettered' in r)) return `${r.topic}[${r.partition}]@${r.offset}`
  if (r.deadLettered) {
    // @ts-expect-error a dead-lettered outcome has no deadLetterError
    void r.deadLetterError
    return `${r.dlq.topic} ${r.error.code} ${r.truncated}`
  }
  const spooled: true = r.spooled
  return `${r.id} ${r.deadLetterError.code} ${spooled}`
}

/** Options are typed; stats are read-only; the hook gets the spool entry. */
export function options(rp: ReliableProducer): ReliableProducerStats {
  new ReliableProducer(
    { 'bootstrap.servers': 'k:9092' },
    {
      deadLetterTopic: (t) => `${t}.failed`,
      onDeadLetterFailure: (entry: SpoolEntry, err: KafkaError) => void [entry.envelope.error_code, err.code],
      spool: { path: '/var/lib/x/spool.jsonl' },
    },
  )
  // @ts-expect-error deadLetterTopic is a suffix string or a function
  new ReliableProducer({ 'bootstrap.servers': 'k:9092' }, { deadLetterTopic: 5 })
  const stats = rp.stats
  // @ts-expect-error counters are read-only
  stats.routed = 1
  const env: DeadLetterEnvelope | undefined = undefined
  // @ts-expect-error the envelope's encodings are utf8 or base64
  const bad: DeadLetterEnvelope['original_key_encoding'] = 'hex'
  void [env, bad, null as unknown as ReliableProducerDependencies]
  return stats
}

describe('ReliableProducer types', () => {
  it('DeadLetterError is a KafkaError', () => {
    assert.equal(Object.getPrototypeOf(DeadLetterError.prototype), KafkaError.prototype)
    assert.equal(typeof outcomes, 'function')
    assert.equal(typeof options, 'function')
  })
})
