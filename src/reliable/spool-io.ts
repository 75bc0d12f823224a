// The file operations of the spool, each written for what survives a crash or a power cut:
//
// - write() puts bytes in the page cache only; fsync() is what makes them survive a power cut, so an
//   append returns only after fsync, and a rewritten file is fsynced before it replaces the old one.
// - A new file's name lives in its directory: after creating or renaming a file the directory is
//   fsynced too, else a power cut can leave the data on disk with no name pointing to it.
// - rename() over an existing file is atomic (POSIX): after a crash the spool is either the old file
//   or the new one, never a mix, which is why a replay rewrites to a temp file and renames.
import type { FileHandle } from 'node:fs/promises'
import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { NEWLINE } from './spool-format.js'

/** One line of a file as found on disk. */
export interface RawLine {
  /** Byte offset of its first byte. */
  readonly start: number
  /** Byte offset just after it: after its '\n', or where the scanned range ended for an unterminated line. */
  readonly end: number
  /** Its bytes without the '\n'. */
  readonly bytes: Buffer
  /** False for a last line with no '\n': a write a crash may have cut short. */
  readonly terminated: boolean
}

const CHUNK_BYTES = 64 * 1024
const COPY_BYTES = 1024 * 1024

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}

/** Opens `path` for reading, or null when it does not exist (a missing spool is an empty one). */
export async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r')
  } catch (err) {
    if (isNotFound(err)) return null
    throw err
  }
}

/**
 * The lines of `fh` between byte offsets `from` and `to`, read in chunks so that memory holds one chunk
 * and one line, not the file. A line longer than a chunk is put together from several.
 */
export async function* readLines(fh: FileHandle, from: number, to: number): AsyncGenerator<RawLine> {
  let pos = from
  let lineStart = from
  let pending: Buffer[] = []
  while (pos < to) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, to - pos))
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos)
    if (bytesRead === 0) break // the file is shorter than `to`
    let i = 0
    for (let nl = chunk.indexOf(NEWLINE, 0); nl !== -1 && nl < bytesRead; nl = chunk.indexOf(NEWLINE, i)) {
      pending.push(chunk.subarray(i, nl))
      // Copied so that a caller keeping a line does not keep the whole chunk alive.
      const bytes = Buffer.concat(pending)
      pending = []
      yield { start: lineStart, end: pos + nl + 1, bytes, terminated: true }
      i = nl + 1
      lineStart = pos + i
    }
    if (i < bytesRead) pending.push(chunk.subarray(i, bytesRead))
    pos += bytesRead
  }
  if (pending.length > 0)
    yield { start: lineStart, end: pos, bytes: Buffer.concat(pending), terminated: false }
}

/** Size of the file at `path`, 0 when it does not exist. */
export async function sizeOf(path: string): Promise<number> {
  const fh = await openIfExists(path)
  if (fh === null) return 0
  try {
    return (await fh.stat()).size
  } finally {
    await fh.close()
  }
}

/**
 * fsync of a directory, so that a file created or renamed in it keeps its name after a power cut.
 * Windows cannot open a directory for fsync and does not need it (NTFS journals names): skipped there.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Writes all of `data` (a write may take only part of it) at `position`, or at the end with null. */
async function writeAll(fh: FileHandle, data: Uint8Array, position: number | null): Promise<void> {
  let done = 0
  while (done < data.length) {
    const { bytesWritten } = await fh.write(
      data,
      done,
      data.length - done,
      position === null ? null : position + done,
    )
    done += bytesWritten
  }
}

/**
 * Appends `data` to `path` (created if missing) and fsyncs it: on return the bytes are on disk. When the
 * file does not end with '\n' (the last write was cut short by a crash, leaving a torn line), a '\n' is
 * written first so that the new data starts a line of its own instead of gluing onto the torn one,
 * which would make the first new entry unreadable too.
 */
export async function appendDurably(path: string, data: Uint8Array): Promise<void> {
  // 'a': every write goes to the end of the file (O_APPEND), whatever position is passed.
  const fh = await open(path, 'a+')
  let created: boolean
  try {
    const { size } = await fh.stat()
    created = size === 0
    let out = data
    if (size > 0) {
      const last = Buffer.alloc(1)
      await fh.read(last, 0, 1, size - 1)
      if (last[0] !== NEWLINE) out = Buffer.concat([Buffer.of(NEWLINE), data])
    }
    // One write call for the whole batch: a crash tears at most the line being written.
    await writeAll(fh, out, null)
    await fh.sync()
  } finally {
    await fh.close()
  }
  // An empty file may be one this call created: make its name durable too.
  if (created) await fsyncDirectory(dirname(path))
}

/** A byte range of a file, [start, end). */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/**
 * Replaces `path` by the given byte ranges of `src` (an open handle on the current `path`), in order:
 * written to `<path>.tmp`, fsynced, renamed over `path`, then the directory fsynced. A crash at any
 * point leaves either the old file or the new one; a leftover `.tmp` is overwritten by the next rewrite.
 */
export async function rewriteFromRanges(
  path: string,
  src: FileHandle,
  ranges: readonly ByteRange[],
): Promise<void> {
  const tmp = `${path}.tmp`
  const out = await open(tmp, 'w')
  try {
    let written = 0
    const buf = Buffer.allocUnsafe(COPY_BYTES)
    for (const { start, end } of ranges) {
      for (let pos = start; pos < end;) {
        const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, end - pos), pos)
        if (bytesRead === 0) throw new Error(`spool ${path} shrank while being rewritten (offset ${pos})`)
        await writeAll(out, buf.subarray(0, bytesRead), written)
        written += bytesRead
        pos += bytesRead
      }
    }
    await out.sync()
  } finally {
    await out.close()
  }
  await rename(tmp, path)
  await fsyncDirectory(dirname(path))
}

/** Merges adjacent ranges ([a, b) then [b, c) become [a, c)) and drops empty ones, for fewer reads. */
export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const merged: ByteRange[] = []
  for (const r of ranges) {
    if (r.end <= r.start) continue
    const last = merged[merged.length - 1]
    if (last !== undefined && last.end === r.start)
      merged[merged.length - 1] = { start: last.start, end: r.end }
    else merged.push(r)
  }
  return merged
}
