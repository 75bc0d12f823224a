// The Java peer: bench/java/ProducerLoad.java (W1-W3 at equal work: our keys, values and a callback per
// record), Kafka's ProducerPerformance (W1-W3 as an extra row: unkeyed records) and
// bench/java/TransactionsPerf.java (W4), each in a JVM on the cached Kafka jars under /usr/bin/time,
// which gives the JVM's peak RSS and CPU time.
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jvmCommonFlags } from '../scripts/kafka/jars.js'
import { type ChildRun, type Row, nodeProgress, runChild, stallFor, timeoutFor } from './child.js'
import {
  Histogram,
  W4_LATENCY_NOTE,
  transactionCount,
  transactionalIdFor,
  type ClientResult,
  type Workload,
} from './common.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..') // from dist/bench

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

/**
 * ProducerPerformance for W1-W3 and W1S; W4 goes to runJavaTransactions. `securityConfig` (W1S): a
 * properties file with the SASL_SSL settings, passed as `--command-config` so that no password is on the
 * command line; the workload's settings (`--producer-props`) come on top of it.
 */
export async function runJava(
  w: Workload,
  libs: string,
  payloadFile: string,
  securityConfig?: string,
): Promise<Row> {
  if (w.id === 'W4') return runJavaTransactions(w, libs, payloadFile)
  if (w.javaTool !== 'ProducerPerformance') return runJavaLoad(w, libs, payloadFile, securityConfig)
  const props = [
    `bootstrap.servers=${w.bootstrapServers}`,
    `acks=${w.acks}`,
    `enable.idempotence=${w.idempotence}`,
    `compression.type=${w.compression}`,
    `linger.ms=${w.lingerMs}`,
    'client.id=bench-java',
  ]
  if (w.batchSize !== null) props.push(`batch.size=${w.batchSize}`)
  if (w.maxRequestBytes !== undefined) props.push(`max.request.size=${w.maxRequestBytes}`)
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
    ...(securityConfig ? ['--command-config', securityConfig] : []),
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
  const row = javaRow(w, r.stderr, {
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
      ...(w.security ? [`${w.security.protocol} ${w.security.mechanism} through --command-config`] : []),
    ],
  })
  return { ...row, variant: 'ProducerPerformance, unkeyed' }
}

// "LOAD_SUMMARY delivered=N errors=N elapsed_ms=X cpu_ms=N p50_ms=X p99_ms=X p999_ms=X max_ms=X first_error=..."
const JAVA_LOAD_SUMMARY =
  /LOAD_SUMMARY delivered=(\d+) errors=(\d+) elapsed_ms=([\d.]+) cpu_ms=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+) p999_ms=([\d.]+) max_ms=([\d.]+) first_error=(.*)/

/**
 * W1-W3 for Java at equal work (issue 14): bench/java/ProducerLoad.java through the JDK's source
 * launcher sends our records (same keys, values, a callback each, same settings). Its CPU time is the
 * JVM's own over the timed part (ProducerLoad measures it), so start-up and compiling the source are
 * left out; peak RSS still comes from /usr/bin/time.
 */
async function runJavaLoad(
  w: Workload,
  libs: string,
  payloadFile: string,
  securityConfig?: string,
): Promise<Row> {
  const source = join(repoRoot, 'bench/java/ProducerLoad.java')
  const args = javaArgs(libs, [
    source,
    '--bootstrap-servers',
    w.bootstrapServers,
    '--topic',
    w.topic,
    '--records',
    String(w.records),
    '--payload-file',
    payloadFile,
    '--keyed',
    String(w.keyed),
    '--acks',
    w.acks,
    '--idempotence',
    String(w.idempotence),
    '--compression',
    w.compression,
    '--linger-ms',
    String(w.lingerMs),
    ...(w.batchSize !== null ? ['--batch-size', String(w.batchSize)] : []),
    ...(w.rate !== null ? ['--rate', String(w.rate)] : []),
    ...(w.maxRequestBytes !== undefined ? ['--max-request-size', String(w.maxRequestBytes)] : []),
    ...(securityConfig ? ['--command-config', securityConfig] : []),
  ])
  const r = await runChild(
    `${w.id} ${'java'.padEnd(12)}`,
    '/usr/bin/time',
    args,
    process.env,
    w.records,
    timeoutFor(w),
    nodeProgress,
  )
  const m = JAVA_LOAD_SUMMARY.exec(r.stdout)
  if (!m) return { client: 'java', workload: w.id, status: 'failed', reason: javaFailure(r) }
  const delivered = Number(m[1])
  const elapsedMs = Number(m[3])
  const secs = elapsedMs / 1000
  const row = javaRow(w, r.stderr, {
    delivered,
    errors: Number(m[2]),
    elapsedMs: Math.round(elapsedMs),
    msgsPerSec: secs > 0 ? delivered / secs : 0,
    p50Ms: Number(m[5]),
    p99Ms: Number(m[6]),
    p999Ms: Number(m[7]),
    maxMs: Number(m[8]),
    ...(m[9]?.trim() ? { firstError: m[9].trim() } : {}),
    notes: [
      'bench/java/ProducerLoad.java: our keys and values, send() with a callback per record; latency from the record entering the accumulator',
      'CPU: the JVM process over the timed part (after start-up and one warm-up record); RSS from /usr/bin/time',
      ...(w.security ? [`${w.security.protocol} ${w.security.mechanism} through --command-config`] : []),
    ],
  })
  // The timed part's CPU, as ProducerLoad measured it in the JVM (javaRow put the whole JVM's there).
  return row.result ? { ...row, result: { ...row.result, cpuMs: Number(m[4]) } } : row
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
