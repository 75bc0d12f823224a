// The guide's at-most-once delivery: acks=0, fire and forget. The broker never answers, so a
// record counts as delivered once it is written to the socket: no error and no offset (-1) is
// ever reported, and what the broker loses after that is lost silently.
//
//   npx tsc -p tsconfig.json && node dist/examples/at-most-once.js
import { Admin, Producer } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'metrics', numPartitions: 3 }])
await admin.close()

const producer = new Producer({
  'bootstrap.servers': bootstrap,
  acks: '0', // Don't wait for ack
})

for (let i = 0; i < 100; i++) {
  producer.produce({ topic: 'metrics', value: JSON.stringify({ cpu: Math.random(), at: Date.now() }) })
}
// No callback is needed, but the process must not exit before the records are written: Node stays
// alive while records are undelivered, and close() (a bounded flush) makes the end explicit.
producer.produce({ topic: 'metrics', value: 'last' }, (err, report) =>
  console.log(`last record: err=${err?.code ?? null} offset=${report.offset}`),
)
await producer.close()
console.log('100 metrics written to the socket (acks=0: not confirmed by the broker)')
