// The guide's "Basic Producer": produce() with a delivery callback, then flush().
//
//   npx tsc -p tsconfig.json && node dist/examples/basic-producer.js
//
// In an application, import from 'reliable-kafka' instead of '../src/index.js'.
import { Admin, Producer, type DeliveryCallback } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'events', numPartitions: 3 }])
await admin.close()

const deliveryCallback: DeliveryCallback = (err, report) => {
  if (err) console.log(`Delivery failed: ${err.code}: ${err.message}`)
  else console.log(`Delivered to ${report.topic}[${report.partition}]@${report.offset}`)
}

const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'my-producer' })

// Synchronous: the record is queued, the callback runs once when the broker has answered.
producer.produce(
  { topic: 'events', key: 'user-123', value: JSON.stringify({ action: 'login' }) },
  deliveryCallback,
)

// CRITICAL: flush to ensure delivery. Resolves with the number of records still undelivered.
const remaining = await producer.flush(10_000)
if (remaining > 0) console.log(`${remaining} record(s) not delivered within 10 s`)
await producer.close()
