// The guide's exactly-once snippet: a transactional producer writes each order and its inventory
// update in one transaction, so read_committed consumers see both records or neither.
//
//   npx tsc -p tsconfig.json && node dist/examples/exactly-once.js
//
// Five orders, one transaction each. The first attempt at order-3 fails after its two records were
// written (the inventory service "times out"): the transaction is aborted and the order placed again
// in a new one. The aborted attempt's delivery reports said success, with offsets, yet a
// read_committed reader (KafkaJS, at the end) sees every order exactly once: the aborted records stay
// in the log, skipped. docs/transactions.md explains the states and errors handled here.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import { Admin, KafkaError, Producer, type DeliveryReport, type ProducerConfig } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'
const topics = { orders: 'orders', inventory: 'inventory' }
const run = randomUUID() // a header on this run's records, to tell them from earlier runs' on read-back

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([
  { name: topics.orders, numPartitions: 3 },
  { name: topics.inventory, numPartitions: 3 },
])
await admin.close()

const config: ProducerConfig = {
  'bootstrap.servers': bootstrap,
  'transactional.id': 'order-processor-1', // Unique per instance, the same after a restart
  acks: 'all', // required with transactions (the default)
  'enable.idempotence': true, // forced on by transactional.id
}
const producer = new Producer(config)

// Fences an earlier instance with the same transactional.id and ends its open transaction.
await producer.initTransactions()

interface Order {
  id: string
  sku: string
  quantity: number
}
const orders: Order[] = [1, 2, 3, 4, 5].map((i) => ({ id: `order-${i}`, sku: `sku-${i % 2}`, quantity: i }))

/** commitTransaction() or abortTransaction(), called again while it times out (its outcome is pending). */
async function finish(end: () => Promise<void>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await end()
    } catch (err) {
      if (!(err instanceof KafkaError) || err.code !== '_TIMED_OUT' || attempt === attempts) throw err
    }
  }
}

const where = (r: DeliveryReport): string => `${r.topic}[${r.partition}]@${r.offset}`

/** One order in one transaction; an abortable failure (or our simulated one) is retried once. */
async function placeOrder(order: Order): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    producer.beginTransaction()
    let written: DeliveryReport[] = []
    try {
      const headers = { run, order: order.id, attempt: String(attempt) }
      // send() resolves once the record is written into the open transaction, not when it is
      // committed; produce() without waiting works as well, since commitTransaction() flushes.
      written = await Promise.all([
        producer.send({ topic: topics.orders, key: order.id, value: JSON.stringify(order), headers }),
        producer.send({
          topic: topics.inventory,
          key: order.sku,
          value: JSON.stringify({ sku: order.sku, delta: -order.quantity, order: order.id }),
          headers,
        }),
      ])
      if (order.id === 'order-3' && attempt === 1) throw new Error('inventory service timed out')
      await finish(() => producer.commitTransaction())
      console.log(`committed ${order.id}: ${written.map(where).join(', ')}`)
      return
    } catch (err) {
      // Fatal (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, ...): this producer can do nothing more.
      if (err instanceof KafkaError && err.fatal) throw err
      await finish(() => producer.abortTransaction())
      const reason = err instanceof KafkaError ? `${err.code}: ${err.message}` : String(err)
      console.log(
        `aborted ${order.id} (attempt ${attempt}: ${reason}); ` +
          `its records were reported written at ${written.map(where).join(', ') || 'nothing'}, now aborted`,
      )
      // Retry our simulated failure and abortable errors (a record failed, TRANSACTION_ABORTABLE);
      // anything else is a real problem with this order.
      const simulated = !(err instanceof KafkaError)
      if (!(simulated || err.txnRequiresAbort) || attempt === 2) throw err
    }
  }
}

let exitCode = 0
try {
  for (const order of orders) await placeOrder(order)
} catch (err) {
  exitCode = 1
  const fatal = err instanceof KafkaError && err.fatal
  console.error(
    `${fatal ? 'fatal, stopping' : 'gave up'}: ${err instanceof Error ? err.message : String(err)}`,
  )
}
console.log(`transaction state: ${producer.transactionState}`)
await producer.close()

// Read both topics back as a read_committed consumer would. Keys decide partitions, so the retried
// order-3 went to the partitions of its aborted attempt, after it: a reader that reached the committed
// copy has passed the aborted one, and would have counted it if it were visible.
if (exitCode !== 0) process.exit(exitCode)
const expected = orders.length * 2
const seen = new Map<string, number>() // "topic order attempt" -> how often read
// logLevel NOTHING: KafkaJS logs the broker answers it retries (COORDINATOR_NOT_AVAILABLE while a first
// group is set up) as errors.
const kafka = new Kafka({
  clientId: 'exactly-once-check',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
})
const consumer = kafka.consumer({ groupId: `exactly-once-check-${run}`, readUncommitted: false })
await consumer.connect()
await consumer.subscribe({ topics: [topics.orders, topics.inventory], fromBeginning: true })
let read = 0
const allRead = new Promise<void>((resolve) => {
  void consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (message.headers?.run?.toString() !== run) return // an earlier run's record
      const { order, attempt } = message.headers
      const key = `${topic} ${order?.toString()} attempt ${attempt?.toString()}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
      if (++read >= expected) resolve()
    },
  })
})
const timedOut = await Promise.race([allRead.then(() => false), sleep(30_000, true, { ref: false })])
await consumer.disconnect()

console.log(`read_committed reader, this run's records (topic, order, attempt: times read):`)
for (const [key, count] of [...seen].sort()) console.log(`  ${key}: ${count}`)
const duplicates = [...seen.values()].filter((n) => n > 1).length
const fromAborted = [...seen.keys()].filter((k) => k.endsWith('order-3 attempt 1')).length
console.log(
  `${read} records read, ${expected} expected; ${duplicates} read twice, ${fromAborted} from the aborted attempt` +
    (timedOut ? ' (gave up waiting after 30 s)' : ''),
)
if (timedOut || duplicates > 0 || fromAborted > 0) exitCode = 1
process.exitCode = exitCode
