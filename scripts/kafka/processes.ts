// The processes the harness starts (broker, ZooKeeper and tool JVMs, kcat) and what they leave behind:
// every child and every cluster temp dir is tracked so that nothing outlives the process that started
// it, whichever way that process ends. Also the small file helpers those processes need: the tail of a
// log for error messages, and the .properties files a JVM reads.

import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/** How many lines of a JVM's logs an error message quotes. */
export const LOG_TAIL_LINES = 40

const liveChildren = new Set<ChildProcess>()
const liveDirs = new Set<string>()
let handlersInstalled = false

function killEverythingSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  liveChildren.clear()
  if (process.env['RELIABLE_KAFKA_KEEP_DATA'] === '1') return
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
  liveDirs.clear()
}

export function installExitHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', killEverythingSync)
  // 'exit' is not emitted when Node dies of an uncaught exception, hence the monitor. When someone has an
  // 'uncaughtException' handler (node:test does), the process survives, so the brokers must too.
  process.on('uncaughtExceptionMonitor', () => {
    if (process.listenerCount('uncaughtException') === 0) killEverythingSync()
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Another listener (the CLI, the test runner) means the application shuts down gracefully itself;
      // the 'exit' handler still catches whatever it leaves behind.
      if (process.listenerCount(signal) > 1) return
      killEverythingSync()
      process.removeListener(signal, onSignal)
      process.kill(process.pid, signal) // die of the signal, as without a handler
    }
    process.on(signal, onSignal)
  }
}

// If this process is SIGKILLed no handler runs, so each JVM gets a tiny watchdog that kills it once its
// parent (this process) is gone: the watchdog is reparented then, which changes its ppid. It then
// removes the cluster's temp dir (argv[2], may be empty) once the JVM has died.
const WATCHDOG = `
const pid = Number(process.argv[1]), dir = process.argv[2], ppid = process.ppid
const alive = () => { try { process.kill(pid, 0); return true } catch { return false } }
const timer = setInterval(() => {
  if (!alive()) process.exit(0)
  if (process.ppid === ppid) return
  clearInterval(timer)
  try { process.kill(pid, 'SIGKILL') } catch {}
  const t0 = Date.now()
  const reap = setInterval(() => {
    if (alive() && Date.now() - t0 < 10000) return
    clearInterval(reap)
    if (dir) require('node:fs').rmSync(dir, { recursive: true, force: true })
  }, 100)
}, 500)
`

function startWatchdog(pid: number, cleanupDir: string): void {
  const dog = spawn(process.execPath, ['-e', WATCHDOG, String(pid), cleanupDir], { stdio: 'ignore' })
  dog.unref()
}

/** Spawns `command` (a JVM, kcat) that is killed when this process exits, however it exits. */
export function spawnTracked(
  command: string,
  args: string[],
  stdio: StdioOptions,
  cleanupDir?: string,
): ChildProcess {
  installExitHandlers()
  const child = spawn(command, args, { stdio })
  liveChildren.add(child)
  child.on('exit', () => liveChildren.delete(child))
  child.on('error', () => liveChildren.delete(child))
  if (child.pid !== undefined) {
    const keep = process.env['RELIABLE_KAFKA_KEEP_DATA'] === '1'
    startWatchdog(child.pid, cleanupDir !== undefined && !keep ? cleanupDir : '')
  }
  return child
}

/** Spawns a JVM whose stdout and stderr are appended to `outFile`. */
export function spawnJavaToFile(args: string[], outFile: string, cleanupDir: string): ChildProcess {
  const fd = openSync(outFile, 'a')
  try {
    return spawnTracked('java', args, ['ignore', fd, fd], cleanupDir)
  } finally {
    closeSync(fd)
  }
}

/** Removes `dir` when this process exits (unless RELIABLE_KAFKA_KEEP_DATA=1), if nothing did before. */
export function trackTempDir(dir: string): void {
  installExitHandlers()
  liveDirs.add(dir)
}

/** `dir` is gone (or deliberately kept): the exit handlers leave it alone. */
export function forgetTempDir(dir: string): void {
  liveDirs.delete(dir)
}

export function runToCompletion(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => resolve(code))
  })
}

/** The last `lines` lines of the file at `path`, or a note that it is missing or empty. */
export function tail(path: string, lines: number): string {
  if (!existsSync(path)) return `(${path} does not exist)`
  const text = readFileSync(path, 'utf8').trimEnd()
  if (text.length === 0) return `(${path} is empty)`
  return text.split('\n').slice(-lines).join('\n')
}

/**
 * The error of a JVM (`what` names it and what went wrong, `state` how it ended) with the tails of its
 * `server.log` and `stdout.log` in `logsDir`.
 */
export function jvmFailure(what: string, state: string, logsDir: string): Error {
  const serverLog = join(logsDir, 'server.log')
  const stdoutLog = join(logsDir, 'stdout.log')
  return new Error(
    `${what}; the JVM ${state}.\n` +
      `--- last ${LOG_TAIL_LINES} lines of ${serverLog} ---\n${tail(serverLog, LOG_TAIL_LINES)}\n` +
      `--- last ${LOG_TAIL_LINES} lines of ${stdoutLog} ---\n${tail(stdoutLog, LOG_TAIL_LINES)}`,
  )
}

/** The text of a .properties file holding `props`. */
export function propsText(props: Record<string, string>): string {
  // Backslashes are escapes in .properties files; Windows-free paths never contain them, but be exact.
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`)
    .join('\n')
    .concat('\n')
}
