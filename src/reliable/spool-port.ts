// The spool as the ReliableProducer uses it: the narrow interface of src/reliable/spool.ts that the
// producer needs, so unit tests can hand it an in-memory spool, and `openSpool`, the one place that
// opens the file spool for `spool.path`.
import type { SpoolEntry } from './envelope-types.js'
import { Spool } from './spool.js'

/** Where the spool file is, and who hears about torn or unreadable lines. */
export interface SpoolOptions {
  path: string
  onWarning?: (message: string) => void
}

/** What one replay did: entries acknowledged (and truncated), failed (kept), left, skipped (unreadable). */
export interface ReplayResult {
  replayed: number
  failed: number
  remaining: number
  skipped: number
}

/** The spool's methods (class `Spool` of spool.ts). */
export interface SpoolLike {
  /** Appends the entries with one write and one fsync; resolves once they are on disk. */
  append(entries: readonly SpoolEntry[]): Promise<void>
  read(): Promise<SpoolEntry[]>
  /**
   * Calls `send` for each entry; truncates only the entries whose `send` resolved. Serialised with
   * appends by the spool itself: entries appended during a replay are kept for the next one.
   */
  replay(send: (entry: SpoolEntry) => Promise<void>, opts?: { batchSize?: number }): Promise<ReplayResult>
  /** Gives up this process's lock on the file (spool.ts has one: `<path>.lock`); the ReliableProducer's close() calls it. */
  close?(): Promise<void>
}

export type SpoolFactory = (opts: SpoolOptions) => SpoolLike

/** Opens the spool of `spool.path`. */
export const openSpool: SpoolFactory = (opts) => new Spool(opts)
