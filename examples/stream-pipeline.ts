// Streams: a newline-delimited JSON file of orders piped into Kafka with
// pipeline(source, transform, producer.createWriteStream()). The stream's backpressure is the
// producer's buffer (buffer.memory), so a file of any size goes through in bounded memory; the
// pipeline resolves once every order has its delivery report, and rejects with the first failure.
// Without KAFKA_BOOTSTRAP_SERVERS it starts a local Kafka broker first and stops it at the end.
//
//   npx tsc -p tsconfig.json && node dist/examples/stream-pipeline.js [--orders 200000] [--file orders.ndjson]
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { withKafka } from './local-kafka.js'
import { Admin, Producer, type WriteStreamRecord } from '../src/index.js'

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '200000' },
    file: { type: 'string' },
    topic: { type: 'string', default: 'orders' },
  },
})
const ORDERS = Number(args.orders)

/** A demo input: one JSON order per line. */
async function writeOrders(path: string): Promise<void> {
  const out = createWriteStream(path)
  for (let i = 0; i < ORDERS; i++) {
    const line = JSON.stringify({ id: `order-${i}`, customer: `c-${i % 997}`, total: (i % 500) + 0.99 })
    if (!out.write(line + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  out.end()
  await finished(out)
}

/** Bytes in, one record per line out: parsed, keyed by customer so a customer's orders stay in order. */
function ordersToRecords(): Transform {
  let rest = ''
  const toRecord = (line: string): WriteStreamRecord => {
    const order = JSON.parse(line) as { id: string; customer: string }
    return { key: order.customer, value: line, headers: { 'order-id': order.id } }
  }
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, callback) {
      const lines = (rest + chunk.toString('utf8')).split('\n')
      rest = lines.pop()!
      try {
        for (const line of lines) if (line) this.push(toRecord(line))
        callback()
      } catch (err) {
        callback(err as Error) // a line that is not JSON fails the pipeline
      }
    },
    flush(callback) {
      if (rest) this.push(toRecord(rest))
      callback()
    },
  })
}

async function run(bootstrap: string, file: string): Promise<number> {
  const admin = new Admin({ bootstrapServers: bootstrap })
  await admin.createTopics([{ name: args.topic, numPartitions: 6, replicationFactor: 1 }])
  await admin.close()

  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'orders-import',
    acks: 'all',
    'linger.ms': 5,
    'buffer.memory': 32 * 1024 * 1024, // what the stream may hold in the producer, at most
  })
  const stream = producer.createWriteStream({ topic: args.topic })

  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
  const started = performance.now()
  let ok = false
  try {
    // Resolves when the file is read, every record accepted and every delivery report in.
    await pipeline(createReadStream(file), ordersToRecords(), stream)
    ok = true
  } catch (err) {
    // The first delivery failure (a KafkaError), or a line that is not JSON. Records the producer had
    // accepted still get their reports; stream.delivered and stream.failed count them.
    console.error(`pipeline failed: ${(err as Error).message}`)
  } finally {
    clearInterval(sampler)
  }
  const seconds = (performance.now() - started) / 1000
  await producer.close()

  console.log(`orders:      ${stream.accepted} accepted from ${file}`)
  console.log(`delivered:   ${stream.delivered}`)
  console.log(`failed:      ${stream.failed}`)
  console.log(`throughput:  ${Math.round(stream.delivered / seconds)} records/s (${seconds.toFixed(2)} s)`)
  console.log(`peak RSS:    ${Math.round(peakRss / 2 ** 20)} MB`)
  return ok && stream.failed === 0 ? 0 : 1
}

async function main(): Promise<number> {
  const dir = args.file ? null : mkdtempSync(join(tmpdir(), 'stream-pipeline-'))
  const file = args.file ?? join(dir!, 'orders.ndjson')
  try {
    if (dir) await writeOrders(file)
    return await withKafka((bootstrap) => run(bootstrap, file))
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err)
    process.exitCode = 1
  },
)
