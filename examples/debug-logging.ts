// librdkafka's `debug` contexts and a pluggable `logger` (docs/logging.md): first the default, lines
// on stderr in librdkafka's format; then the same contexts into an application logger (a console-
// based one here; pino or winston fit as they are), with errors at error level.
//
//   npx tsc -p tsconfig.json && node dist/examples/debug-logging.js
//
// Without KAFKA_BOOTSTRAP_SERVERS it starts a local Kafka broker first and stops it at the end.
// In an application, import from 'reliable-kafka' instead of '../src/index.js'.
import { withKafka } from './local-kafka.js'
import { Admin, Producer, type ProducerConfig } from '../src/index.js'

const TOPIC = 'debug-logging'

async function run(bootstrap: string): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap })
  await admin.createTopics([{ name: TOPIC, numPartitions: 2 }])
  await admin.close()

  // 1. debug alone: protocol steps and connections to stderr, `%7|<seconds>|<FAC>|<client.id>| text`.
  console.log('--- debug: protocol,broker (default logger: stderr)')
  const plain = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'debug-example',
    debug: 'protocol,broker',
  })
  await plain.send({ topic: TOPIC, key: 'k', value: 'first' })
  await plain.close()

  // 2. Your logger: every line of the contexts asked for at debug level, errors at error level.
  // pino: `logger: pino({ level: 'debug' })`. Each call gets one string, `<FAC>|<client.id>| text`.
  console.log('--- debug: eos,metadata,topic,msg into an application logger')
  const logger: NonNullable<ProducerConfig['logger']> = {
    debug: (m) => console.log(`[debug] ${m}`),
    info: (m) => console.log(`[info] ${m}`),
    warn: (m) => console.warn(`[warn] ${m}`),
    error: (m) => console.error(`[error] ${m}`),
  }
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'debug-example-2',
    debug: 'eos,metadata,topic,msg',
    logger,
  })
  for (let i = 0; i < 3; i++) await producer.send({ topic: TOPIC, key: `order-${i}`, value: `v${i}` })
  await producer.close()
}

await withKafka(run)
