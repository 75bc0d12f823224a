// The `partitioner` setting: the names and the function type a configuration may hold. They live in
// config/ because the configuration catalogue validates them; the partitioners that implement them are
// in src/producer/partitioner.ts, which imports these.

/**
 * A user partitioner, shaped like the guide's `region_partitioner(key, all_partitions, available_partitions)`:
 * the record key (null when the record has none), the topic's partition count and the partitions that
 * currently have a leader. It must return an integer in [0, partitionCount); the caller checks the result
 * with `checkPartition` (src/producer/partitioner.ts) and fails only that record when it is not.
 */
export type PartitionerFunction = (
  key: Buffer | null,
  partitionCount: number,
  availablePartitions: readonly number[],
) => number

/**
 * The `partitioner` config value: one of librdkafka's partitioner names, or a function.
 *
 * Every named hash partitioner puts a key on the partition librdkafka puts it on (checked against kcat in
 * test/integration/partitioning.test.ts). librdkafka's rules (src/rdkafka_msg.c, `rd_kafka_msg_partitioner_*`
 * and `rd_kafka_msg_partitioner()`, which sends null keys of the `_random` variants to its sticky partition):
 *
 * - `murmur2_random` (default): `(murmur2(key) & 0x7fffffff) % partitionCount` over all partitions, the same
 *   as Java's BuiltInPartitioner; null-key records are sticky (KIP-480, KIP-794); an empty key is a key.
 *   Functionally Java's default.
 * - `murmur2`: like `murmur2_random`, but a null key is hashed as an empty key, so all null-key records go
 *   to one partition.
 * - `consistent_random` (librdkafka's default): `crc32(key) % partitionCount` (unsigned CRC-32); null and
 *   empty keys are sticky.
 * - `consistent`: `crc32(key) % partitionCount`; null and empty keys both hash as empty, to partition 0.
 * - `fnv1a` / `fnv1a_random`: `|(int32) fnv1a(key)| % partitionCount`: librdkafka (rdfnv1a.c) takes the
 *   absolute value of the *signed* 32-bit FNV-1a hash, as Sarama's default hash partitioner does, so for
 *   the half of the keys whose hash has the top bit set the partition is usually not the unsigned hash's.
 *   `fnv1a` hashes a null key as an empty one; `fnv1a_random` makes null keys sticky and hashes empty keys.
 * - `random`: every record, keyed or not, to a random available partition. (librdkafka's `random` makes
 *   null keys sticky; ours does not.)
 */
export type PartitionerSetting =
  | 'murmur2_random'
  | 'murmur2'
  | 'consistent_random'
  | 'consistent'
  | 'random'
  | 'fnv1a'
  | 'fnv1a_random'
  | PartitionerFunction

/** The built-in partitioner names, in the order docs list them. */
export const PARTITIONER_NAMES = [
  'murmur2_random',
  'murmur2',
  'consistent_random',
  'consistent',
  'random',
  'fnv1a',
  'fnv1a_random',
] as const

export type PartitionerName = (typeof PARTITIONER_NAMES)[number]
