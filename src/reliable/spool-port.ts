// The spool as the ReliableProducer uses it: the API agreed with src/reliable/spool.ts, which is
// written on its own branch (`spool`). Until that file is merged, this interface is what the
// producer is written and tested against (unit tests hand it an in-memory spool), and `openSpool`
// says plainly that `spool.path` needs it. The merge replaces `spoolNotMerged` below with
// `(opts) => new Spool(opts)` and its import: nothing else in this folder names the class.
import { KafkaError } from '../errors/index.js'
import type { SpoolEntry } from './envelope-types.js'

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

const spoolNotMerged: SpoolFactory = (opts) => {
  throw new KafkaError(
    '_NOT_IMPLEMENTED',
    `spool.path (${opts.path}) needs the local spool (src/reliable/spool.ts), which this build does not have yet`,
  )
}

/** Opens the spool of `spool.path`. */
export const openSpool: SpoolFactory = spoolNotMerged
