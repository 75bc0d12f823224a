// The guide's "Headers and Metadata": headers as [key, value] pairs (Kafka allows a key to repeat)
// or as an object, and an explicit event-time timestamp in ms since the epoch.
//
//   npx tsc -p tsconfig.json && node dist/examples/headers-and-timestamps.js
import { randomUUID } from 'node:crypto'
import { Admin, Producer } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'events', numPartitions: 3 }])
await admin.close()

const producer = new Producer({ 'bootstrap.servers': bootstrap })
const traceId = randomUUID().replaceAll('-', '')

// Header values may be strings (sent as UTF-8), Buffers, Uint8Arrays or null.
const report = await producer.send({
  topic: 'events',
  key: 'order-123',
  value: JSON.stringify({ order_id: 123, total: 42 }),
  headers: [
    ['correlation_id', randomUUID()],
    ['trace_id', traceId],
    ['source', 'order-service'],
    ['event_type', 'order.created'],
  ],
  timestamp: Date.now(), // Event time (the default is the time of the send/produce call)
})
console.log(`Delivered to ${report.topic}[${report.partition}]@${report.offset} at ${report.timestamp}`)
for (const [k, v] of report.headers) console.log(`  ${k}: ${v?.toString() ?? null}`)

// The object form; an array value repeats the key. An event time from the past is kept as given
// (unless the topic uses message.timestamp.type=LogAppendTime: then the report has the broker's time).
const yesterday = Date.now() - 24 * 3600 * 1000
const late = await producer.send({
  topic: 'events',
  key: 'order-123',
  value: JSON.stringify({ order_id: 123, status: 'shipped' }),
  headers: { trace_id: traceId, tag: ['late', 'backfill'] },
  timestamp: yesterday,
})
console.log(`backfilled record timestamp ${new Date(late.timestamp).toISOString()}, headers:`)
for (const [k, v] of late.headers) console.log(`  ${k}: ${v?.toString() ?? null}`)

await producer.close()
