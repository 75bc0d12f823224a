// Cancelling send() and flush() with an AbortSignal, and `await using` to close the producer when
// a scope ends (Node 20.4+).
//
//   npx tsc -p tsconfig.json && node dist/examples/abort-and-dispose.js
import { Admin, KafkaError, Producer } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'events', numPartitions: 3 }])
await admin.close()

{
  // close() runs when the block ends, even when it throws: it flushes first (bounded by
  // delivery.timeout.ms + request.timeout.ms), so every record gets its real outcome.
  await using producer = new Producer({
    'bootstrap.servers': bootstrap,
    'buffer.memory': 64 * 1024, // small, so that the sends below have to wait for space
    'linger.ms': 20,
  })

  // A request handler that gives up after 2 s. While the record waits for buffer space or for
  // its topic's metadata, aborting takes it back (never written, _ABORTED). Once it is in a batch
  // nothing can recall it, and send() settles with its delivery report or error as usual.
  try {
    const report = await producer.send(
      { topic: 'events', value: 'hello' },
      { signal: AbortSignal.timeout(2_000) },
    )
    console.log(`hello -> ${report.topic}[${report.partition}]@${report.offset}`)
  } catch (err) {
    if (!(err instanceof KafkaError) || err.code !== '_ABORTED') throw err
    console.log('gave up before the record was in a batch: it was not sent')
  }

  // One controller for a shutdown: every send() still waiting for space stops at once.
  const shutdown = new AbortController()
  const sends = Array.from({ length: 200 }, (_, i) =>
    producer.send({ topic: 'events', key: `k${i}`, value: 'x'.repeat(1_000) }, { signal: shutdown.signal }),
  )
  shutdown.abort(new Error('shutting down'))
  const results = await Promise.allSettled(sends)
  const delivered = results.filter((r) => r.status === 'fulfilled').length
  const aborted = results.filter(
    (r) => r.status === 'rejected' && (r.reason as KafkaError).code === '_ABORTED',
  ).length
  // Each promise settled once: the delivered records were written, the aborted ones were not.
  console.log(
    `${delivered} delivered, ${aborted} aborted (never written), ${200 - delivered - aborted} failed`,
  )

  // flush() with a signal stops waiting early, like its timeout: it resolves with the number of
  // records still undelivered and never throws.
  producer.produce({ topic: 'events', value: 'last' })
  const left = await producer.flush({ timeoutMs: 30_000, signal: AbortSignal.timeout(5_000) })
  console.log(`${left} record(s) undelivered when flush() returned`)
} // <- producer[Symbol.asyncDispose]() = producer.close()
console.log('producer closed')
