// An ESM application using the installed tarball: `import`, the optional packages installed (a plain
// `npm install`), lz4 batches, which load lz4-napi from where npm put it beside reliable-kafka; the
// optional peer @opentelemetry/api is not installed, and only reliable-kafka/opentelemetry needs it.
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
// @opentelemetry/api is an optional peer dependency: a plain install leaves it out, the core above
// loaded without it, and only the reliable-kafka/opentelemetry entry point asks for it.
const otel = await import('reliable-kafka/opentelemetry').then(
  () => 'loaded',
  (e) =>
    e.code === 'ERR_MODULE_NOT_FOUND' && /@opentelemetry\/api/.test(e.message) ? 'needs the peer' : e.message,
)
if (otel !== 'needs the peer')
  throw new Error(`reliable-kafka/opentelemetry without @opentelemetry/api: ${otel}`)
try {
  const report = await producer.send({ topic, key: 'esm', value: JSON.stringify({ app: 'esm' }) })
  if (!(KafkaError.prototype instanceof Error)) throw new Error('KafkaError is not an Error')
  console.log(`delivered ${report.topic}[${report.partition}]@${report.offset} (esm, lz4)`)
} finally {
  await producer.close()
}
