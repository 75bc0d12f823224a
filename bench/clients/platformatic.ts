// @platformatic/kafka runner (needs Node >= 22.22: the driver starts it with Node 24). Its documented
// API is `producer.send({ messages })` resolving once the broker acknowledged; it has no linger
// accumulator on send(), so like kafkajs it sends 1,000 records per call with 4 calls in flight, and in
// W3 each record is its own send().
// W4: a producer with `transactionalId` (and idempotent); per transaction
// `const txn = await producer.beginTransaction(); await txn.send({ messages }); await txn.commit()`.
// No serializers: keys and values go as Buffers (its default serializer passes them through). Its
// stringSerializers turn anything but a string into undefined, so with them our Buffer values were sent
// as null (checked with kcat: every value null), which made every earlier platformatic row measure
// records of a few bytes instead of the workload's.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  errMessage,
  peersDir,
  printResult,
  readWorkload,
  runBatched,
  runTransactions,
  transactionCount,
  transactionalIdFor,
  recordsPerCall,
} from '../common.js'

/** The part of @platformatic/kafka's API this runner uses. */
interface PlatformaticMessage {
  topic: string
  key: Buffer | undefined
  value: Buffer
}
interface PlatformaticTransaction {
  send(options: { messages: PlatformaticMessage[] }): Promise<unknown>
  commit(): Promise<void>
  abort(): Promise<void>
}
interface PlatformaticProducer {
  send(options: { messages: PlatformaticMessage[] }): Promise<unknown>
  beginTransaction(): Promise<PlatformaticTransaction>
  close(): Promise<void>
  on(event: 'client:performWithRetry:retry', listener: (operationId: string) => void): void
}
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => PlatformaticProducer
  ProduceAcks: { ALL: number }
}

const w = readWorkload()

async function main(): Promise<void> {
  const entry = join(peersDir(), 'node_modules/@platformatic/kafka/dist/index.js')
  const pk = (await import(pathToFileURL(entry).href)) as PlatformaticModule
  const transactional = w.id === 'W4'
  const producer = new pk.Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: w.bootstrapServers.split(','),
    idempotent: w.idempotence || transactional, // beginTransaction() requires an idempotent producer
    acks: pk.ProduceAcks.ALL,
    compression: w.compression,
    autocreateTopics: false,
    // W1S: `tls` is passed to Node's tls.connect() (certificate and host name checked, Node's default);
    // `sasl` as in its base client options.
    ...(w.security
      ? {
          tls: { ca: w.security.caPem },
          sasl: {
            mechanism: w.security.mechanism,
            username: w.security.username,
            password: w.security.password,
          },
        }
      : {}),
    ...(transactional ? { transactionalId: transactionalIdFor('platformatic') } : {}),
  })
  const toMessages = (messages: { key: string | null; value: Buffer }[]): PlatformaticMessage[] =>
    // The key encoded here, as its stringSerializer would (ours encodes a string key itself).
    messages.map((m) => ({
      topic: w.topic,
      key: m.key === null ? undefined : Buffer.from(m.key),
      value: m.value,
    }))
  let result
  if (transactional) {
    // Counted to show the retries: right after a commit the broker answers AddPartitionsToTxn with
    // CONCURRENT_TRANSACTIONS until it has finished the previous transaction, and @platformatic/kafka
    // retries after its retryDelay (default 1000 ms).
    const retries = new Map<string, number>()
    producer.on('client:performWithRetry:retry', (operationId) => {
      retries.set(operationId, (retries.get(operationId) ?? 0) + 1)
    })
    result = await runTransactions(
      'platformatic',
      w,
      async (messages) => {
        const txn = await producer.beginTransaction()
        try {
          await txn.send({ messages: toMessages(messages) })
          await txn.commit()
        } catch (e) {
          await txn.abort().catch(() => {})
          throw e
        }
      },
      [
        'one send() of all records of a transaction between beginTransaction() and commit()',
        'no linger: @platformatic/kafka sends when send() is called',
      ],
    )
    const counted = [...retries].map(([op, n]) => `${n} ${op}`).join(', ')
    result.notes?.push(
      `retries (retryDelay default 1000 ms) over ${transactionCount(w) + 1} transactions (incl. warm-up): ${counted || 'none'}`,
    )
  } else {
    const notes: string[] = [
      `no linger on send(): batches of ${recordsPerCall(w)} records per send() call, 4 calls in flight`,
    ]
    const sendMessages = (messages: { key: string | null; value: Buffer }[]): Promise<unknown> =>
      producer.send({ messages: toMessages(messages) })
    await sendMessages([{ key: 'warmup', value: Buffer.from('warmup') }])
    result = await runBatched(
      'platformatic',
      w,
      sendMessages,
      { batchRecords: recordsPerCall(w), concurrency: 4 },
      notes,
    )
  }
  await producer.close()
  printResult(result)
}

main().catch((e: unknown) => {
  process.stderr.write(`FATAL ${errMessage(e)}\n`)
  process.exit(2)
})
