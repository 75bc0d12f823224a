// Codec registry for record batch compression. The attribute numbers are the RecordBatch attribute
// bits 0-2 (KIP-98): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (KIP-110).
// none and gzip need no dependency; codecs backed by an optional package load on first use.
import { KafkaError } from '../protocol/errors.js'
import { gzipCodec, noneCodec } from './builtin.js'
import { createLz4Codec } from './lz4.js'

export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface Codec {
  readonly name: CompressionType
  readonly attribute: number
  compress(data: Buffer, level?: number): Buffer
  decompress(data: Buffer): Buffer
}

const ATTRIBUTE_NAMES: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const registry = new Map<CompressionType, Codec>()
/** Codecs whose package is loaded the first time they are asked for. */
const lazy = new Map<CompressionType, () => Codec>([['lz4', createLz4Codec]])

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
  let codec = registry.get(name)
  const load = lazy.get(name)
  if (codec === undefined && load) {
    codec = load()
    registerCodec(codec)
  }
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
