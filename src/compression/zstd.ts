// Zstandard for Kafka (KIP-110, brokers 2.1+): standard zstd frames (magic 28 B5 2F FD), as the Java
// client writes them through zstd-jni. node:zlib has zstd since Node 22.15 / 23.8 (so on Node 24);
// older Nodes use the optional package @toondepauw/node-zstd (napi-rs, prebuilt binaries).
import * as zlib from 'node:zlib'
import { KafkaError } from '../errors/index.js'
import type { Codec } from './codec.js'
import { loadOptional } from './optional.js'

/** The zstd part of node:zlib on Node >= 22.15 (absent from @types/node 20). */
interface ZlibZstd {
  zstdCompressSync(data: Buffer, options?: { params?: Record<number, number> }): Buffer
  zstdCompress(
    data: Buffer,
    options: { params?: Record<number, number> },
    callback: (err: Error | null, out: Buffer) => void,
  ): void
  zstdDecompressSync(data: Buffer): Buffer
  constants: { ZSTD_c_compressionLevel: number }
}

/** @toondepauw/node-zstd 2.x: an Encoder is bound to one level; both classes also have async methods. */
interface NodeZstd {
  Encoder: new (level: number, dictionary?: Buffer | null) => ZstdEncoder
  Decoder: new (dictionary?: Buffer | null) => { decodeSync(data: Buffer): Buffer }
}

interface ZstdEncoder {
  encodeSync(data: Buffer): Buffer
  encode(data: Buffer): Promise<Buffer>
}

export type ZstdImplementation = 'zlib' | 'package'

export const ZSTD_PACKAGE = '@toondepauw/node-zstd'
/** zstd's ZSTD_CLEVEL_DEFAULT, also the Java client's default (KIP-390). */
export const ZSTD_DEFAULT_LEVEL = 3

function zlibZstd(): ZlibZstd | null {
  const z = zlib as unknown as Partial<ZlibZstd>
  return typeof z.zstdCompressSync === 'function' &&
    typeof z.zstdCompress === 'function' &&
    typeof z.zstdDecompressSync === 'function'
    ? (z as ZlibZstd)
    : null
}

/** Whether this Node has zstd in node:zlib (Node >= 22.15). */
export function hasZlibZstd(): boolean {
  return zlibZstd() !== null
}

function badData(err: unknown): KafkaError {
  return new KafkaError('_BAD_MSG', `Invalid zstd data: ${(err as Error).message}`, { cause: err })
}

/**
 * The zstd codec, from node:zlib when this Node has it, else from the optional package.
 * `implementation` forces one (tests compare both).
 */
export function createZstdCodec(implementation?: ZstdImplementation): Codec {
  const z = zlibZstd()
  const impl = implementation ?? (z !== null ? 'zlib' : 'package')
  if (impl === 'zlib') {
    if (z === null) {
      throw new KafkaError(
        '_NOT_IMPLEMENTED',
        `node:zlib has no zstd in Node ${process.version} (it needs Node >= 22.15)`,
      )
    }
    const levelKey = z.constants.ZSTD_c_compressionLevel
    return {
      name: 'zstd',
      attribute: 4,
      compress: (data, level) =>
        z.zstdCompressSync(data, { params: { [levelKey]: level ?? ZSTD_DEFAULT_LEVEL } }),
      compressAsync: (data, level) =>
        new Promise((resolve, reject) =>
          z.zstdCompress(data, { params: { [levelKey]: level ?? ZSTD_DEFAULT_LEVEL } }, (err, out) =>
            err ? reject(err) : resolve(out),
          ),
        ),
      decompress: (data) => {
        try {
          return z.zstdDecompressSync(data)
        } catch (err) {
          throw badData(err)
        }
      },
    }
  }
  const pkg = loadOptional<NodeZstd>(ZSTD_PACKAGE, 'zstd')
  const encoders = new Map<number, ZstdEncoder>()
  const encoderFor = (level: number): ZstdEncoder => {
    let encoder = encoders.get(level)
    if (encoder === undefined) {
      encoder = new pkg.Encoder(level)
      encoders.set(level, encoder)
    }
    return encoder
  }
  const decoder = new pkg.Decoder()
  return {
    name: 'zstd',
    attribute: 4,
    compress: (data, level = ZSTD_DEFAULT_LEVEL) => encoderFor(level).encodeSync(data),
    compressAsync: (data, level = ZSTD_DEFAULT_LEVEL) => encoderFor(level).encode(data),
    decompress: (data) => {
      try {
        return decoder.decodeSync(data)
      } catch (err) {
        throw badData(err)
      }
    },
  }
}
