// Readiness for a service that produces: fail fast at startup with connect(), answer a readiness
// probe from it, look at a topic's partitions, and log the producer's lifecycle events.
//
//   npx tsc -p tsconfig.json && node dist/examples/readiness-probe.js
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Admin, KafkaError, Producer } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'orders', numPartitions: 3 }])
await admin.close()

const producer = new Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'order-service' })

// Lifecycle events for logs and alerts. Listeners run inside the producer: keep them short.
const events = producer.instrumentation
events.on('producer.connected', (e) => console.log(`[${e.clientId}] connected, ${e.brokers} broker(s)`))
events.on('producer.fatal', (e) => console.error(`[${e.clientId}] stopped: ${e.error.code}`))
events.on('producer.closed', (e) => console.log(`[${e.clientId}] closed, ${e.failed} record(s) undelivered`))

// Startup: the cluster answers, the topic exists and the producer id is there, or we stop here
// (_ALL_BROKERS_DOWN, _UNKNOWN_TOPIC, TOPIC_AUTHORIZATION_FAILED, _TIMED_OUT, ...).
try {
  await producer.connect({ topics: ['orders'], timeoutMs: 10_000 })
} catch (err) {
  if (!(err instanceof KafkaError)) throw err
  console.error(`Kafka is not ready: ${err.code}: ${err.message}`)
  await producer.close()
  process.exit(1)
}

const partitions = await producer.partitionsFor('orders')
console.log(
  `orders: ${partitions.map((p) => `${p.partition} (leader ${p.leader}${p.available ? '' : ', none now'})`).join(', ')}`,
)

// A readiness endpoint. Once ready, connect() resolves at once from what the producer knows; it
// rejects after close() (_STATE) or a fatal error. It does not ask the brokers again on every
// probe: failed deliveries and error_cb are what tell about an outage later.
const server = createServer((req, res) => {
  if (req.url !== '/ready') {
    res.writeHead(404).end()
    return
  }
  producer.connect({ topics: ['orders'], timeoutMs: 1_000 }).then(
    () => res.writeHead(200).end('ready\n'),
    (err: KafkaError) => res.writeHead(503).end(`${err.code}\n`),
  )
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo

const ready = await fetch(`http://127.0.0.1:${port}/ready`)
console.log(`GET /ready -> ${ready.status} ${(await ready.text()).trim()}`)

await producer.send({ topic: 'orders', key: 'order-1', value: JSON.stringify({ total: 42 }) })
await producer.close()
const closed = await fetch(`http://127.0.0.1:${port}/ready`)
console.log(`after close(): GET /ready -> ${closed.status} ${(await closed.text()).trim()}`)
server.close()
