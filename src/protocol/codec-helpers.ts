// Small runtime helpers shared by the generated message codecs (src/protocol/messages/).
import { KafkaError } from '../errors/index.js'
import type { Reader } from './reader.js'

/** Reads an array (int32 length, or compact uvarint length+1 in flexible versions, KIP-482). */
export function readArray<T>(r: Reader, compact: boolean, read: (r: Reader) => T): T[] {
  const n = compact ? r.compactArrayLength() : r.arrayLength()
  if (n < 0) throw new KafkaError('_BAD_MSG', 'Unexpected null array')
  const out = new Array<T>(n)
  for (let i = 0; i < n; i++) out[i] = read(r)
  return out
}

export function readNullableArray<T>(r: Reader, compact: boolean, read: (r: Reader) => T): T[] | null {
  const n = compact ? r.compactArrayLength() : r.arrayLength()
  if (n < 0) return null
  const out = new Array<T>(n)
  for (let i = 0; i < n; i++) out[i] = read(r)
  return out
}

/** True for the all-zero UUID, the default of uuid fields (Kafka's Uuid.ZERO_UUID). */
export function isZeroUuid(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false
  return true
}

/** A null value in a version where the field is not nullable: the schema forbids it. */
export function nullField(path: string, version: number): KafkaError {
  return new KafkaError('_INVALID_ARG', `${path} must not be null in version ${version}`)
}
