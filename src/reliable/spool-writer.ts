import { KafkaError } from '../errors/index.js'
import type { SpoolEntry } from './envelope-types.js'
import type { SpoolLike } from './spool-port.js'

interface Pending {
  readonly entry: SpoolEntry
  readonly resolve: () => void
  readonly reject: (err: KafkaError) => void
}

/**
 * Appends to the spool in batches: dead-letter writes fail together (a whole batch of the
 * dead-letter producer, or everything at once when Kafka is down), and each Spool.append() costs a
 * write and an fsync, so the entries that fail in one turn of the event loop share one append.
 * Appends run one at a time, in the order the entries came, so the file keeps that order. (The
 * spool serialises its own appends and replay steps, and keeps what is appended during a replay.)
 */
export class SpoolWriter {
  private pending: Pending[] = []
  private running: Promise<void> | null = null

  constructor(private readonly spool: SpoolLike) {}

  /** Resolves once `entry` is on disk; rejects with why the append failed. */
  append(entry: SpoolEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject })
      this.running ??= this.run()
    })
  }

  /** Resolves when every append asked for so far is done (whatever its outcome). */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  private async run(): Promise<void> {
    // Let the rest of this burst of failures join the batch: reports of one Produce answer arrive
    // in the same turn, and setImmediate runs after the I/O callbacks of this turn.
    await new Promise<void>((resolve) => setImmediate(resolve))
    while (this.pending.length > 0) {
      const batch = this.pending
      this.pending = []
      try {
        await this.spool.append(batch.map((p) => p.entry))
        for (const p of batch) p.resolve()
      } catch (err) {
        // No file error code in the error table; _STATE with the file system's error as cause.
        const e = KafkaError.wrap(
          err,
          '_STATE',
          `the spool could not be written: ${(err as Error)?.message ?? err}`,
        )
        for (const p of batch) p.reject(e)
      }
    }
    this.running = null
  }
}
