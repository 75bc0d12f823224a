// Codec registry for record batch compression. The attribute numbers are the RecordBatch attribute
// bits 0-2 (KIP-98): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (KIP-110).
// Only zero-dependency codecs are registered here; snappy, lz4 and zstd register themselves later.
import { KafkaError } from '../protocol/errors.js'
import { gzipCodec, noneCodec } from './builtin.js'

export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface Codec {
  readonly name: CompressionType
  readonly attribute: number
  compress(data: Buffer, level?: number): Buffer
  decompress(data: Buffer): Buffer
}

const ATTRIBUTE_NAMES: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const registry = new Map<CompressionType, Codec>()

export function registerCodec(codec: Codec): void {
  if (ATTRIBUTE_NAMES[codec.attribute] !== codec.name) {
    throw new KafkaError(
      '_INVALID_ARG',
      `Codec ${codec.name} must use attribute ${ATTRIBUTE_NAMES.indexOf(codec.name)}`,
    )
  }
  registry.set(codec.name, codec)
}

export function getCodec(name: CompressionType): Codec {
  const codec = registry.get(name)
  if (codec === undefined) {
    throw new KafkaError(
      '_NOT_IMPLEMENTED',
      `Compression codec '${name}' is not available yet in this client`,
    )
  }
  return codec
}

/** The codec for a RecordBatch attributes value (only bits 0-2 are looked at). */
export function codecForAttribute(attr: number): Codec {
  const name = ATTRIBUTE_NAMES[attr & 0x07]
  if (name === undefined) throw new KafkaError('_BAD_MSG', `Unknown compression attribute ${attr & 0x07}`)
  return getCodec(name)
}

registerCodec(noneCodec)
registerCodec(gzipCodec)
