// The guide's "Batching for Throughput": a record waits up to linger.ms for more records bound for
// its partition; a batch leaves when linger.ms expires or batch.size is reached, whichever is first.
// There is no poll(): delivery callbacks run on Node's event loop by themselves.
//
//   npx tsc -p tsconfig.json && node dist/examples/batching.js
import { Admin, Producer } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'events', numPartitions: 3 }])
await admin.close()

// High-throughput producer
const producer = new Producer({
  'bootstrap.servers': bootstrap,
  acks: 'all',

  // Aggressive batching
  'batch.size': 65536, // 64KB batches
  'linger.ms': 50, // Wait 50ms for batch
  'compression.type': 'lz4', // needs the optional package lz4-napi

  // More in-flight
  'max.in.flight.requests.per.connection': 5,
})

const events = Array.from({ length: 50_000 }, (_, i) =>
  JSON.stringify({ id: i, type: 'page_view', at: Date.now() }),
)

// Produce many messages
const started = performance.now()
let errors = 0
for (const event of events) {
  producer.produce({ topic: 'events', value: event }, (err) => {
    if (err) errors++
  })
}
const remaining = await producer.flush(30_000) // Final flush: sends lingering batches at once, then waits
const ms = performance.now() - started
console.log(
  `${events.length} records in ${ms.toFixed(0)} ms (${Math.round(events.length / (ms / 1000))} msg/s), ` +
    `errors=${errors}, undelivered=${remaining}`,
)

// flush() does not wait for linger.ms: with a 10 s linger, a record still goes out at once (the time
// below includes this producer's first metadata request and connection).
const slow = new Producer({ 'bootstrap.servers': bootstrap, 'linger.ms': 10_000 })
const t0 = performance.now()
slow.produce({ topic: 'events', value: 'one' })
await slow.flush(5000)
console.log(`flush() with linger.ms=10000 took ${(performance.now() - t0).toFixed(0)} ms`)
await slow.close()
await producer.close()
