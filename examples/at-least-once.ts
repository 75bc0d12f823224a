// The guide's at-least-once delivery: acks=all, retries until delivery.timeout.ms, a delivery
// callback, and flush() to wait for confirmation. The part the guide leaves out: a failed delivery
// report is final (the client has already retried), so every failure is routed to a dead-letter
// topic, retriable or not, instead of being logged and dropped.
//
//   npx tsc -p tsconfig.json && node dist/examples/at-least-once.js
import { Admin, Producer, type DeliveryCallback } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([
  { name: 'orders', numPartitions: 3 },
  { name: 'orders.dlq', numPartitions: 1 },
])
await admin.close()

const producer = new Producer({
  'bootstrap.servers': bootstrap,
  acks: 'all',
  'enable.idempotence': true, // the default: retries inside the client write no duplicates
  retries: 2147483647,
})

let delivered = 0
let deadLettered = 0
const deliveryCallback: DeliveryCallback = (err, report) => {
  if (!err) {
    delivered++
    return
  }
  // err.retriable only says whether producing the record again may succeed.
  deadLettered++
  producer.produce({
    topic: `${report.topic}.dlq`,
    key: report.key,
    value: JSON.stringify({
      original_topic: report.topic,
      original_key: report.key?.toString() ?? null,
      original_value: report.value?.toString() ?? null,
      error: err.message,
      error_code: err.code,
    }),
  })
}

for (let i = 0; i < 1000; i++) {
  producer.produce(
    { topic: 'orders', key: `order-${i % 50}`, value: JSON.stringify({ id: i }) },
    deliveryCallback,
  )
}
const remaining = await producer.flush(30_000) // Wait for confirmation (dead letters included)
console.log(`delivered=${delivered} dead-lettered=${deadLettered} still pending=${remaining}`)
await producer.close()
if (remaining > 0) process.exitCode = 1
