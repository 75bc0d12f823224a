// Consume-transform-produce, exactly once: a KafkaJS consumer reads orders from `orders.placed`, each
// order is priced and written to `orders.priced`, and the consumer's offsets are committed by the same
// transaction (sendOffsetsToTransaction), so an input record's output and the mark "consumed" become
// visible together or not at all.
//
//   npx tsc -p tsconfig.json && node dist/examples/consume-transform-produce.js [--records 200] [--fail-every 3]
//
// It first writes --records new orders to the input topic, then processes exactly that many records,
// one transaction per KafkaJS batch, starting where the group's committed offsets are (so what an
// interrupted earlier run left comes first). Every --fail-every-th transaction fails once after it has
// produced its output, as if the transform had crashed (0: never): it is aborted, and KafkaJS hands
// the same records over again. At the end it prints the group's committed offsets and reads the
// output as a read_committed consumer: every input record processed must be there exactly once.
//
// The consumer side, as docs/transactions.md asks: KafkaJS commits nothing itself (autoCommit: false),
// reads only committed input (readUncommitted: false), processes one batch at a time (one open
// transaction per producer), and is rewound after an abort by not resolving the batch's offsets.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { Kafka, logLevel, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs'
import { Admin, KafkaError, Producer, type ConsumerGroupMetadata } from '../src/index.js'

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200' },
    'fail-every': { type: 'string', default: '3' },
  },
})
const total = Number(args.records)
const failEvery = Number(args['fail-every'])
const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'
const input = 'orders.placed'
const output = 'orders.priced'
const groupId = 'order-pricer'
const run = randomUUID() // a header on this run's output, to tell it from earlier runs' on read-back

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([
  { name: input, numPartitions: 3 },
  { name: output, numPartitions: 3 },
])
await admin.close()

// 1. The input: new orders from an ordinary (idempotent, not transactional) producer.
const seed = new Producer({ 'bootstrap.servers': bootstrap })
await Promise.all(
  Array.from({ length: total }, (_, i) =>
    seed.send({
      topic: input,
      key: `customer-${i % 7}`,
      value: JSON.stringify({ order: `${run.slice(0, 8)}-${i}`, items: 1 + (i % 5), unitPrice: 250 }),
    }),
  ),
)
await seed.close()
console.log(`wrote ${total} orders to ${input}`)

// 2. The transactional producer. One transactional.id per instance is enough because the offsets
// carry the consumer's generation and member id (KIP-447): see GroupMembership below.
const producer = new Producer({ 'bootstrap.servers': bootstrap, 'transactional.id': 'order-pricer-1' })
await producer.initTransactions()

// 3. The consumer.
// KafkaJS logs the broker answers it retries (COORDINATOR_NOT_AVAILABLE while a first group is set up)
// as errors; what matters here reaches the code as rejected calls and CRASH events instead.
const kafka = new Kafka({
  clientId: 'order-pricer',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
})
const consumer = kafka.consumer({ groupId, readUncommitted: false })

/**
 * The consumer's generation and member id, for the offsets' KIP-447 fencing: the group coordinator
 * then refuses offsets from a member that a rebalance removed. KafkaJS has no call that returns them
 * (Java's consumer.groupMetadata()): its GROUP_JOIN event carries the member id but not the
 * generation, and only its HEARTBEAT events carry both. So they are taken from the last heartbeat,
 * forgotten at each rebalance, and waited for before a transaction sends offsets (a heartbeat goes out
 * once heartbeatInterval, 3 s by default, has passed since the last). Should they be stale all the
 * same, the coordinator refuses the offsets (ILLEGAL_GENERATION) and the transaction is aborted and
 * done again: slower, never wrong. Passing only { groupId } would work too, without that fencing.
 */
class GroupMembership {
  private current: { generationId: number; memberId: string } | null = null

  constructor(
    consumer: Consumer,
    private readonly groupId: string,
  ) {
    consumer.on(consumer.events.HEARTBEAT, ({ payload }) => {
      this.current = { generationId: payload.groupGenerationId, memberId: payload.memberId }
    })
    const forget = (): void => {
      this.current = null
    }
    consumer.on(consumer.events.REBALANCING, forget)
    consumer.on(consumer.events.GROUP_JOIN, forget)
  }

  /** Call before beginTransaction(): heartbeat() throws when the group is rebalancing. */
  async metadata(heartbeat: () => Promise<void>): Promise<ConsumerGroupMetadata> {
    while (this.current === null) {
      await heartbeat() // sends one if heartbeatInterval has passed since the last
      if (this.current === null) await sleep(100)
    }
    return { groupId: this.groupId, ...this.current }
  }
}
const membership = new GroupMembership(consumer, groupId)

/** The transform: price an order. */
function price(message: KafkaMessage): string {
  const order = JSON.parse(message.value?.toString() ?? '{}') as { items: number; unitPrice: number }
  return JSON.stringify({ ...order, total: order.items * order.unitPrice })
}

/** commitTransaction() or abortTransaction(), called again while it times out (its outcome is pending). */
async function finishTransaction(end: () => Promise<void>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await end()
    } catch (err) {
      if (!(err instanceof KafkaError) || err.code !== '_TIMED_OUT' || attempt === attempts) throw err
    }
  }
}

let processed = 0
let transactions = 0
let aborts = 0
const committedSources = new Set<string>() // "partition@offset" of each input record whose output was committed
const failures = new Map<string, number>() // batch ("partition@first offset") -> failed attempts
let stopError: unknown = null
let stop!: () => void
const stopped = new Promise<void>((resolve) => (stop = resolve))

async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
  if (processed >= total || stopError !== null || !isRunning() || isStale()) return
  const messages = batch.messages.slice(0, total - processed) // exactly `total` records in all
  if (messages.length === 0) return
  const first = messages[0]!
  const last = messages[messages.length - 1]!
  const batchKey = `${batch.partition}@${first.offset}`
  const range = `${batch.topic}[${batch.partition}] ${first.offset}..${last.offset}`
  // The offset to resume from: after the last record processed, not the last one read.
  const next = BigInt(last.offset) + 1n

  const group = await membership.metadata(heartbeat)
  const txn = ++transactions
  producer.beginTransaction()
  try {
    for (const m of messages) {
      producer.produce({
        topic: output,
        key: m.key, // the same key, so the same partition for a retry as for the aborted attempt
        value: price(m),
        headers: { run, source: `${batch.partition}@${m.offset}` },
      })
    }
    if (failEvery > 0 && txn % failEvery === 0 && !failures.has(batchKey)) {
      throw new Error(`simulated crash after producing ${messages.length} records`)
    }
    await producer.sendOffsetsToTransaction(
      [{ topic: batch.topic, partition: batch.partition, offset: next }],
      group,
    )
    await finishTransaction(() => producer.commitTransaction())
  } catch (err) {
    const reason = err instanceof KafkaError ? `${err.code}: ${err.message}` : String(err)
    // Fatal: this producer can do nothing more (PRODUCER_FENCED: another instance took over).
    // Still committing after the timeouts: the outcome is unknown; a new producer would settle it.
    if ((err instanceof KafkaError && err.fatal) || producer.transactionState === 'committing') {
      stopError = err
      stop()
      return
    }
    try {
      await finishTransaction(() => producer.abortTransaction())
    } catch (abortErr) {
      stopError = abortErr
      stop()
      return
    }
    aborts++
    const failed = (failures.get(batchKey) ?? 0) + 1
    failures.set(batchKey, failed)
    console.log(`txn ${txn}: ${range}: aborted (${reason}); KafkaJS will hand these records over again`)
    if (failed >= 3) {
      stopError = err // the same records keep failing: a real problem, not one to retry forever
      stop()
    }
    return // without resolveOffset(): KafkaJS fetches from the first of these records again
  }

  resolveOffset(last.offset) // KafkaJS's own position; the group's committed offset moved with the commit
  processed += messages.length
  for (const m of messages) committedSources.add(`${batch.partition}@${m.offset}`)
  console.log(
    `txn ${txn}: ${range}: ${messages.length} priced orders to ${output}, offset ${next} committed ` +
      `for ${groupId} (generation ${group.generationId})`,
  )
  if (processed >= total) stop()
}

consumer.on(consumer.events.CRASH, ({ payload }) => {
  if (payload.restart) return // KafkaJS rejoins by itself
  stopError = payload.error
  stop()
})
const timeout = setTimeout(() => {
  stopError = new Error(`gave up after 120 s with ${processed} of ${total} records processed`)
  stop()
}, 120_000)

await consumer.connect()
await consumer.subscribe({ topics: [input], fromBeginning: true })
await consumer.run({
  autoCommit: false, // the transactions commit the offsets
  eachBatchAutoResolve: false, // resolveOffset() only after a commit
  partitionsConsumedConcurrently: 1, // the default: one transaction at a time
  eachBatch,
})
await stopped
clearTimeout(timeout)
await consumer.disconnect()
console.log(
  `${processed} records processed in ${transactions} transactions, ${aborts} aborted; ` +
    `producer ${producer.transactionState}`,
)
await producer.close()

// 4. What the group committed: its offsets moved only with committed transactions.
const kafkaAdmin = kafka.admin()
await kafkaAdmin.connect()
const [committed] = await kafkaAdmin.fetchOffsets({ groupId, topics: [input] })
await kafkaAdmin.disconnect()
const offsets = committed?.partitions.map((p) => `[${p.partition}] ${p.offset}`).join(', ')
console.log(`committed offsets of ${groupId} on ${input}: ${offsets}`)

if (stopError !== null) {
  const err = stopError
  console.error(`stopped: ${err instanceof KafkaError ? `${err.code}: ${err.message}` : String(err)}`)
  process.exit(1)
}

// 5. The output as a read_committed consumer sees it. Output keys are input keys, so an aborted
// attempt's records sit in the same partition as, and before, the committed retry's: a reader that
// reached every committed record has passed the aborted ones, and would have counted them if visible.
const reads = new Map<string, number>() // source -> how often read
let found = 0 // committed sources read at least once
const checker = kafka.consumer({ groupId: `order-pricer-check-${run}`, readUncommitted: false })
await checker.connect()
await checker.subscribe({ topics: [output], fromBeginning: true })
const allRead = new Promise<void>((resolve) => {
  void checker.run({
    eachMessage: async ({ message }) => {
      if (message.headers?.run?.toString() !== run) return // an earlier run's output
      const source = message.headers.source?.toString() ?? '?'
      const times = (reads.get(source) ?? 0) + 1
      reads.set(source, times)
      if (times === 1 && committedSources.has(source) && ++found === committedSources.size) resolve()
    },
  })
})
const timedOut = await Promise.race([allRead.then(() => false), sleep(30_000, true, { ref: false })])
await checker.disconnect()

const missing = committedSources.size - found
const duplicated = [...reads.values()].filter((n) => n > 1).length
const unexpected = [...reads.keys()].filter((s) => !committedSources.has(s)).length
console.log(
  `read_committed reader: ${reads.size} input records in the output, ${missing} missing, ` +
    `${duplicated} more than once, ${unexpected} not committed by this run` +
    (timedOut ? ' (gave up waiting after 30 s)' : ''),
)
if (timedOut || missing > 0 || duplicated > 0 || unexpected > 0) process.exitCode = 1
