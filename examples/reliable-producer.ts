// The guide's ReliableProducer ("Error Handling", "Production Pattern"): acks=all, idempotence, and
// every record that fails for good routed to <topic>.dlq with an envelope saying what it was and
// why it failed. Here it is a class of the library (docs/dead-letter.md), and send() says where each
// record went.
//
//   npx tsc -p tsconfig.json && node dist/examples/reliable-producer.js [--spool <file>]
//
// Without KAFKA_BOOTSTRAP_SERVERS it starts a local Kafka broker first (jars from Maven Central,
// cached in ~/.cache/reliable-kafka) and stops it at the end. It sends the guide's record, then two
// that fail for good: a task with an attachment larger than the topic's max.message.bytes
// (MESSAGE_TOO_LARGE), and an event for a topic that does not exist, with topic auto-creation
// refused (_UNKNOWN_TOPIC). Both land in their dead-letter topics. With --spool, records whose
// dead-letter write fails too are kept in that file, and replaySpool() sends them again at startup.
import { parseArgs } from 'node:util'
import { withKafka } from './local-kafka.js'
import { Admin, ReliableProducer, type ReliableSendResult } from '../src/index.js'

const { values: args } = parseArgs({ options: { spool: { type: 'string' } } })

async function main(): Promise<number> {
  return withKafka(run)
}

/** One line per outcome: where the record went. */
function describe(what: string, r: ReliableSendResult): string {
  if (!('deadLettered' in r)) return `${what}: delivered to ${r.topic}[${r.partition}]@${r.offset}`
  if (r.deadLettered) {
    return `${what}: failed for good (${r.error.code}), dead-lettered to ${r.dlq.topic}[${r.dlq.partition}]@${r.dlq.offset}`
  }
  return `${what}: failed (${r.error.code}), dead-letter write failed (${r.deadLetterError.code}), spooled as ${r.id}`
}

async function run(bootstrap: string): Promise<number> {
  // Dead-letter topics are created ahead, like their topics: the producer never creates topics.
  const admin = new Admin({ bootstrapServers: bootstrap })
  await admin.createTopics([
    {
      name: 'task-events',
      numPartitions: 3,
      replicationFactor: 1,
      configs: { 'max.message.bytes': '65536' },
    },
    { name: 'task-events.dlq', numPartitions: 1, replicationFactor: 1 },
    { name: 'task-archive.dlq', numPartitions: 1, replicationFactor: 1 },
  ])
  await admin.close()

  // The guide's configuration; acks=all and idempotence are forced on by ReliableProducer anyway.
  const producer = new ReliableProducer(
    {
      'bootstrap.servers': bootstrap,
      'client.id': 'task-service',
      acks: 'all',
      'enable.idempotence': true,
      retries: 2147483647,
      'delivery.timeout.ms': 120000,
      // So that the missing topic below fails after 5 s instead of being created (or waited for 30 s).
      'allow.auto.create.topics': false,
      'topic.metadata.propagation.max.ms': 5000,
    },
    args.spool ? { spool: { path: args.spool } } : {},
  )
  try {
    if (args.spool) {
      const replay = await producer.replaySpool()
      console.log(`Spool ${args.spool}: ${replay.replayed} replayed, ${replay.remaining} left`)
    }
    const outcomes = await Promise.all([
      producer.send('task-events', 'task-123', { title: 'Buy groceries' }),
      producer.send('task-events', 'task-124', {
        title: 'Scan receipts',
        attachment: Buffer.alloc(100 * 1024, 7).toString('base64'),
      }),
      producer.send('task-archive', 'task-100', { archived: true }),
    ])
    const what = ['task-123 (the guide)', 'task-124 (136 KiB)', 'task-100 (missing topic)']
    outcomes.forEach((r, i) => console.log(describe(what[i]!, r)))
    await producer.flush()
    console.log(`Counters: ${JSON.stringify(producer.stats)}`)
    const expected = ['delivered', 'MESSAGE_TOO_LARGE', '_UNKNOWN_TOPIC']
    const got = outcomes.map((r) => ('deadLettered' in r ? r.error.code : 'delivered'))
    return got.every((g, i) => g === expected[i]) ? 0 : 1
  } finally {
    await producer.close()
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err)
    process.exitCode = 1
  },
)
