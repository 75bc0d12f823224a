// One process at a time owns a spool file. A replay removes acknowledged entries by rewriting the
// file and renaming the copy over it; an entry another process appended to the old file meanwhile
// would vanish with it. So a process that writes a spool (append or replay) first takes `<path>.lock`,
// a file holding its pid, and keeps it until close() or its exit.
//
// A lock left by a process that died (SIGKILL, power cut) is taken over, with a warning: its pid no
// longer runs, or (Linux) runs a different process, told by the start time in /proc/<pid>/stat that
// the lock records, or is a zombie. A lock naming our own pid is ours: after a container restart the
// application often has the same pid as before. What this cannot tell apart: two hosts or containers
// (separate pid namespaces) sharing the spool's folder, where the pid in the lock means nothing.
import { readFileSync, unlinkSync } from 'node:fs'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'

interface LockContent {
  readonly pid: number
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), null off Linux. */
  readonly start: string | null
}

/** Start time and state of a running process, from /proc (Linux); null where there is no /proc. */
function procStat(pid: number): { start: string; state: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = fields[19] // field 22 of the whole line; fields[0] is field 3 (state)
    return start === undefined ? null : { start, state: fields[0] ?? '' }
  } catch {
    return null
  }
}

function ourContent(): LockContent {
  return { pid: process.pid, start: procStat(process.pid)?.start ?? null }
}

function parse(text: string): LockContent | null {
  try {
    const v = JSON.parse(text) as Partial<LockContent> | null
    if (typeof v?.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0) {
      return { pid: v.pid, start: typeof v.start === 'string' ? v.start : null }
    }
  } catch {
    // a lock cut short by a crash while being written: nobody can own it
  }
  return null
}

/** Whether the process a lock names still runs (the same process, not a later one with its pid). */
function running(owner: LockContent): boolean {
  try {
    process.kill(owner.pid, 0) // signal 0: only asks whether the pid exists
  } catch (err) {
    // EPERM: it exists but belongs to another user
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = procStat(owner.pid)
  if (stat === null) return true // no /proc: the pid exists, so assume it is the owner
  if (stat.state === 'Z') return false // exited, not yet reaped by its parent
  return owner.start === null || owner.start === stat.start
}

/** Locks this process holds, removed when it exits (an exit handler must be synchronous). */
const held = new Set<string>()
let exitHandlerInstalled = false

function removeHeldLocksSync(): void {
  for (const lockPath of held) {
    try {
      if (parse(readFileSync(lockPath, 'utf8'))?.pid === process.pid) unlinkSync(lockPath)
    } catch {
      // already gone
    }
  }
  held.clear()
}

/**
 * Takes `lockPath` for this process. Resolves when it is ours: it was free, already ours, or left by a
 * process that no longer runs (taken over, with a warning). Rejects when a running process holds it.
 */
export async function acquireSpoolLock(
  lockPath: string,
  spoolPath: string,
  warn: (message: string) => void,
): Promise<void> {
  const mine = `${JSON.stringify(ourContent())}\n`
  try {
    // 'wx' (O_EXCL): creating the file is the atomic test-and-set between processes.
    await writeFile(lockPath, mine, { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const owner = parse(await readFile(lockPath, 'utf8').catch(() => ''))
    if (owner !== null && owner.pid !== process.pid && running(owner)) {
      throw new Error(
        `Spool ${spoolPath} is in use by process ${owner.pid} (lock file ${lockPath}): one process at a ` +
          'time may write a spool file. Delete the lock file only if that process does not use the spool.',
      )
    }
    if (owner === null || owner.pid !== process.pid) {
      warn(
        `Spool ${spoolPath}: taking over the lock of process ${owner?.pid ?? '(unreadable lock file)'}, ` +
          'which no longer runs',
      )
    }
    // Replaced by rename, so that no reader ever sees a half-written lock file.
    const tmp = `${lockPath}.${process.pid}.tmp`
    await writeFile(tmp, mine)
    await rename(tmp, lockPath)
    // Two processes taking over the same stale lock at once: the last rename wins, the other one
    // sees a pid that is not its own here and backs off.
    const now = parse(await readFile(lockPath, 'utf8'))
    if (now?.pid !== process.pid) {
      throw new Error(`Spool ${spoolPath}: process ${now?.pid ?? '?'} took the lock file ${lockPath} first`)
    }
  }
  held.add(lockPath)
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true
    process.on('exit', removeHeldLocksSync)
  }
}

/** Removes `lockPath` if this process holds it. */
export async function releaseSpoolLock(lockPath: string): Promise<void> {
  if (!held.delete(lockPath)) return
  const owner = parse(await readFile(lockPath, 'utf8').catch(() => ''))
  if (owner?.pid === process.pid) await unlink(lockPath).catch(() => undefined)
}
