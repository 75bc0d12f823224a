// @confluentinc/kafka-javascript runner, librdkafka-style API (node-rdkafka compatible): Producer with
// delivery reports (dr_cb) polled on librdkafka's background thread (setPollInBackground, which its
// docs recommend for high-throughput producers). produce() in a loop; on ERR__QUEUE_FULL it waits for
// deliveries and retries, like the runner for our producer.
// W4: the same Producer with transactional.id; initTransactions() once, then per transaction
// beginTransaction(), 50 produce() calls, commitTransaction() (which flushes the records first).
import { createRequire } from 'node:module'
import { join } from 'node:path'
import {
  Histogram,
  dueAt,
  errMessage,
  finishResult,
  keyFor,
  makePayloads,
  peersDir,
  printResult,
  progressReporter,
  readWorkload,
  runTransactions,
  sleep,
  transactionalIdFor,
} from '../common.js'

/** The part of the librdkafka-style (node-rdkafka compatible) API this runner uses. */
interface RdKafkaError {
  code: number
  message: string
}
type RdCallback = (err: RdKafkaError | null) => void
interface RdProducer {
  connect(): void
  once(event: 'ready', listener: () => void): void
  once(event: 'connection.failure', listener: (err: unknown) => void): void
  on(event: 'delivery-report', listener: (err: unknown, report: { opaque: unknown }) => void): void
  setPollInBackground(enabled: boolean): void
  produce(
    topic: string,
    partition: number | null,
    value: Buffer | undefined,
    key: string | null,
    timestamp: number | null,
    opaque: unknown,
  ): void
  flush(timeoutMs: number, cb: (err: unknown) => void): void
  disconnect(cb: () => void): void
  initTransactions(timeoutMs: number, cb: RdCallback): void
  beginTransaction(cb: RdCallback): void
  commitTransaction(timeoutMs: number, cb: RdCallback): void
  abortTransaction(timeoutMs: number, cb: RdCallback): void
}
interface ConfluentModule {
  CODES: { ERRORS: { ERR__QUEUE_FULL: number } }
  Producer: new (conf: Record<string, unknown>) => RdProducer
}

const w = readWorkload()
const require = createRequire(join(peersDir(), 'package.json'))

/** Promise around a librdkafka-style callback API call. */
function call(fn: (cb: RdCallback) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())))
}

async function connect(Kafka: ConfluentModule, conf: Record<string, unknown>): Promise<RdProducer> {
  const producer = new Kafka.Producer(conf)
  await new Promise<void>((resolve, reject) => {
    producer.once('ready', () => resolve())
    producer.once('connection.failure', (e: unknown) => reject(e))
    producer.connect()
  })
  producer.setPollInBackground(true)
  return producer
}

/** W4: begin, 50 produce() calls, commit; the commit flushes the records and waits for the EndTxn. */
async function runW4(Kafka: ConfluentModule, conf: Record<string, unknown>): Promise<void> {
  const producer = await connect(Kafka, { ...conf, 'transactional.id': transactionalIdFor('confluent') })
  let recordErrors = 0
  let firstRecordError: string | undefined
  producer.on('delivery-report', (err: unknown) => {
    if (err) {
      recordErrors++
      firstRecordError ??= errMessage(err)
    }
  })
  await call((cb) => producer.initTransactions(30_000, cb))
  const result = await runTransactions(
    'confluent',
    w,
    async (messages) => {
      await call((cb) => producer.beginTransaction(cb))
      try {
        for (const m of messages) producer.produce(w.topic, null, m.value, m.key, null, null)
        await call((cb) => producer.commitTransaction(30_000, cb))
      } catch (e) {
        await call((cb) => producer.abortTransaction(30_000, cb)).catch(() => {})
        throw e
      }
    },
    [
      'librdkafka delivery reports polled in the background (setPollInBackground)',
      'initTransactions once; per transaction beginTransaction, produce() each record, commitTransaction',
    ],
  )
  if (recordErrors > 0)
    result.notes?.push(`${recordErrors} failed delivery reports, first: ${firstRecordError}`)
  await new Promise<void>((r) => producer.disconnect(() => r()))
  printResult(result)
}

async function main(): Promise<void> {
  const Kafka = require('@confluentinc/kafka-javascript') as ConfluentModule
  const QUEUE_FULL = Kafka.CODES.ERRORS.ERR__QUEUE_FULL
  const conf: Record<string, unknown> = {
    'bootstrap.servers': w.bootstrapServers,
    'client.id': 'bench-confluent',
    acks: w.acks,
    'enable.idempotence': w.idempotence,
    'compression.codec': w.compression,
    'linger.ms': w.lingerMs,
    dr_cb: true,
  }
  if (w.batchSize !== null) conf['batch.size'] = w.batchSize
  // W1S: librdkafka's own keys; it checks the broker's host name by default since 2.0, spelled out here.
  if (w.security) {
    Object.assign(conf, {
      'security.protocol': 'sasl_ssl',
      'ssl.ca.location': w.security.caPath,
      'ssl.endpoint.identification.algorithm': 'https',
      'sasl.mechanisms': w.security.mechanism,
      'sasl.username': w.security.username,
      'sasl.password': w.security.password,
    })
  }
  if (w.id === 'W4') return runW4(Kafka, conf)
  const producer = await connect(Kafka, conf)

  const payloads = makePayloads(w.recordSize)
  const h = new Histogram()
  const progress = progressReporter()
  let delivered = 0
  let errors = 0
  let firstError: string | undefined
  let outstanding = 0
  let wake: (() => void) | null = null
  let wakeBelow = 0
  let warm: (() => void) | null = null
  let start = 0
  let end = 0
  producer.on('delivery-report', (err: unknown, report: { opaque: unknown }) => {
    const now = performance.now()
    if (warm) {
      const f = warm
      warm = null
      f()
      return
    }
    outstanding--
    if (err) {
      errors++
      firstError ??= errMessage(err)
    } else {
      delivered++
      h.record(now - (report.opaque as number))
    }
    end = now
    progress(delivered + errors)
    if (wake && outstanding <= wakeBelow) {
      const f = wake
      wake = null
      f()
    }
  })
  // Warm-up record, as for every client.
  await new Promise<void>((r) => {
    warm = r
    producer.produce(w.topic, null, payloads[0], 'warmup', null, 0)
  })

  start = performance.now()
  end = start
  for (let i = 0; i < w.records; i++) {
    if (w.rate !== null) {
      const due = dueAt(start, i, w.rate)
      const now = performance.now()
      if (due > now + 1) await sleep(due - now)
    } else if (i % 1000 === 999) {
      await new Promise<void>((r) => setImmediate(r))
    }
    const key = w.keyed ? keyFor(i) : null
    const value = payloads[i % payloads.length]
    for (;;) {
      try {
        producer.produce(w.topic, null, value, key, null, performance.now())
        outstanding++
        break
      } catch (e) {
        if ((e as { code?: number }).code !== QUEUE_FULL) throw e
        wakeBelow = Math.floor(outstanding / 2)
        await new Promise<void>((r) => (wake = r))
      }
    }
  }
  await new Promise<void>((resolve, reject) =>
    producer.flush(120_000, (e: unknown) => (e ? reject(e) : resolve())),
  )
  for (let waited = 0; outstanding > 0 && waited < 30_000; waited += 5) await sleep(5)
  const result = finishResult('confluent', w, h, delivered, errors, end - start, {
    firstError,
    notes: ['librdkafka delivery reports polled in the background (setPollInBackground)'],
  })
  await new Promise<void>((r) => producer.disconnect(() => r()))
  printResult(result)
}

main().catch((e: unknown) => {
  process.stderr.write(`FATAL ${errMessage(e)}\n`)
  process.exit(2)
})
