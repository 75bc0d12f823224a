// A TypeScript application using the installed tarball's types, compiled by pack-test with several
// module settings (nodenext as ESM and as CommonJS, bundler), with strict and skipLibCheck off so
// that our .d.ts files are checked too. No top-level await: the same file compiles to CommonJS.
import { KafkaError, Producer, type DeliveryReport, type ProducerConfig } from 'reliable-kafka'

const app = process.env['PACK_TEST_APP'] ?? 'ts'
const config: ProducerConfig = {
  'bootstrap.servers': process.env['KAFKA_BOOTSTRAP_SERVERS'] ?? 'localhost:9092',
  'client.id': `pack-test-${app}`,
  acks: 'all',
  'request.timeout.ms': 10_000,
  'delivery.timeout.ms': 30_000,
}

async function main(): Promise<void> {
  const producer = new Producer(config)
  try {
    const report: DeliveryReport = await producer.send({
      topic: process.env['PACK_TEST_TOPIC'] ?? 'pack-test',
      key: app,
      value: Buffer.from(`from ${app}`),
      headers: { app },
    })
    console.log(`delivered ${report.topic}[${report.partition}]@${report.offset} (${app})`)
  } finally {
    await producer.close()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof KafkaError ? `${err.code}: ${err.message}` : err)
  process.exitCode = 1
})
