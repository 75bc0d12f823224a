// Test-only access to a Producer's private parts. The public surface offers read-only views
// (producer.producerId, producer.producerEpoch); tests that count epoch bumps or look at sequence
// bookkeeping read the IdempotenceState itself through here, never through the package.
import type { IdempotenceState } from '../../src/producer/idempotence.js'
import type { Producer } from '../../src/producer/producer.js'

/** The producer's IdempotenceState (null when enable.idempotence is off). */
export function idempotenceOf(producer: Producer): IdempotenceState | null {
  // Element access reaches a TypeScript `private` member and is still type-checked: a renamed
  // field fails to compile here.
  return producer['idempotence']
}
