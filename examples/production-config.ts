// The guide's "Production Configuration", the dictionary copied unchanged: librdkafka and Java
// key spellings are both accepted, and Python-style values ('all', numbers) work as they are.
//
//   npx tsc -p tsconfig.json && node dist/examples/production-config.js
//
// One caveat (see README "Status"): 'compression.type': 'lz4' needs the optional package lz4-napi
// (installed by npm install where a prebuilt binary exists). Without it the constructor throws
// KafkaError _NOT_IMPLEMENTED; this example then falls back to gzip.
// 'enable.idempotence': true is the default anyway; set explicitly, it makes a conflicting setting
// (acks other than all, retries 0, more than 5 in flight) a ConfigError instead of silently turning
// idempotence off.
import { Admin, KafkaError, Producer, type ProducerConfig } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'orders', numPartitions: 3 }])
await admin.close()

const config: ProducerConfig = {
  // Connection
  'bootstrap.servers': 'kafka:9092',
  'client.id': 'order-service-producer',

  // Durability (CRITICAL)
  acks: 'all', // Wait for all replicas
  'enable.idempotence': true, // Prevent duplicates

  // Retries
  retries: 2147483647, // Infinite retries
  'retry.backoff.ms': 100, // Backoff between retries
  'delivery.timeout.ms': 120000, // 2 min total timeout

  // Batching (performance)
  'batch.size': 16384, // 16KB batch
  'linger.ms': 5, // Wait 5ms for batch
  'compression.type': 'lz4', // Compress batches

  // Memory
  'buffer.memory': 33554432, // 32MB buffer
  'max.block.ms': 60000, // Block if buffer full
}
config['bootstrap.servers'] = bootstrap // the guide's kafka:9092 → the broker we run against

let producer: Producer
try {
  producer = new Producer(config)
} catch (err) {
  if (!(err instanceof KafkaError) || err.code !== '_NOT_IMPLEMENTED') throw err
  console.log(`${err.code}: ${err.message}; using gzip instead`)
  producer = new Producer({ ...config, 'compression.type': 'gzip' })
}

const report = await producer.send({
  topic: 'orders',
  key: 'order-123',
  value: JSON.stringify({ total: 42 }),
})
console.log(`Delivered to ${report.topic}[${report.partition}]@${report.offset}`)
await producer.close()
