import type { ProducerConfig } from './producer-config.js'

/**
 * The guide's "Latency vs Throughput Tuning Matrix" as config fragments to spread into a configuration:
 *
 *   new Producer({ ...presets.analytics, 'bootstrap.servers': 'kafka:9092' })
 *
 * Where the matrix gives a range, the value picked is named and justified on the preset. None of the
 * presets sets enable.idempotence: with acks 1 or 0 (logs, metrics) idempotence is then turned off
 * silently, as in Java; set it explicitly only when acks is all.
 *
 * A note on the 1 MiB batches (batch, logs): the broker's default max.message.bytes is 1048588 bytes.
 * batch.size bounds the estimated compressed size and message.max.bytes the uncompressed one, so a batch
 * over the broker's limit takes incompressible data or a topic with a lower limit; the sender then
 * splits the batch the broker refuses with MESSAGE_TOO_LARGE, as Java does.
 */
export const presets = {
  /**
   * Matrix row "Real-time actions (API responses)": linger.ms 0-5, batch.size 16KB, compression
   * none/snappy, acks all. linger.ms 5 rather than 0: it is the Java 4.0 default (KIP-1030), which found
   * that a few milliseconds of lingering lowers latency under load because fewer, fuller requests queue
   * less at the broker; at low rates it adds at most 5 ms. No compression: 16 KiB batches gain little.
   */
  realtime: {
    'linger.ms': 5,
    'batch.size': 16384,
    'compression.type': 'none',
    acks: 'all',
  },
  /**
   * Matrix row "Analytics events (dashboards)": linger.ms 10-50 → 20, batch.size 64KB-256KB → 128 KiB,
   * lz4, acks all. Mid-range values: dashboards tolerate tens of milliseconds, and lz4 is cheap to run.
   */
  analytics: {
    'linger.ms': 20,
    'batch.size': 131072,
    'compression.type': 'lz4',
    acks: 'all',
  },
  /**
   * Matrix row "Batch pipelines (ETL)": linger.ms 100-500 → 200, batch.size 512KB-1MB → 1 MiB,
   * lz4/zstd → zstd, acks all. zstd's better ratio pays off on large batches (KIP-110).
   */
  batch: {
    'linger.ms': 200,
    'batch.size': 1048576,
    'compression.type': 'zstd',
    acks: 'all',
  },
  /**
   * Matrix row "Log aggregation (high volume)": linger.ms 500-1000 → 500, batch.size 1MB, zstd, acks 1.
   * The low end of the linger range keeps log delay under a second; acks 1 trades durability for
   * throughput, which also turns idempotence off unless it is set explicitly (it would then be an error).
   */
  logs: {
    'linger.ms': 500,
    'batch.size': 1048576,
    'compression.type': 'zstd',
    acks: '1',
  },
  /**
   * Matrix row "Non-critical metrics": linger.ms 100, batch.size 256KB, lz4, acks 0. Fire and forget:
   * no response, so no error and no offset is reported.
   */
  metrics: {
    'linger.ms': 100,
    'batch.size': 262144,
    'compression.type': 'lz4',
    acks: '0',
  },
} as const satisfies Record<string, Readonly<ProducerConfig>>

export type PresetName = keyof typeof presets
