// Snappy for Kafka, as the Java client writes it: xerial snappy-java's SnappyOutputStream framing.
//
//   magic 82 53 4E 41 50 50 59 00 ("\x82SNAPPY\0") | int32 version 1 | int32 compatible version 1
//   then per block: int32 big-endian compressed length | raw snappy block of at most 32 KiB input
//
// Kafka's Java producer (SnappyOutputStream's default 32 KiB blocks) and librdkafka both write this.
// Decoding also accepts one plain raw snappy block without the header, as librdkafka and
// snappy-java's SnappyInputStream do (some producers send raw blocks). The framing is ours; the
// `snappy` package (napi-rs, prebuilt binaries) only compresses and decompresses raw blocks.
import { KafkaError } from '../errors/index.js'
import type { Codec } from './codec.js'
import { loadOptional } from './optional.js'

interface SnappyNapi {
  compressSync(data: Uint8Array): Buffer
  compress(data: Uint8Array): Promise<Buffer>
  uncompressSync(data: Uint8Array, options?: { asBuffer?: boolean }): string | Buffer
}

export const XERIAL_MAGIC: Buffer = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
export const XERIAL_HEADER_SIZE = 16
/** snappy-java's SnappyOutputStream.DEFAULT_BLOCK_SIZE, which Kafka's Java client uses. */
export const XERIAL_BLOCK_SIZE = 32 * 1024

const XERIAL_HEADER: Buffer = (() => {
  const h = Buffer.alloc(XERIAL_HEADER_SIZE)
  XERIAL_MAGIC.copy(h, 0)
  h.writeInt32BE(1, 8) // version
  h.writeInt32BE(1, 12) // compatible version
  return h
})()

/** True when `data` starts with the xerial header magic. */
export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
}

/** The xerial stream: header, then each raw snappy block behind its int32 length. */
function xerialFrame(blocks: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER]
  let size = XERIAL_HEADER_SIZE
  for (const block of blocks) {
    const len = Buffer.allocUnsafe(4)
    len.writeInt32BE(block.length, 0)
    parts.push(len, block)
    size += 4 + block.length
  }
  return Buffer.concat(parts, size)
}

export function createSnappyCodec(): Codec {
  const snappy = loadOptional<SnappyNapi>('snappy', 'snappy')

  const uncompressBlock = (block: Uint8Array): Buffer => {
    try {
      const out = snappy.uncompressSync(block, { asBuffer: true })
      return typeof out === 'string' ? Buffer.from(out) : out
    } catch (err) {
      throw new KafkaError('_BAD_MSG', `Invalid snappy data: ${(err as Error).message}`, { cause: err })
    }
  }

  return {
    name: 'snappy',
    attribute: 2,
    // Snappy has no levels (KIP-390 allows only 0): the level argument is ignored.
    compress: (data) => {
      const blocks: Buffer[] = []
      for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
        blocks.push(snappy.compressSync(data.subarray(at, at + XERIAL_BLOCK_SIZE)))
      }
      return xerialFrame(blocks)
    },
    compressAsync: async (data) => {
      const pending: Promise<Buffer>[] = []
      for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
        pending.push(snappy.compress(data.subarray(at, at + XERIAL_BLOCK_SIZE)))
      }
      return xerialFrame(await Promise.all(pending))
    },
    decompress: (data) => {
      if (!isXerialFramed(data)) return uncompressBlock(data)
      const parts: Buffer[] = []
      let at = XERIAL_HEADER_SIZE
      while (at < data.length) {
        if (data.length - at < 4) {
          throw new KafkaError('_BAD_MSG', `Truncated xerial snappy block length at byte ${at}`)
        }
        const len = data.readInt32BE(at)
        at += 4
        if (len < 0 || len > data.length - at) {
          throw new KafkaError(
            '_BAD_MSG',
            `Invalid xerial snappy block length ${len} at byte ${at - 4} (${data.length - at} bytes left)`,
          )
        }
        parts.push(uncompressBlock(data.subarray(at, at + len)))
        at += len
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    },
  }
}
