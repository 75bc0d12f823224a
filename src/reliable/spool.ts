// The local spool: where a dead-letter envelope goes when writing it to the dead-letter topic failed
// too (Kafka unreachable), so that nothing is lost, and from where replay() sends it later.
//
// The file: JSON lines, UTF-8, one SpoolEntry (envelope-types.ts) per line, each ended by '\n'
// (spool-format.ts). Rules, in the order a reader applies them:
//
// - A missing file is an empty spool.
// - A line that is not UTF-8, not JSON, or not a SpoolEntry is skipped with a warning, never thrown:
//   read() leaves it where it is; replay() moves it, byte for byte, to `<path>.corrupt` (fsynced
//   before the spool drops it), so that user data is never silently deleted.
// - The torn-line rule: a crash in the middle of an append leaves a last line with no '\n' and a
//   JSON prefix. Such a line is skipped like any unreadable one (warning, then `.corrupt`). A last line
//   without '\n' that is nevertheless a whole valid entry (the crash hit between the data and its '\n')
//   is read as an entry: keeping it costs at worst one duplicate, dropping it could lose data.
// - An append to a file not ending with '\n' writes a '\n' first, so new data never glues onto a torn
//   line. Blank lines (such a '\n' may leave one) are ignored silently.
//
// Ownership: one process at a time writes a spool file (spool-lock.ts: `<path>.lock` holds the pid; a
// lock left by a dead process is taken over). Within a process, every Spool on the same path shares
// one queue, so appends, reads and the steps of a replay never interleave, and replays run one after
// another: an append during a replay lands at the end of the file and the replay's rewrite keeps it.
//
// Memory: read() returns every entry, so it holds the file's entries; replay() streams the file and
// holds one batch (batchSize entries) plus a 64 KiB read buffer, whatever the size of the spool.
import { resolve } from 'node:path'
import type { FileHandle } from 'node:fs/promises'
import { WARNING_TYPE } from '../config/warnings.js'
import type { SpoolEntry } from './envelope-types.js'
import { decodeLine, encodeEntries } from './spool-format.js'
import {
  appendDurably,
  mergeRanges,
  openIfExists,
  readLines,
  rewriteFromRanges,
  sizeOf,
  type ByteRange,
  type RawLine,
} from './spool-io.js'
import { acquireSpoolLock, releaseSpoolLock } from './spool-lock.js'

export interface SpoolOptions {
  /** The spool file. Beside it: `<path>.lock` (the owner's pid), `<path>.corrupt`, `<path>.tmp`. */
  path: string
  /** Where warnings go (skipped lines, a lock taken over). Default: process.emitWarning, type ReliableKafkaWarning. */
  onWarning?: (message: string) => void
}

export interface ReplayResult {
  /** Entries sent and acknowledged, and removed from the file. */
  replayed: number
  /** Entries whose send failed: still in the file. */
  failed: number
  /** Entries in the file when the replay ended: the failed ones and those appended meanwhile. */
  remaining: number
  /** Unreadable lines skipped (torn or corrupt), moved to `<path>.corrupt`. */
  skipped: number
}

/** The `code` of the spool's warnings (their `type` is WARNING_TYPE, ReliableKafkaWarning). */
export const SPOOL_WARNING_CODE = 'RK_SPOOL'

const DEFAULT_BATCH_SIZE = 500

/** Runs functions one at a time, in call order; a failure does not stop the ones after it. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => undefined)
    return result
  }
}

/** What the Spools of one path in this process share. */
interface PathState {
  /** File operations: append, read, and each step of a replay. */
  readonly io: SerialQueue
  /** Whole replays, so that two never work on the same file at once. */
  readonly replays: SerialQueue
  /** The instances that have written and so hold the process's lock on the path. */
  readonly owners: Set<Spool>
}

const pathStates = new Map<string, PathState>()

function stateOf(path: string): PathState {
  let state = pathStates.get(path)
  if (state === undefined) {
    state = { io: new SerialQueue(), replays: new SerialQueue(), owners: new Set() }
    pathStates.set(path, state)
  }
  return state
}

function defaultWarning(message: string): void {
  process.emitWarning(message, { type: WARNING_TYPE, code: SPOOL_WARNING_CODE })
}

/** An entry of a replay batch, with where its line is in the file. */
interface Located extends ByteRange {
  readonly entry: SpoolEntry
}

/** One batch of a replay: its entries, the unreadable lines met on the way, where it ended. */
interface Batch {
  readonly entries: Located[]
  readonly invalid: ByteRange[]
  readonly end: number
}

/**
 * A local, durable queue of spool entries in one JSON-lines file. At-least-once: an entry leaves the
 * file only after `send` acknowledged it, so a crash between the acknowledgement and the rewrite sends
 * it again on the next replay (consumers of the dead-letter topic can recognise it by `id`).
 */
export class Spool {
  readonly path: string
  private readonly warn: (message: string) => void
  private readonly state: PathState

  constructor(opts: SpoolOptions) {
    if (typeof opts?.path !== 'string' || opts.path === '')
      throw new TypeError('Spool: path must be a file path')
    // Resolved, so that two spellings of one file share one queue and one lock.
    this.path = resolve(opts.path)
    this.warn = opts.onWarning ?? defaultWarning
    this.state = stateOf(this.path)
  }

  /** Appends the entries as JSON lines in one write, then fsync: on return they are on disk. */
  append(entries: readonly SpoolEntry[]): Promise<void> {
    let data: Buffer
    try {
      data = encodeEntries(entries) // checked before anything is written
    } catch (err) {
      return Promise.reject(err)
    }
    if (entries.length === 0) return Promise.resolve()
    return this.state.io.run(async () => {
      await this.own()
      await appendDurably(this.path, data)
    })
  }

  /**
   * Every readable entry, in file order; a torn or unparsable line is skipped with a warning, never
   * thrown, and stays in the file. Reading does not take the lock: another process may inspect a spool.
   */
  read(): Promise<SpoolEntry[]> {
    return this.state.io.run(async () => {
      const entries: SpoolEntry[] = []
      await this.scan((entry) => entries.push(entry), 'read')
      return entries
    })
  }

  /**
   * Sends every entry with `send` (which resolves once the record is acknowledged), in batches of
   * `batchSize` (default 500) sent concurrently, and after each batch removes from the file exactly the
   * entries that were acknowledged (rewrite to a temp file + fsync + rename + fsync of the directory),
   * keeping the ones that failed and any appended meanwhile. At-least-once: a crash between an
   * acknowledgement and the truncation re-sends that entry on the next replay.
   *
   * It sends the entries in the file when it starts; entries appended during the replay stay for the
   * next one, so a replay ends even while appends keep coming. Unreadable lines are moved to
   * `<path>.corrupt`. Replays of one path are serialised: a second call waits for the first.
   */
  replay(
    send: (entry: SpoolEntry) => Promise<void>,
    opts: { batchSize?: number } = {},
  ): Promise<ReplayResult> {
    const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      return Promise.reject(
        new RangeError(`Spool.replay: batchSize must be a positive integer, got ${batchSize}`),
      )
    }
    if (typeof send !== 'function')
      return Promise.reject(new TypeError('Spool.replay: send must be a function'))
    return this.state.replays.run(() => this.replayAll(send, batchSize))
  }

  /**
   * Gives up this process's lock on the file (`<path>.lock`) once no other Spool of this process on
   * the same path holds it, so that another process can take the spool over. The instance stays
   * usable: its next append or replay takes the lock again. (The lock also goes when the process exits.)
   */
  close(): Promise<void> {
    return this.state.io.run(async () => {
      if (!this.state.owners.delete(this) || this.state.owners.size > 0) return
      await releaseSpoolLock(this.lockPath)
    })
  }

  private get lockPath(): string {
    return `${this.path}.lock`
  }

  /** Takes the file for this process before its first write (inside the io queue). */
  private async own(): Promise<void> {
    if (this.state.owners.has(this)) return
    if (this.state.owners.size === 0) await acquireSpoolLock(this.lockPath, this.path, this.warn)
    this.state.owners.add(this)
  }

  private async replayAll(
    send: (entry: SpoolEntry) => Promise<void>,
    batchSize: number,
  ): Promise<ReplayResult> {
    const result: ReplayResult = { replayed: 0, failed: 0, remaining: 0, skipped: 0 }
    // The file is replayed up to `limit`, its size now; appends go after it. A rewrite shrinks the file
    // before the limit by what it removed, so the limit moves down by as much.
    let limit = await this.state.io.run(async () => {
      await this.own()
      return sizeOf(this.path)
    })
    // Bytes before `cursor` are entries whose send failed in this replay (kept, not sent again).
    let cursor = 0
    let linesBefore = 0
    while (cursor < limit) {
      const batch = await this.state.io.run(() => this.nextBatch(cursor, limit, batchSize, linesBefore))
      if (batch.end <= cursor) break // the file is shorter than expected: nothing more to read
      // Sent outside the queue, so that appends go on meanwhile.
      const outcomes = await Promise.allSettled(batch.entries.map(({ entry }) => callSend(send, entry)))
      const kept = batch.entries.filter((_, i) => outcomes[i]!.status === 'rejected')
      const keptBytes = kept.reduce((n, r) => n + (r.end - r.start), 0)
      const removed = batch.end - cursor - keptBytes
      result.replayed += batch.entries.length - kept.length
      result.failed += kept.length
      result.skipped += batch.invalid.length
      if (removed > 0) await this.state.io.run(() => this.commit(cursor, batch, kept))
      cursor += keptBytes
      limit -= removed
      linesBefore += kept.length
    }
    result.remaining = await this.state.io.run(() => this.scan(() => undefined, 'count'))
    return result
  }

  /** Reads from `cursor` up to `limit` until `batchSize` entries, warning about unreadable lines. */
  private async nextBatch(
    cursor: number,
    limit: number,
    batchSize: number,
    linesBefore: number,
  ): Promise<Batch> {
    const entries: Located[] = []
    const invalid: ByteRange[] = []
    let end = cursor
    const fh = await openIfExists(this.path)
    if (fh === null) return { entries, invalid, end }
    try {
      let lineNo = linesBefore
      for await (const line of readLines(fh, cursor, limit)) {
        lineNo++
        end = line.end
        const decoded = decodeLine(line.bytes)
        if (decoded.kind === 'entry') entries.push({ entry: decoded.entry, start: line.start, end: line.end })
        else if (decoded.kind === 'invalid') {
          invalid.push({ start: line.start, end: line.end })
          this.warnSkipped(line, lineNo, decoded.reason, `moved to ${this.path}.corrupt`)
        }
        if (entries.length === batchSize) break
      }
    } finally {
      await fh.close()
    }
    return { entries, invalid, end }
  }

  /**
   * Removes a batch's acknowledged entries, blank and unreadable lines from the file: the unreadable
   * ones are first appended to `<path>.corrupt` and fsynced, then the file is rewritten with what
   * stays (the lines before the batch, its failed entries, everything after it, appends included).
   */
  private async commit(cursor: number, batch: Batch, kept: readonly Located[]): Promise<void> {
    await this.own()
    const fh = await openIfExists(this.path)
    if (fh === null) return
    try {
      if (batch.invalid.length > 0) await this.moveToCorrupt(fh, batch.invalid)
      const { size } = await fh.stat()
      const ranges = [{ start: 0, end: cursor }, ...kept, { start: batch.end, end: size }]
      await rewriteFromRanges(this.path, fh, mergeRanges(ranges))
    } finally {
      await fh.close()
    }
  }

  /** Appends the given lines of `fh`, byte for byte and each ended by '\n', to `<path>.corrupt`. */
  private async moveToCorrupt(fh: FileHandle, lines: readonly ByteRange[]): Promise<void> {
    const parts: Buffer[] = []
    for (const { start, end } of lines) {
      const bytes = Buffer.alloc(end - start)
      const { bytesRead } = await fh.read(bytes, 0, bytes.length, start)
      parts.push(bytes.subarray(0, bytesRead))
      if (bytes[bytesRead - 1] !== 0x0a) parts.push(Buffer.of(0x0a))
    }
    await appendDurably(`${this.path}.corrupt`, Buffer.concat(parts))
  }

  /**
   * Streams the whole file, calling `onEntry` for each entry; returns how many entries there were.
   * Unreadable lines are warned about for a read(), silently passed over for a count.
   */
  private async scan(onEntry: (entry: SpoolEntry) => void, why: 'read' | 'count'): Promise<number> {
    const fh = await openIfExists(this.path)
    if (fh === null) return 0
    let count = 0
    try {
      let lineNo = 0
      for await (const line of readLines(fh, 0, (await fh.stat()).size)) {
        lineNo++
        const decoded = decodeLine(line.bytes)
        if (decoded.kind === 'entry') {
          count++
          onEntry(decoded.entry)
        } else if (decoded.kind === 'invalid' && why === 'read') {
          this.warnSkipped(
            line,
            lineNo,
            decoded.reason,
            `left in the file; the next replay moves it to ${this.path}.corrupt`,
          )
        }
      }
    } finally {
      await fh.close()
    }
    return count
  }

  private warnSkipped(line: RawLine, lineNo: number, reason: string, fate: string): void {
    const what = line.terminated
      ? reason
      : `torn last line (no '\\n' at its end, ${reason}: a write cut short by a crash)`
    this.warn(
      `Spool ${this.path}: skipped line ${lineNo} (bytes ${line.start}-${line.end}): ${what}; ${fate}`,
    )
  }
}

async function callSend(send: (entry: SpoolEntry) => Promise<void>, entry: SpoolEntry): Promise<void> {
  await send(entry) // inside an async function, so that a synchronous throw is a failed send too
}
