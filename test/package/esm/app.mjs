// An ESM application using the installed tarball: `import`, the optional packages installed (a plain
// `npm install`), lz4 batches, which load lz4-napi from where npm put it beside reliable-kafka.
/* global process, console */
import { KafkaError, Producer } from 'reliable-kafka'

const topic = process.env.PACK_TEST_TOPIC
const producer = new Producer({
  'bootstrap.servers': process.env.KAFKA_BOOTSTRAP_SERVERS,
  'client.id': 'pack-test-esm',
  'compression.type': 'lz4',
  'request.timeout.ms': 10000,
  'delivery.timeout.ms': 30000,
})
try {
  const report = await producer.send({ topic, key: 'esm', value: JSON.stringify({ app: 'esm' }) })
  if (!(KafkaError.prototype instanceof Error)) throw new Error('KafkaError is not an Error')
  console.log(`delivered ${report.topic}[${report.partition}]@${report.offset} (esm, lz4)`)
} finally {
  await producer.close()
}
