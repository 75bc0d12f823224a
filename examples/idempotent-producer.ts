// An idempotent producer (the default, shown explicitly): the producer gets a producer id and epoch
// from the cluster, numbers every batch per partition, and the broker writes each batch once and in
// order however often the client retries it. Exactly-once per partition, for this producer instance.
//
//   npx tsc -p tsconfig.json && node dist/examples/idempotent-producer.js
//
// What the application still has to do: route failed reports somewhere (a failed report is final),
// and on a fatal error (err.fatal, e.g. PRODUCER_FENCED) close the producer and create a new one.
import { Admin, KafkaError, Producer, type DeliveryReport } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'
const topic = 'payments'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: topic, numPartitions: 3 }])
await admin.close()

const producer = new Producer({
  'bootstrap.servers': bootstrap,
  'client.id': 'payment-service',
  // The default; set explicitly, a conflicting setting (acks 0/1, retries 0, more than 5 in flight)
  // is a ConfigError instead of turning idempotence off silently.
  'enable.idempotence': true,
  acks: 'all',
  'delivery.timeout.ms': 120000,
})

// Start every send() first, then await them together: they share batches, up to 5 batches per
// partition are in flight, and retries keep the order of each partition.
const accounts = ['acct-1', 'acct-2', 'acct-3', 'acct-4']
const sent = Array.from({ length: 200 }, (_, i) => ({
  key: accounts[i % accounts.length]!,
  value: JSON.stringify({ payment: i, amount: (i * 7) % 100 }),
}))
const results = await Promise.allSettled(sent.map((r) => producer.send({ topic, ...r })))

console.log(
  producer.producerId !== null
    ? `producer id ${producer.producerId}, epoch ${producer.producerEpoch}`
    : 'idempotence is off',
)

let failed = 0
let fatal: KafkaError | null = null
const lastOffset = new Map<string, number>() // per key: offsets must grow in send() order
let outOfOrder = 0
let duplicatesAcknowledged = 0
for (const [i, r] of results.entries()) {
  if (r.status === 'rejected') {
    failed++
    const err = r.reason as KafkaError
    if (err.fatal && !fatal) fatal = err
    continue
  }
  const report: DeliveryReport = r.value
  if (report.offset < 0) {
    duplicatesAcknowledged++ // DUPLICATE_SEQUENCE_NUMBER: delivered, offset unknown
    continue
  }
  const key = sent[i]!.key
  if (report.offset <= (lastOffset.get(key) ?? -1)) outOfOrder++
  lastOffset.set(key, report.offset)
}
console.log(
  `${results.length - failed} delivered (${duplicatesAcknowledged} as acknowledged duplicates), ` +
    `${failed} failed, ${outOfOrder} out of order`,
)

if (fatal) {
  // The producer cannot continue: produce()/send() now throw this error. Close it and create a new
  // one (it gets a new producer id), then produce again what failed.
  console.error(`fatal: ${fatal.code}: ${fatal.message}`)
}
await producer.close()
if (failed > 0 || outOfOrder > 0) process.exitCode = 1
