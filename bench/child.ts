// The bench driver's child processes: one per client × workload, with a progress bar on stderr, a
// timeout and (W4) a stall watchdog, killed by pid when either fires. Also the clients' ids and the row
// each run leaves in the table.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { transactionCount, type ClientResult, type Workload, type WorkloadId } from './common.js'

export const CLIENTS = ['ours', 'kafkajs', 'confluent', 'platformatic', 'java'] as const
export type ClientId = (typeof CLIENTS)[number]

// ---------------------------------------------------------------- progress

const isTty = process.stderr.isTTY === true
export function status(line: string): void {
  if (isTty) process.stderr.write(`\r\x1b[2K${line}`)
}
export function statusDone(line: string): void {
  if (isTty) process.stderr.write(`\r\x1b[2K${line}\n`)
  else process.stderr.write(`${line}\n`)
}

export interface Row {
  client: ClientId
  workload: WorkloadId
  status: 'ok' | 'unavailable' | 'not implemented' | 'not run' | 'failed'
  reason?: string
  result?: ClientResult
  /** W1O/W5O: which variant (`observability off` / `on` / `off again`); the row is the runs' median. */
  variant?: string
  /** W1O/W5O: every run of this variant (the row's result is the median by records/s). */
  runs?: ClientResult[]
  /** W1O/W5O `on` and `off again` rows: each group's x/off (records/s, CPU seconds) and their medians. */
  pairRatios?: { msgs: number; cpu: number; each: { msgs: number; cpu: number }[] }
}

/** SIGKILLs a child and, on Linux, its own children (the JVM under /usr/bin/time), by pid. */
export function killTree(pid: number | undefined): void {
  if (pid === undefined) return
  let children: number[] = []
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number)
  } catch {
    // not Linux, or already gone
  }
  for (const c of children) {
    try {
      process.kill(c, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

export interface ChildRun {
  code: number | null
  stdout: string
  stderr: string
  ms: number
  /** Why the harness killed the child, if it did. */
  killed?: string
}

export function runChild(
  label: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  total: number,
  timeoutMs: number,
  parseProgress: (line: string) => number | null,
  stallMs?: number,
): Promise<ChildRun> {
  return new Promise((resolvePromise) => {
    const t0 = Date.now()
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let done = 0
    let lastChange = t0
    let killed: string | undefined
    const kill = (why: string): void => {
      killed ??= why
      killTree(child.pid)
    }
    const draw = (): void => {
      const pct = total > 0 ? Math.min(100, (done / total) * 100) : 0
      const bar = '#'.repeat(Math.round(pct / 5)).padEnd(20, '.')
      status(
        `${label} [${bar}] ${pct.toFixed(0).padStart(3)}%  ${done}/${total}  ${((Date.now() - t0) / 1000).toFixed(0)}s`,
      )
    }
    const ticker = setInterval(() => {
      draw()
      if (stallMs !== undefined && Date.now() - lastChange > stallMs)
        kill(`killed (no progress for ${stallMs / 1000} s)`)
    }, 500)
    const killer = setTimeout(() => kill(`killed (timeout ${Math.round(timeoutMs / 1000)} s)`), timeoutMs)
    const onLines = (text: string, into: 'out' | 'err'): void => {
      for (const line of text.split('\n')) {
        const n = parseProgress(line)
        if (n !== null) {
          if (n !== done) lastChange = Date.now()
          done = n
        } else if (line && into === 'err') stderr += line + '\n'
      }
    }
    let outBuf = ''
    let errBuf = ''
    child.stdout.on('data', (b: Buffer) => {
      outBuf += b.toString('utf8')
      const i = outBuf.lastIndexOf('\n')
      if (i >= 0) {
        stdout += outBuf.slice(0, i + 1)
        onLines(outBuf.slice(0, i), 'out')
        outBuf = outBuf.slice(i + 1)
      }
    })
    child.stderr.on('data', (b: Buffer) => {
      errBuf += b.toString('utf8')
      const i = errBuf.lastIndexOf('\n')
      if (i >= 0) {
        onLines(errBuf.slice(0, i), 'err')
        errBuf = errBuf.slice(i + 1)
      }
    })
    child.on('close', (code) => {
      clearInterval(ticker)
      clearTimeout(killer)
      stdout += outBuf
      if (errBuf) stderr += errBuf
      resolvePromise({ code, stdout, stderr, ms: Date.now() - t0, ...(killed ? { killed } : {}) })
    })
  })
}

export const nodeProgress = (line: string): number | null => {
  const m = /^PROGRESS (\d+)/.exec(line)
  return m ? Number(m[1]) : null
}

export function timeoutFor(w: Workload): number {
  // W4 runs its transactions one after another, and a client that waits out a retry backoff after every
  // commit takes about a second each (see README): allow 2 s each, plus the stall watchdog below.
  if (w.txnSize) return Math.max(120_000, transactionCount(w) * 2000)
  // W1O/W5O: one runner does the off/on/control groups and a warm-up run.
  const runs = w.observabilityPairs ? 3 * w.observabilityPairs + 1 : 1
  return Math.max(120_000, runs * w.records * (w.recordSize > 500 ? 2 : 0.5))
}

/** W4 only: kill a runner whose progress has not moved for this long (no transaction takes a minute). */
export function stallFor(w: Workload): number | undefined {
  return w.txnSize ? 60_000 : undefined
}
