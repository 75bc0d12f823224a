// Codec registry for record batch compression. The attribute numbers are the RecordBatch attribute
// bits 0-2 (KIP-98): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (KIP-110).
// none and gzip need no dependency; codecs backed by an optional package load on first use:
// snappy (package `snappy`), lz4 (`lz4-napi`), zstd (node:zlib on Node >= 22.15, else
// `@toondepauw/node-zstd`).
//
// Levels (compression.level, KIP-390): `getCodec(name, level)` gives a codec bound to a level. gzip
// (0-9) and zstd (1-22) honour it; snappy has no levels, and lz4-napi's frame encoder takes none, so
// lz4 batches are always written at its single (fast) level.
import { KafkaError } from '../errors/index.js'
import { gzipCodec, noneCodec } from './builtin.js'
import type { Codec, CompressionType } from './codec.js'
import { createLz4Codec } from './lz4.js'
import { createSnappyCodec } from './snappy.js'
import { createZstdCodec } from './zstd.js'

export type { Codec, CompressionType } from './codec.js'

const ATTRIBUTE_NAMES: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const registry = new Map<CompressionType, Codec>()
/** Codecs whose package is loaded the first time they are asked for. */
const lazy = new Map<CompressionType, () => Codec>([
  ['snappy', createSnappyCodec],
  ['lz4', createLz4Codec],
  ['zstd', () => createZstdCodec()],
])

export function registerCodec(codec: Codec): void {
  if (ATTRIBUTE_NAMES[codec.attribute] !== codec.name) {
    throw new KafkaError(
      '_INVALID_ARG',
      `Codec ${codec.name} must use attribute ${ATTRIBUTE_NAMES.indexOf(codec.name)}`,
    )
  }
  registry.set(codec.name, codec)
}

/**
 * The codec for `name`, loading its optional package on first use (a missing package is
 * `_NOT_IMPLEMENTED`, naming the package and its npm install command). With a `level` (null or
 * undefined: the codec's default), the codec returned compresses at that level when `compress` is
 * called without one, so the record batch builder needs no level of its own.
 */
export function getCodec(name: CompressionType, level?: number | null): Codec {
  const codec = loadCodec(name)
  if (level === undefined || level === null) return codec
  const compressAsync = codec.compressAsync?.bind(codec)
  return {
    name: codec.name,
    attribute: codec.attribute,
    compress: (data, l) => codec.compress(data, l ?? level),
    ...(compressAsync && { compressAsync: (data: Buffer, l?: number) => compressAsync(data, l ?? level) }),
    decompress: (data) => codec.decompress(data),
  }
}

function loadCodec(name: CompressionType): Codec {
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
