// An in-memory stand-in for src/reliable/spool.ts with the agreed API (src/reliable/spool-port.ts),
// for the ReliableProducer's unit tests: what was appended, in how many appends, and appends or
// replays that fail on demand. The file spool has tests of its own (branch `spool`).
import type { SpoolEntry } from '../../src/reliable/envelope-types.js'
import type { ReplayResult, SpoolLike } from '../../src/reliable/spool-port.js'

export class MemorySpool implements SpoolLike {
  entries: SpoolEntry[] = []
  /** The entries of each append() call, in order. */
  readonly appends: SpoolEntry[][] = []
  /** When set, append() rejects with it. */
  failAppends: Error | null = null
  /** close() calls (the file spool gives up its lock there). */
  closes = 0

  async append(entries: readonly SpoolEntry[]): Promise<void> {
    this.appends.push([...entries])
    if (this.failAppends) throw this.failAppends
    this.entries.push(...entries)
  }

  async read(): Promise<SpoolEntry[]> {
    return [...this.entries]
  }

  /** Sends each entry in order; keeps those whose send rejected, as the file spool truncates. */
  async replay(send: (entry: SpoolEntry) => Promise<void>): Promise<ReplayResult> {
    const taken = this.entries
    this.entries = []
    const kept: SpoolEntry[] = []
    let replayed = 0
    for (const e of taken) {
      try {
        await send(e)
        replayed++
      } catch {
        kept.push(e)
      }
    }
    // Appended while the replay ran: still after the kept ones.
    this.entries = [...kept, ...this.entries]
    return { replayed, failed: kept.length, remaining: this.entries.length, skipped: 0 }
  }

  async close(): Promise<void> {
    this.closes++
  }
}
