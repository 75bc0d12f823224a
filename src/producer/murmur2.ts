/**
 * Java's `org.apache.kafka.common.utils.Utils.murmur2`, bit for bit, so that a keyed record lands on the same
 * partition as it would with the Java client, KafkaJS's Java-compatible partitioner and librdkafka's `murmur2`
 * partitioners. Seed and constants are Java's; the result is the signed 32-bit int Java returns.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const seed = 0x9747b28c
  const m = 0x5bd1e995
  const r = 24

  let h = (seed ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> r
    k = Math.imul(k, m)
    h = Math.imul(h, m)
    h ^= k
  }

  // Java's switch falls through from 3 to 1; the same order of xors is kept.
  const tail = length & ~3
  switch (length % 4) {
    case 3:
      h ^= data[tail + 2]! << 16
      h ^= data[tail + 1]! << 8
      h ^= data[tail]!
      h = Math.imul(h, m)
      break
    case 2:
      h ^= data[tail + 1]! << 8
      h ^= data[tail]!
      h = Math.imul(h, m)
      break
    case 1:
      h ^= data[tail]!
      h = Math.imul(h, m)
      break
  }

  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/**
 * Java's `Utils.toPositive`: clears the sign bit instead of `Math.abs`, which would leave
 * Integer.MIN_VALUE negative. Used on hash results before the modulo.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}
