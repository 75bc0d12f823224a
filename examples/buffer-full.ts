// The guide's "Buffer Full Handling" (safe_produce). produce() never waits: when buffer.memory or
// queue.buffering.max.messages is exhausted it throws KafkaError _QUEUE_FULL (Python's BufferError).
// send() instead waits up to max.block.ms for space, and is usually the simpler choice.
//
//   npx tsc -p tsconfig.json && node dist/examples/buffer-full.js
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, KafkaError, Producer, type DeliveryCallback, type RecordData } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'events', numPartitions: 3 }])
await admin.close()

// A deliberately small queue (100 records) so that it fills up.
const producer = new Producer({
  'bootstrap.servers': bootstrap,
  'queue.buffering.max.messages': 100,
  'linger.ms': 20,
})

let failed = 0
const deliveryCallback: DeliveryCallback = (err) => {
  if (err) failed++ // a real application routes it to a DLQ (see at-least-once.ts)
}

let queueFull = 0
async function safeProduce(
  topic: string,
  key: RecordData,
  value: RecordData,
  maxRetries = 3,
): Promise<boolean> {
  for (let attempt = 0; attempt < maxRetries; attempt++) {
    try {
      producer.produce({ topic, key, value }, deliveryCallback)
      return true
    } catch (err) {
      if (!(err instanceof KafkaError) || err.code !== '_QUEUE_FULL') throw err
      queueFull++
      // poll(1) in the guide: let deliveries free space. Any await yields to the event loop, where
      // delivery reports run; flush() additionally sends lingering batches at once.
      await producer.flush(1000)
      await sleep(10 * 2 ** attempt) // the guide's 0.5 * 2**attempt seconds, shortened for the demo
    }
  }
  return false
}

let accepted = 0
for (let i = 0; i < 2000; i++) {
  if (await safeProduce('events', `key-${i % 10}`, `event ${i}`)) accepted++
}
console.log(`produce(): ${accepted} accepted, _QUEUE_FULL caught ${queueFull} times`)

// The same with send(): it waits for buffer space (up to max.block.ms, 60 s by default) and rejects
// with _QUEUE_FULL only when none became free in time. No retry loop is needed.
const reports = await Promise.allSettled(
  Array.from({ length: 2000 }, (_, i) =>
    producer.send({ topic: 'events', key: `key-${i % 10}`, value: `event ${i}` }),
  ),
)
console.log(`send(): ${reports.filter((r) => r.status === 'fulfilled').length} delivered`)

const remaining = await producer.flush(30_000)
console.log(`failed deliveries: ${failed}, undelivered after flush: ${remaining}`)
await producer.close()
