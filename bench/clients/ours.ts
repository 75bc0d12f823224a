// reliable-kafka runner: produce(record, callback) in a loop, the README's basic pattern. When the
// buffer is full (_QUEUE_FULL) it waits for deliveries and retries; it yields to the event loop every
// 1,000 records so the sender can write while the loop produces. W4: a transactional producer;
// per transaction beginTransaction(), produce() each record with a callback, commitTransaction().
// W1P: W1's records through pipeline(source, producer.createWriteStream()) instead of the loop.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { KafkaError, Producer, type ProducerConfig } from '../../src/index.js'
import {
  Histogram,
  type ClientResult,
  type ObservabilityRun,
  dueAt,
  errMessage,
  finishResult,
  keyFor,
  makePayloads,
  printResult,
  progressReporter,
  readWorkload,
  runTransactions,
  sleep,
  transactionalIdFor,
} from '../common.js'

const w = readWorkload()
const config: Record<string, unknown> = {
  'bootstrap.servers': w.bootstrapServers,
  'client.id': 'bench-ours',
  acks: w.acks,
  'enable.idempotence': w.idempotence,
  'compression.type': w.compression,
  'linger.ms': w.lingerMs,
}
if (w.batchSize !== null) config['batch.size'] = w.batchSize
if (w.maxRequestBytes !== undefined) config['max.request.size'] = w.maxRequestBytes // W7: 1 MiB values
// W1S: SASL_SSL with SCRAM-SHA-512, the keys as a user writes them (docs/configuration.md, Security).
if (w.security) {
  Object.assign(config, {
    'security.protocol': 'sasl_ssl',
    'ssl.ca.location': w.security.caPath,
    'ssl.endpoint.identification.algorithm': 'https', // the default, spelled out: check the host name
    'sasl.mechanisms': w.security.mechanism,
    'sasl.username': w.security.username,
    'sasl.password': w.security.password,
  })
}

// W1O/W5O: the cost of observability (issue 13), measured in this one process: groups of W1's loop
// off, on and off again (see observabilityPairs below). `on`: statistics every
// second, parsed as an application's stats_cb would (JSON.parse, read a field), metrics recorded and
// scraped every second as a Prometheus endpoint would (producer.prometheus()). `off`: statistics and
// metrics recording both off.
type Observability = 'off' | 'on' | 'control'

function observabilityConfig(
  mode: Observability | undefined,
  seen: { stats: number },
): Record<string, unknown> {
  if (mode === 'on') {
    return {
      'statistics.interval.ms': 1000,
      stats_cb: (json: string) => {
        const stats = JSON.parse(json) as { msg_cnt?: number }
        if (typeof stats.msg_cnt === 'number') seen.stats++
      },
      'metrics.enable': true,
    }
  }
  // `control` is `off` again: the third run of each group shows the noise floor of the measurement.
  if (mode === 'off' || mode === 'control') return { 'statistics.interval.ms': 0, 'metrics.enable': false }
  return {}
}

/** `on`: reads producer.prometheus() every second while the run lasts; returns the stopper. */
function scrapeEverySecond(producer: Producer, mode: Observability | undefined, seen: { stats: number }) {
  if (mode !== 'on') return (): string[] => []
  let scrapes = 0
  let bytes = 0
  const timer = setInterval(() => {
    bytes += producer.prometheus().length
    scrapes++
  }, 1000)
  return (): string[] => {
    clearInterval(timer)
    return [`observability on: ${seen.stats} stats_cb calls, ${scrapes} Prometheus scrapes (${bytes} bytes)`]
  }
}

/**
 * W4: one transaction per call, as an application writes it: beginTransaction(), produce() with a
 * delivery callback per record, commitTransaction() (which flushes); on failure abortTransaction().
 */
async function transactions(): Promise<void> {
  const producer = new Producer({
    ...config,
    'transactional.id': transactionalIdFor('ours'),
  } as ProducerConfig)
  await producer.initTransactions()
  let recordErrors = 0
  const onDelivery = (err: KafkaError | null): void => {
    if (err) recordErrors++
  }
  const result = await runTransactions(
    'ours',
    w,
    async (messages) => {
      producer.beginTransaction()
      try {
        for (const m of messages) producer.produce({ topic: w.topic, key: m.key, value: m.value }, onDelivery)
        await producer.commitTransaction()
      } catch (e) {
        await producer.abortTransaction().catch(() => {})
        throw e
      }
    },
    ['produce() with a callback per record between beginTransaction() and commitTransaction()'],
  )
  if (recordErrors > 0) result.notes?.push(`${recordErrors} record delivery callbacks reported an error`)
  await producer.close()
  printResult(result)
}

/**
 * W1P: the same records as W1 from a Readable (a generator, no I/O of its own) through pipeline() into
 * createWriteStream(); the stream's backpressure replaces the loop's _QUEUE_FULL handling. Latency is
 * from the record's timestamp (set when the producer accepts it, ms resolution) to its report.
 */
async function streamed(): Promise<void> {
  const producer = new Producer(config as ProducerConfig)
  const payloads = makePayloads(w.recordSize)
  const h = new Histogram()
  const progress = progressReporter()
  let delivered = 0
  let errors = 0
  let firstError: string | undefined
  await producer.send({ topic: w.topic, key: 'warmup', value: payloads[0]! })
  const start = performance.now()
  let end = start
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < w.records; i++) {
        yield { key: w.keyed ? keyFor(i) : null, value: payloads[i % payloads.length]! }
      }
    })(),
  )
  const stream = producer.createWriteStream({
    topic: w.topic,
    onDelivery: (err, report) => {
      end = performance.now()
      if (err) {
        errors++
        firstError ??= errMessage(err)
      } else {
        delivered++
        h.record(Date.now() - report.timestamp)
      }
      progress(delivered + errors)
    },
    onDeliveryError: () => 'ignore', // counted above, as W1 counts its failed reports
  })
  await pipeline(source, stream)
  await producer.close()
  printResult(
    finishResult('ours', w, h, delivered, errors, end - start, {
      firstError,
      notes: ['pipeline(Readable.from(records), producer.createWriteStream()); latency at ms resolution'],
    }),
  )
}

interface LoopResult {
  result: ClientResult
  /** CPU seconds of this process during the timed part (from after the warm-up to the last report). */
  cpuMs: number
}

/**
 * W1's loop once, on a new producer with `mode`'s observability: produce() with a callback per record,
 * yielding every 1,000 records, waiting on _QUEUE_FULL until half the outstanding are delivered.
 */
async function runLoop(mode: Observability | undefined, records = w.records): Promise<LoopResult> {
  const seen = { stats: 0 }
  const producer = new Producer({ ...config, ...observabilityConfig(mode, seen) } as ProducerConfig)
  const payloads = makePayloads(w.recordSize)
  const h = new Histogram()
  const progress = progressReporter()
  let delivered = 0
  let errors = 0
  let firstError: string | undefined
  let outstanding = 0
  let wake: (() => void) | null = null
  let wakeBelow = 0

  // Warm-up: one record so metadata, the connection and InitProducerId are not in the timing.
  await producer.send({ topic: w.topic, key: 'warmup', value: payloads[0]! })
  const stopScraping = scrapeEverySecond(producer, mode, seen)

  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const start = performance.now()
  let end = start
  const onDelivery = (t0: number) => (err: KafkaError | null) => {
    const now = performance.now()
    outstanding--
    if (err) {
      errors++
      firstError ??= errMessage(err)
    } else {
      delivered++
      h.record(now - t0)
    }
    end = now
    progress(delivered + errors)
    if (wake && outstanding <= wakeBelow) {
      const f = wake
      wake = null
      f()
    }
  }
  for (let i = 0; i < records; i++) {
    if (w.rate !== null) {
      const due = dueAt(start, i, w.rate)
      const now = performance.now()
      if (due > now + 1) await sleep(due - now)
    } else if (i % 1000 === 999) {
      await new Promise<void>((r) => setImmediate(r))
    }
    const record = { topic: w.topic, key: w.keyed ? keyFor(i) : null, value: payloads[i % payloads.length]! }
    for (;;) {
      try {
        producer.produce(record, onDelivery(performance.now()))
        outstanding++
        break
      } catch (e) {
        if (!(e instanceof KafkaError) || e.code !== '_QUEUE_FULL') throw e
        wakeBelow = Math.floor(outstanding / 2)
        await new Promise<void>((r) => (wake = r))
      }
    }
  }
  const remaining = await producer.flush(120_000)
  const cpu = process.cpuUsage(cpu0)
  const elu = performance.eventLoopUtilization(elu0).utilization
  if (remaining > 0) firstError ??= `${remaining} records undelivered after flush(120 s)`
  const notes = [
    ...stopScraping(),
    `CPU over the timed part (after the warm-up record), as Java's; event-loop utilisation ${elu.toFixed(3)}`,
  ]
  await producer.close()
  const cpuMs = (cpu.user + cpu.system) / 1000
  return {
    result: { ...finishResult('ours', w, h, delivered, errors, end - start, { firstError, notes }), cpuMs },
    cpuMs,
  }
}

/**
 * W1O/W5O: `groups` groups of three runs in this process, after one unmeasured warm-up run (JIT): off,
 * on, and `control` (off again, an A/A test: how far two identical runs differ on this machine), in an
 * order that rotates from group to group, so that all see the same process, heap and machine state.
 * Each run's records/s and CPU seconds go into `observabilityRuns`.
 */
async function observabilityPairs(groups: number): Promise<void> {
  await runLoop('off', Math.ceil(w.records / 5))
  const orders: Observability[][] = [
    ['off', 'on', 'control'],
    ['on', 'control', 'off'],
    ['control', 'off', 'on'],
  ]
  const runs: ObservabilityRun[] = []
  for (let i = 0; i < groups; i++) {
    for (const mode of orders[i % orders.length]!) {
      const r = await runLoop(mode)
      runs.push({ mode, pair: i, msgsPerSec: r.result.msgsPerSec, cpuMs: r.cpuMs, result: r.result })
    }
  }
  const last = runs.at(-1)!.result
  printResult({ ...last, observabilityRuns: runs })
}

async function main(): Promise<void> {
  if (w.id === 'W4') return transactions()
  if (w.id === 'W1P') return streamed()
  if (w.observabilityPairs) return observabilityPairs(w.observabilityPairs)
  const { result } = await runLoop(w.observability)
  printResult(result)
}

main().catch((e: unknown) => {
  process.stderr.write(`FATAL ${errMessage(e)}\n`)
  process.exit(2)
})
