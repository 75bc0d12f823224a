// `npm run test:compat`: the compatibility suite (dist/test/compat) against each older broker version in
// turn, one single-node broker per version, started and stopped by scripts/test-runner.ts. `npm test`
// covers the default version.
//
//   node dist/scripts/compat.js            every version in COMPAT_KAFKA_VERSIONS
//   node dist/scripts/compat.js 2.8.2      only these versions
//
// Prints a summary line per version and exits non-zero if any version failed.

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMPAT_KAFKA_VERSIONS, usesZooKeeper } from './kafka/jars.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const runner = join(here, 'test-runner.js')
const suite = join(here, '..', 'test', 'compat')

function runVersion(version: string): Promise<number> {
  const child = spawn(process.execPath, [runner, `--kafka-version=${version}`, suite], { stdio: 'inherit' })
  // Ctrl-C reaches the whole process group, the runner included, which stops its broker itself; SIGTERM
  // reaches only us: pass it on. Either way the versions not started yet are skipped.
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true
    if (signal !== 'SIGINT') child.kill(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return new Promise<number>((resolve) => {
    child.on('error', (err) => {
      console.error(`compat: could not start the test runner: ${err.message}`)
      resolve(1)
    })
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1))
    })
  })
}

let interrupted = false

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const versions = args.length > 0 ? args : [...COMPAT_KAFKA_VERSIONS]
  const results: { version: string; code: number; ms: number }[] = []
  const started = Date.now()
  for (const version of versions) {
    if (interrupted) break
    const mode = usesZooKeeper(version) ? 'ZooKeeper mode' : 'KRaft'
    console.log(`\n== compat: Kafka ${version} (${mode})`)
    const t0 = Date.now()
    const code = await runVersion(version)
    results.push({ version, code, ms: Date.now() - t0 })
  }
  console.log('\n== compat summary')
  for (const r of results) {
    console.log(
      `Kafka ${r.version}: ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`} in ${(r.ms / 1000).toFixed(1)} s`,
    )
  }
  for (const v of versions.slice(results.length)) console.log(`Kafka ${v}: not run (interrupted)`)
  console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`)
  if (interrupted) return 130
  return results.every((r) => r.code === 0) && results.length === versions.length ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  },
)
