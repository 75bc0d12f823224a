// @confluentinc/kafka-javascript runner, librdkafka-style API (node-rdkafka compatible): Producer with
// delivery reports (dr_cb) polled on librdkafka's background thread (setPollInBackground, which its
// docs recommend for high-throughput producers). produce() in a loop; on ERR__QUEUE_FULL it waits for
// deliveries and retries, like the runner for our producer.
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
  sleep,
} from '../common.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const w = readWorkload()
const require = createRequire(join(peersDir(), 'package.json'))

async function main(): Promise<void> {
  const Kafka = require('@confluentinc/kafka-javascript') as any
  if (w.id === 'W4') throw new Error('W4 not run for confluent in this harness')
  const QUEUE_FULL = Kafka.CODES.ERRORS.ERR__QUEUE_FULL as number
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
  const producer = new Kafka.Producer(conf)
  await new Promise<void>((resolve, reject) => {
    producer.once('ready', () => resolve())
    producer.once('connection.failure', (e: unknown) => reject(e))
    producer.connect()
  })
  producer.setPollInBackground(true)

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
