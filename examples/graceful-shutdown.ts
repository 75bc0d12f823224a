// Shutting down on SIGTERM (Kubernetes, systemd, docker stop) without losing records silently.
// An HTTP service accepts orders (202 once the producer has accepted the record) and produces them;
// for the demo, a client in the same process posts orders and, after 2,000, the process sends
// SIGTERM to itself. The shutdown then:
//
//   1. stops taking new work: the HTTP server stops accepting connections and answers 503 to
//      requests that still arrive on open connections (for a consumer: stop consuming first);
//   2. `await producer.flush({ timeoutMs: 20_000 })`: delivers what was accepted, for at most 20 s;
//   3. `await producer.close({ timeoutMs: 5_000 })`: fails whatever is still undelivered with
//      _DESTROY, which the delivery callback counts like any other failure;
//   4. exits 1 if any accepted record was not delivered, 0 otherwise.
//
// 20 s + 5 s fits Kubernetes' default terminationGracePeriodSeconds (30 s), after which the pod is
// killed. The producer's own default bound for close() is delivery.timeout.ms + request.timeout.ms
// (150 s), far beyond it: always pass a timeout. See docs/producer.md, "Process lifetime", and
// docs/reliability.md.
//
//   npx tsc -p tsconfig.json && node dist/examples/graceful-shutdown.js
//   node dist/examples/graceful-shutdown.js --undeliverable   # 1 order in 10 cannot be delivered
//
// With --undeliverable, every tenth order goes to a topic that does not exist (and is not
// auto-created), so those records are still waiting when SIGTERM comes: flush() gives up after 20 s,
// close() fails them with _DESTROY, and the process exits 1 (after about 25 s).
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { Admin, KafkaError, Producer, type DeliveryCallback } from '../src/index.js'

const { values: args } = parseArgs({ options: { undeliverable: { type: 'boolean', default: false } } })
const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'
const topic = 'http-orders'
const missingTopic = 'http-orders-missing' // never created

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: topic, numPartitions: 3 }])
await admin.close()

const producer = new Producer({
  'bootstrap.servers': bootstrap,
  'client.id': 'order-api',
  'allow.auto.create.topics': false, // so that missingTopic stays missing
})

// ---- the service ---------------------------------------------------------------------------------

let accepted = 0
let delivered = 0
const failed = new Map<string, string[]>() // error code -> keys of the records that failed with it
const onDelivery: DeliveryCallback = (err, report) => {
  if (!err) {
    delivered++
    return
  }
  // A real service would dead-letter or spill the record here (see at-least-once.ts); after close()
  // only a local fallback is left, because the producer no longer accepts records.
  const keys = failed.get(err.code) ?? []
  keys.push(report.key?.toString() ?? '(null)')
  failed.set(err.code, keys)
}

let shuttingDown = false
const server = createServer(async (req, res) => {
  if (shuttingDown) {
    res.writeHead(503, { connection: 'close', 'retry-after': '1' }).end()
    return
  }
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const order = JSON.parse(Buffer.concat(chunks).toString()) as { id: number }
  if (shuttingDown) {
    // Shutdown began while the body arrived: not accepted, the client sends it elsewhere.
    res.writeHead(503, { connection: 'close', 'retry-after': '1' }).end()
    return
  }
  try {
    const to = args.undeliverable && order.id % 10 === 9 ? missingTopic : topic
    producer.produce({ topic: to, key: `order-${order.id}`, value: JSON.stringify(order) }, onDelivery)
    accepted++
    res.writeHead(202).end()
  } catch (err) {
    // Not accepted (e.g. _QUEUE_FULL): no delivery report will come, the client must retry.
    res.writeHead(503).end(err instanceof KafkaError ? err.code : 'error')
  }
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`
console.log(`order-api listening on ${url}`)

async function shutdown(signal: string): Promise<void> {
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
  console.log(`${signal}: stop taking new work (${accepted} orders accepted so far)`)
  // 1. No new work. close() stops accepting connections and closes idle keep-alive ones; requests
  //    still arriving on open connections get 503 from the handler.
  shuttingDown = true
  server.close()
  // 2. Deliver what was accepted, bounded.
  const left = await producer.flush({ timeoutMs: 20_000 })
  console.log(`flush: ${left} record(s) still undelivered after ${elapsed()}`)
  // 3. Fail the rest with _DESTROY (reported to onDelivery) and disconnect.
  await producer.close({ timeoutMs: 5_000 })
  let failures = 0
  for (const [code, keys] of failed) {
    failures += keys.length
    const sample = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ', ...' : '')
    console.error(`NOT DELIVERED: ${keys.length} record(s) with ${code}: ${sample}`)
  }
  console.log(
    `closed after ${elapsed()}: accepted=${accepted} delivered=${delivered} failed=${failures} ` +
      `exit code ${failures > 0 ? 1 : 0}`,
  )
  // 4. Exit explicitly: other handles (database pools, timers) could keep the process alive.
  process.exit(failures > 0 ? 1 : 0)
}
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))

// ---- the demo client: posts orders until the service refuses, SIGTERM after 2,000 ----------------

let posted = 0
let refused = 0
async function client(): Promise<void> {
  for (;;) {
    const id = posted++
    if (id === 2000) process.kill(process.pid, 'SIGTERM')
    try {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify({ id, total: id % 97 }) })
      await res.arrayBuffer()
      if (res.status === 503) {
        refused++
        return
      }
    } catch {
      refused++ // connection refused: the server is closed
      return
    }
  }
}
await Promise.all(Array.from({ length: 8 }, client))
console.log(`client: stopped after ${refused} refused request(s)`)
