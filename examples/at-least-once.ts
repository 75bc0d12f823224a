// The guide's at-least-once delivery: acks=all, retries until delivery.timeout.ms, a delivery
// callback, and flush() to wait for confirmation. The part the guide leaves out: a failed delivery
// report is final (the client has already retried), so every failure is routed to a dead-letter
// topic, retriable or not, instead of being logged and dropped.
//
//   npx tsc -p tsconfig.json && node dist/examples/at-least-once.js
//   node dist/examples/at-least-once.js --fallback-demo   # the dead-letter topic refuses them too
//
// Five of the 1000 orders carry a 100 KiB binary attachment, more than the `orders` topic accepts
// (max.message.bytes 64 KiB): the broker refuses them with MESSAGE_TOO_LARGE and they go to
// `orders.dlq` byte for byte, their metadata in headers. With --fallback-demo the dead-letter topic
// is too small as well, and they end up in a local JSON-lines file instead.
//
// How the dead-letter path stays correct:
// - The delivery callback only records the failure and returns. Producing from inside it is unsafe:
//   produce() can throw (_QUEUE_FULL, a fatal error, _STATE after close), and an exception thrown
//   by a delivery callback goes to error_cb, not to your code, so the record would be lost quietly.
// - The dead letter is written with send(), from async code, and counted only once the broker has
//   acknowledged it.
// - A dead letter that cannot be written is retried with backoff if that may help, then appended to
//   a local file; if even that fails, the record is printed and the process exits non-zero.
// - Keys, values and header values stay Buffers: binary payloads are not turned into strings.
//
// ReliableProducer does this for you (examples/reliable-producer.ts, docs/dead-letter.md); this is
// the pattern for a Producer of your own.
import { appendFile } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import {
  Admin,
  KafkaError,
  Producer,
  type DeliveryCallback,
  type DeliveryReport,
  type ProducerRecord,
} from '../src/index.js'

const { values: args } = parseArgs({ options: { 'fallback-demo': { type: 'boolean', default: false } } })
const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'
const topic = 'orders'
const dlqTopic = args['fallback-demo'] ? 'orders.dlq-too-small' : 'orders.dlq'
const fallbackFile = process.env.DLQ_FALLBACK_FILE ?? 'orders.dlq.jsonl'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([
  { name: topic, numPartitions: 3, configs: { 'max.message.bytes': String(64 * 1024) } },
  // A dead-letter topic must take whatever the original topic took, and the headers on top.
  args['fallback-demo']
    ? { name: dlqTopic, numPartitions: 1, configs: { 'max.message.bytes': String(4 * 1024) } }
    : { name: dlqTopic, numPartitions: 1 },
])
await admin.close()

const producer = new Producer({
  'bootstrap.servers': bootstrap,
  acks: 'all',
  'enable.idempotence': true, // the default: retries inside the client write no duplicates
  retries: 2147483647,
  error_cb: (err) => console.error(`producer error: ${err.code}: ${err.message}`),
})

/** Failed reports waiting for their dead letter, and what happened to them so far. */
class DeadLetters {
  private readonly queue: { err: KafkaError; report: DeliveryReport }[] = []
  private draining: Promise<void> | null = null
  written = 0 // acknowledged by the dead-letter topic
  spilled = 0 // appended to the local fallback file
  lost = 0 // neither: printed to stderr

  /** Called from the delivery callback: only queues, never throws, never produces. */
  add(err: KafkaError, report: DeliveryReport): void {
    this.queue.push({ err, report })
    this.draining ??= this.drain()
  }

  /** Resolves once every failed report queued so far has been dealt with. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining
  }

  private async drain(): Promise<void> {
    await setImmediate() // off the delivery callback's synchronous path
    while (this.queue.length > 0) {
      const failures = this.queue.splice(0)
      await Promise.all(failures.map(({ err, report }) => this.deadLetter(err, report)))
    }
    this.draining = null
  }

  private async deadLetter(cause: KafkaError, report: DeliveryReport): Promise<void> {
    const record = deadLetterRecord(dlqTopic, cause, report)
    for (let attempt = 1; ; attempt++) {
      try {
        const dlq = await producer.send(record)
        this.written++
        console.log(
          `dead-lettered ${report.topic} key=${report.key?.toString()} (${cause.code}) ` +
            `to ${dlq.topic}[${dlq.partition}]@${dlq.offset} value sha256=${sha256(report.value)}`,
        )
        return
      } catch (err) {
        // send() already retried inside the client until delivery.timeout.ms, so trying again helps
        // only for the few errors reported as retriable (e.g. _QUEUE_FULL: no buffer space within
        // max.block.ms), never after a fatal error or _STATE (this producer will not write again).
        if (attempt < 3 && err instanceof KafkaError && err.retriable && !err.fatal) {
          await sleep(1000 * 2 ** (attempt - 1))
          continue
        }
        await this.spill(cause, report, err)
        return
      }
    }
  }

  /** The last resort: one JSON line per record, binary data as base64, so it can be replayed. */
  private async spill(cause: KafkaError, report: DeliveryReport, dlqFailure: unknown): Promise<void> {
    const dlqError =
      dlqFailure instanceof KafkaError
        ? { code: dlqFailure.code, message: dlqFailure.message }
        : { code: 'unknown', message: String(dlqFailure) }
    const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'))
    const line = JSON.stringify({
      encoding: 'base64', // key, value and header values
      topic: report.topic,
      partition: report.partition,
      timestamp: report.timestamp,
      key: b64(report.key),
      value: b64(report.value),
      headers: report.headers.map(([k, v]) => [k, b64(v)]),
      error: { code: cause.code, message: cause.message },
      dead_letter_error: dlqError,
    })
    try {
      await appendFile(fallbackFile, line + '\n')
      this.spilled++
      console.error(
        `dead letter for key=${report.key?.toString()} failed (${dlqError.code}); appended to ${fallbackFile}`,
      )
    } catch (fileErr) {
      this.lost++
      console.error(`LOST RECORD (dead-letter topic and ${fallbackFile} both failed: ${String(fileErr)}):`)
      console.error(line)
    }
  }
}

/**
 * The record as it was, key, value and headers untouched (Buffers, so binary data survives), with
 * where it came from and why it failed in `dlq.*` headers.
 */
function deadLetterRecord(dlq: string, err: KafkaError, report: DeliveryReport): ProducerRecord {
  return {
    topic: dlq,
    key: report.key,
    value: report.value,
    headers: [
      ...report.headers,
      ['dlq.original.topic', report.topic],
      ['dlq.original.partition', String(report.partition)],
      ['dlq.original.timestamp', String(report.timestamp)],
      ['dlq.error.code', err.code],
      ['dlq.error.message', err.message],
    ],
  }
}

function sha256(b: Buffer | null): string {
  return b === null ? '(null)' : createHash('sha256').update(b).digest('hex').slice(0, 16)
}

const deadLetters = new DeadLetters()
let delivered = 0
const deliveryCallback: DeliveryCallback = (err, report) => {
  if (!err) delivered++
  // err.retriable only says whether producing the record again may succeed: route every failure.
  else deadLetters.add(err, report)
}

for (let i = 0; i < 1000; i++) {
  const oversized = i % 200 === 199
  const value = oversized ? randomBytes(100 * 1024) : JSON.stringify({ id: i })
  producer.produce(
    {
      topic,
      key: `order-${i}`,
      value,
      headers: { 'content-type': oversized ? 'application/octet-stream' : 'application/json' },
    },
    deliveryCallback,
  )
  if (oversized) console.log(`produced order-${i} with a binary value, sha256=${sha256(value as Buffer)}`)
}

// flush() waits for the orders and for the dead letters already sent; idle() for the dead letters
// still queued or waiting to be retried. close() fails what is left with _DESTROY, and those
// reports go to the callback too: the dead letters of those can only go to the fallback file.
const remaining = await producer.flush(30_000)
await deadLetters.idle()
await producer.close(5_000)
await deadLetters.idle()

const { written, spilled, lost } = deadLetters
console.log(
  `delivered=${delivered} dead-lettered=${written} in ${fallbackFile}=${spilled} lost=${lost} ` +
    `undelivered after flush=${remaining}`,
)
if (lost > 0) process.exitCode = 1
