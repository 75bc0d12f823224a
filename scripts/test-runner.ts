// What `npm test` runs after the build: one shared single-node Kafka for the whole run, then node:test
// over the compiled tests, then the broker is stopped whatever happened.
//
//   node dist/scripts/test-runner.js                               all of dist/test but dist/test/compat
//   node dist/scripts/test-runner.js dist/test/integration/x.test.js   a subset (files or directories)
//   node dist/scripts/test-runner.js --kafka-version=2.8.2 dist/test/compat   another broker version
//   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 node dist/scripts/test-runner.js   use that broker, start none
//
// The tests see KAFKA_BOOTSTRAP_SERVERS, and KAFKA_VERSION when --kafka-version was given. Other
// arguments starting with -- go to `node --test`.

import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKafka, type KafkaCluster } from './kafka/cluster.js'
import { DEFAULT_KAFKA_VERSION } from './kafka/jars.js'
import { installKcatIfMissing } from './kafka/tools.js'

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const TEST_FILE = /\.test\.(c|m)?js$/
/** Run by `npm run test:compat` against older brokers (scripts/compat.ts), only when named. */
const COMPAT_DIR = 'compat'

// Test files are listed here rather than handing node a directory: Node 20 searches a directory argument,
// but Node 21+ treat arguments as globs, and an explicit list behaves the same on every version.
function collect(path: string, out: string[], skipDirs: readonly string[] = []): void {
  const st = statSync(path)
  if (st.isFile()) {
    out.push(path)
    return
  }
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = join(path, entry.name)
    if (entry.isDirectory()) {
      if (!skipDirs.includes(entry.name)) collect(full, out, skipDirs)
    } else if (TEST_FILE.test(entry.name)) out.push(full)
  }
}

/** Splits off --kafka-version=<v> / --kafka-version <v>; the other --flags go to node --test. */
function parseArgs(args: readonly string[]): {
  version: string | null
  nodeFlags: string[]
  targets: string[]
} {
  let version: string | null = null
  const nodeFlags: string[] = []
  const targets: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--kafka-version') version = args[++i] ?? null
    else if (a.startsWith('--kafka-version=')) version = a.slice('--kafka-version='.length)
    else if (a.startsWith('--')) nodeFlags.push(a)
    else targets.push(a)
  }
  return { version, nodeFlags, targets }
}

async function main(): Promise<number> {
  const { version, nodeFlags, targets } = parseArgs(process.argv.slice(2))
  const files: string[] = []
  if (targets.length > 0) for (const t of targets) collect(t, files)
  else collect(join(repoRoot, 'dist', 'test'), files, [COMPAT_DIR])
  if (files.length === 0) {
    console.error('test-runner: no *.test.js files found; did the build run?')
    return 1
  }

  // Only integration and compatibility tests need a broker. Most of them also check our bytes with
  // kcat: install it where we can; where we cannot, one line says so and those tests skip themselves.
  const needsBroker = files.some((f) => /(^|[\\/])(integration|compat)[\\/]/.test(f))
  if (needsBroker) installKcatIfMissing((line) => console.log(`test-runner: ${line}`))

  let cluster: KafkaCluster | null = null
  const env = { ...process.env }
  if (version !== null) env['KAFKA_VERSION'] = version
  if (env['KAFKA_BOOTSTRAP_SERVERS']) {
    console.log(`test-runner: using the broker at ${env['KAFKA_BOOTSTRAP_SERVERS']}`)
  } else if (needsBroker) {
    const started = Date.now()
    cluster = await startKafka({ nodes: 1, version: version ?? DEFAULT_KAFKA_VERSION })
    env['KAFKA_BOOTSTRAP_SERVERS'] = cluster.bootstrapServers
    const what = `Kafka ${cluster.version}${cluster.zookeeperConnect ? ' (ZooKeeper mode)' : ''}`
    console.log(`test-runner: ${what} ready at ${cluster.bootstrapServers} in ${Date.now() - started} ms`)
  }
  console.log(`test-runner: ${files.length} test file(s)`)

  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      ...nodeFlags,
      ...files.map((f) => relative(process.cwd(), f)),
    ],
    { stdio: 'inherit', env },
  )

  // Ctrl-C reaches the whole process group, so the test process gets it too: wait for it to finish,
  // then stop the broker. SIGTERM reaches only us: pass it on. A second signal stops waiting.
  let signalled: NodeJS.Signals | null = null as NodeJS.Signals | null
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      child.kill('SIGKILL')
      return
    }
    signalled = signal
    if (signal !== 'SIGINT') child.kill(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      console.error(`test-runner: could not start node --test: ${err.message}`)
      resolve(1)
    })
    child.on('exit', (c, signal) => {
      const signum = signal ? ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] : 0
      resolve(c ?? 128 + (signum ?? 1))
    })
  })
  if (cluster) await cluster.stop()
  // An interrupted run reports the interruption, whatever the test process made of the signal.
  if (signalled) return signalled === 'SIGINT' ? 130 : 143
  return code
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  },
)
