// Java-named producer metrics (docs/metrics.md): producer.metrics() for code, producer.prometheus()
// for a Prometheus scrape. Produces 10,000 records, prints a few metrics, then serves /metrics on
// port 9464 for a few seconds (curl http://localhost:9464/metrics).
//
//   npx tsc -p tsconfig.json && node dist/examples/metrics.js
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer, type Metric } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'events', numPartitions: 3 }], { ifNotExists: true })
await admin.close()

const producer = new Producer({
  'bootstrap.servers': bootstrap,
  'client.id': 'metrics-example',
  'linger.ms': 5,
})

for (let i = 0; i < 10_000; i++) {
  producer.produce({ topic: 'events', key: `user-${i % 100}`, value: JSON.stringify({ i }) }, (err) => {
    if (err) console.error('delivery failed:', err.code)
  })
}
await producer.flush()

/** The producer-wide metric `name` (group producer-metrics). */
const metric = (metrics: readonly Metric[], name: string): number =>
  metrics.find((m) => m.group === 'producer-metrics' && m.name === name)?.value ?? NaN

const metrics = producer.metrics()
for (const name of [
  'record-send-total',
  'record-error-total',
  'record-retry-total',
  'records-per-request-avg',
  'request-latency-avg',
  'batch-size-avg',
  'buffer-available-bytes',
]) {
  console.log(`${name.padEnd(26)} ${metric(metrics, name)}`)
}

// A /metrics endpoint: the text exposition format 0.0.4.
const server = http
  .createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(producer.prometheus())
  })
  .listen(9464)
console.log('serving http://localhost:9464/metrics for 5 s')
await sleep(5_000)
server.close()
await producer.close()
