// The guide's "Async Producer": no wrapper class is needed, send() returns a promise of the
// delivery report (or rejects with a KafkaError).
//
//   npx tsc -p tsconfig.json && node dist/examples/async-producer.js
import { Admin, KafkaError, Producer } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'orders', numPartitions: 3 }])
await admin.close()

const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'order-service' })

// One record: await its delivery report, as a request handler would.
try {
  const report = await producer.send({
    topic: 'orders',
    key: 'order-1',
    value: JSON.stringify({ total: 42 }),
  })
  console.log(`order-1 -> ${report.topic}[${report.partition}]@${report.offset}`)
} catch (err) {
  if (!(err instanceof KafkaError)) throw err
  console.error(`order-1 failed: ${err.code} (retriable: ${err.retriable})`)
}

// Many records: start every send() first, then await them together, so that they share batches.
// Awaiting each send() in turn would wait for a round trip (and linger.ms) per record.
const results = await Promise.allSettled(
  Array.from({ length: 10 }, (_, i) =>
    producer.send({ topic: 'orders', key: `order-${i + 2}`, value: JSON.stringify({ total: i }) }),
  ),
)
const failed = results.filter((r) => r.status === 'rejected').length
console.log(`${results.length - failed} delivered, ${failed} failed`)

await producer.close()
