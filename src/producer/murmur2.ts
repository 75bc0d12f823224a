import { utf8Scratch } from '../protocol/index.js'

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** One 4-byte block (little-endian) mixed into `h`. */
function mix(h: number, k: number): number {
  k = Math.imul(k, M)
  k ^= k >>> R
  k = Math.imul(k, M)
  return Math.imul(h, M) ^ k
}

/** The last `rem` (0-3) bytes and the final avalanche. Java's switch falls through 3, 2, 1 in this order of xors. */
function finish(h: number, rem: number, b0: number, b1: number, b2: number): number {
  if (rem > 0) {
    if (rem === 3) h ^= b2 << 16
    if (rem >= 2) h ^= b1 << 8
    h ^= b0
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/**
 * Java's `org.apache.kafka.common.utils.Utils.murmur2`, bit for bit, so that a keyed record lands on the same
 * partition as it would with the Java client, KafkaJS's Java-compatible partitioner and librdkafka's `murmur2`
 * partitioners. Seed and constants are Java's; the result is the signed 32-bit int Java returns.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    h = mix(h, data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24))
  }
  const t = length & ~3
  const rem = length & 3
  return finish(h, rem, rem > 0 ? data[t]! : 0, rem > 1 ? data[t + 1]! : 0, rem > 2 ? data[t + 2]! : 0)
}

/**
 * {@link murmur2} of the UTF-8 bytes of `s`, without encoding it when it is ASCII (one byte per
 * code unit, read with charCodeAt): a string key is hashed with no Buffer allocated. A string with
 * any other character is encoded into a shared scratch buffer and hashed from there.
 */
export function murmur2String(s: string): number {
  const length = s.length
  let h = (SEED ^ length) | 0
  // Every code unit ORed together: above 0x7f, some unit is not ASCII and the bytes differ.
  let units = 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    const c0 = s.charCodeAt(i4)
    const c1 = s.charCodeAt(i4 + 1)
    const c2 = s.charCodeAt(i4 + 2)
    const c3 = s.charCodeAt(i4 + 3)
    units |= c0 | c1 | c2 | c3
    h = mix(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24))
  }
  const t = length & ~3
  const rem = length & 3
  const b0 = rem > 0 ? s.charCodeAt(t) : 0
  const b1 = rem > 1 ? s.charCodeAt(t + 1) : 0
  const b2 = rem > 2 ? s.charCodeAt(t + 2) : 0
  units |= b0 | b1 | b2
  if (units > 0x7f) return murmur2(utf8Scratch(s))
  return finish(h, rem, b0, b1, b2)
}

/**
 * Java's `Utils.toPositive`: clears the sign bit instead of `Math.abs`, which would leave
 * Integer.MIN_VALUE negative. Used on hash results before the modulo.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}
