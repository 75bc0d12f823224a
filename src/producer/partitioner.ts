import { PARTITIONER_NAMES, type PartitionerSetting } from '../config/index.js'
import { KafkaError } from '../errors/index.js'
import { type RecordBytes, utf8Scratch } from '../protocol/index.js'
import { crc32, fnv1a } from './crc32.js'
import { murmur2, murmur2String, toPositive } from './murmur2.js'

export { murmur2, toPositive } from './murmur2.js'
export { crc32, fnv1a } from './crc32.js'
export {
  PARTITIONER_NAMES,
  type PartitionerFunction,
  type PartitionerName,
  type PartitionerSetting,
} from '../config/index.js'

/**
 * Chooses a partition for one record. Called by the producer once per record with the topic's current
 * metadata. Stateful: sticky partitioners remember, per topic, which partition they stick to and how many
 * bytes went there. The result of a user function is returned unchecked; pass it to {@link checkPartition}.
 * A string key is hashed over its UTF-8 bytes, as the Buffer of the same string would be.
 */
export interface Partitioner {
  partition(
    topic: string,
    key: RecordBytes | null,
    recordBytes: number,
    partitionCount: number,
    availablePartitions: readonly number[],
  ): number
}

export interface PartitionerOptions {
  /** `batch.size` in bytes: how much a sticky partition receives before the partitioner moves on (KIP-794). */
  batchSize: number
  /** Uniform in [0, 1), like Math.random; injected so that tests are deterministic. */
  random: () => number
}

/**
 * Throws `KafkaError('_UNKNOWN_PARTITION')` unless `p` is an integer in [0, partitionCount). The producer
 * calls this on every explicit or user-computed partition and fails that one record with the error, so
 * that a buggy partitioner function never brings the producer down.
 */
export function checkPartition(p: unknown, partitionCount: number, topic: string): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= partitionCount) {
    throw new KafkaError(
      '_UNKNOWN_PARTITION',
      `Partition ${String(p)} is not valid for topic '${topic}' with ${partitionCount} partition(s): ` +
        `expected an integer from 0 to ${partitionCount - 1}`,
      { retriable: false },
    )
  }
  return p
}

interface StickyState {
  partition: number
  bytes: number
}

/**
 * Sticky partitioning for records without a key (KIP-480, refined by KIP-794): stay on one partition,
 * picked at random among the available ones, until about `batch.size` bytes went to it, then pick another.
 * This fills batches instead of spreading a trickle of records over every partition (which made each
 * batch tiny and raised latency), and KIP-794's byte count stops slow brokers from receiving more.
 * Java additionally weights the choice by queue sizes (adaptive partitioning); we pick uniformly.
 */
class StickySelector {
  private readonly state = new Map<string, StickyState>()

  constructor(
    private readonly batchSize: number,
    private readonly random: () => number,
  ) {}

  next(topic: string, recordBytes: number, partitionCount: number, available: readonly number[]): number {
    let s = this.state.get(topic)
    const stillGood =
      s !== undefined &&
      s.partition < partitionCount &&
      s.bytes < this.batchSize &&
      (available.length === 0 || available.includes(s.partition))
    if (!stillGood) {
      const previous = s?.partition
      s = { partition: this.pick(partitionCount, available, previous), bytes: 0 }
      this.state.set(topic, s)
    }
    s!.bytes += recordBytes
    return s!.partition
  }

  /** Random among the available partitions (all when none is known to be available), avoiding `previous`
   * when there is a choice so that a switch really moves the load (as KIP-480 does). */
  private pick(partitionCount: number, available: readonly number[], previous: number | undefined): number {
    const candidates = available.length > 0 ? available : Array.from({ length: partitionCount }, (_, i) => i)
    if (candidates.length === 1 || previous === undefined || !candidates.includes(previous)) {
      return candidates[randomIndex(this.random, candidates.length)]!
    }
    const i = randomIndex(this.random, candidates.length - 1)
    const p = candidates[i]!
    return p === previous ? candidates[candidates.length - 1]! : p
  }
}

function randomIndex(random: () => number, n: number): number {
  // Clamp: a random source returning exactly 1 must not index past the end.
  return Math.min(n - 1, Math.floor(random() * n))
}

function randomAvailable(random: () => number, partitionCount: number, available: readonly number[]): number {
  if (available.length > 0) return available[randomIndex(random, available.length)]!
  return randomIndex(random, partitionCount)
}

const EMPTY = Buffer.alloc(0)

/** murmur2 of a key's bytes; a string (the common key) is hashed without a Buffer. */
function murmur2Key(key: RecordBytes): number {
  return typeof key === 'string' ? murmur2String(key) : murmur2(key)
}

/**
 * A key's bytes for the librdkafka-compatible hashes: a string is encoded into a shared scratch
 * buffer, valid until the next call, which is enough for a hash that reads it at once.
 */
function keyBytes(key: RecordBytes): Uint8Array {
  return typeof key === 'string' ? utf8Scratch(key) : key
}

/**
 * The number librdkafka's `fnv1a` partitioners take modulo the partition count (`rd_fnv1a()` in
 * rdfnv1a.c): the absolute value of the FNV-1a hash read as a signed 32-bit integer. For the one hash
 * whose absolute value does not fit, INT32_MIN, C's negation wraps back to INT32_MIN, which rd_fnv1a
 * returns as the unsigned 2^31; Math.abs gives 2^31 too (kcat agrees: the key `k3D52m9`, hash 0x80000000,
 * lands on partition 2^31 % n).
 */
export function fnv1aPartitionHash(key: Uint8Array): number {
  return Math.abs(fnv1a(key) | 0)
}

/**
 * Builds the partitioner for a `partitioner` setting. A user function that throws makes `partition()`
 * throw `KafkaError('_APPLICATION')` with the original as `cause` (a KafkaError it throws passes as
 * it is, as {@link KafkaError.wrap} does). Keyed hashing always spans all partitions, never
 * only the available ones, so that a key's partition does not move when a leader is briefly missing
 * (Java's BuiltInPartitioner and librdkafka agree on this).
 */
export function createPartitioner(setting: PartitionerSetting, opts: PartitionerOptions): Partitioner {
  if (typeof setting === 'function') {
    const fn = setting
    return {
      partition: (topic, key, _bytes, partitionCount, available) => {
        try {
          // The function is public API and takes a Buffer: a string key is encoded for it (only
          // here, so the built-in partitioners never allocate one).
          return fn(typeof key === 'string' ? Buffer.from(key, 'utf8') : key, partitionCount, available)
        } catch (err) {
          // Application code: whatever it threw reaches the caller (produce() throws it, send()
          // rejects with it, a record that waited for metadata reports it) as a KafkaError.
          throw KafkaError.wrap(
            err,
            '_APPLICATION',
            `the partitioner function threw for topic '${topic}': ${String(err)}`,
          )
        }
      },
    }
  }
  const sticky = new StickySelector(opts.batchSize, opts.random)
  const { random } = opts
  switch (setting) {
    case 'murmur2_random':
      return {
        partition: (topic, key, bytes, n, available) =>
          key === null ? sticky.next(topic, bytes, n, available) : toPositive(murmur2Key(key)) % n,
      }
    case 'murmur2':
      // librdkafka hashes a null key as zero bytes, so every null-key record lands on one partition.
      return { partition: (_t, key, _b, n) => toPositive(murmur2Key(key ?? EMPTY)) % n }
    case 'consistent_random':
      // librdkafka treats empty keys like null ones here (documented with sticky.partitioning.linger.ms).
      return {
        partition: (topic, key, bytes, n, available) =>
          key === null || key.length === 0
            ? sticky.next(topic, bytes, n, available)
            : crc32(keyBytes(key)) % n,
      }
    case 'consistent':
      return { partition: (_t, key, _b, n) => crc32(keyBytes(key ?? EMPTY)) % n }
    case 'fnv1a':
      return { partition: (_t, key, _b, n) => fnv1aPartitionHash(keyBytes(key ?? EMPTY)) % n }
    case 'fnv1a_random':
      // Only a null key is sticky: librdkafka hashes an empty key here, unlike consistent_random.
      return {
        partition: (topic, key, bytes, n, available) =>
          key === null ? sticky.next(topic, bytes, n, available) : fnv1aPartitionHash(keyBytes(key)) % n,
      }
    case 'random':
      return { partition: (_t, _key, _b, n, available) => randomAvailable(random, n, available) }
    default: {
      const name: unknown = setting
      throw new KafkaError(
        '_INVALID_ARG',
        `Unknown partitioner ${JSON.stringify(name)}: expected one of ${PARTITIONER_NAMES.join(', ')} or a function`,
        { retriable: false },
      )
    }
  }
}
