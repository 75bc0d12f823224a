// kafkajs runner. kafkajs has no linger accumulator, so the idiomatic fast path is send() with many
// messages per call (1,000 per call, up to 4 calls in flight); in W3 each record is its own send().
// kafkajs ships gzip only: lz4 is registered through its documented CompressionCodecs hook with
// lz4-napi (the same LZ4 frame library our producer uses); zstd has no codec here, so W2 is skipped.
// W4: a transactional producer (transactionalId, idempotent, maxInFlightRequests 1); per transaction
// `const txn = await producer.transaction(); await txn.send({ topic, messages }); await txn.commit()`.
import { createRequire } from 'node:module'
import { join } from 'node:path'
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

/** The part of kafkajs' API this runner uses. */
interface KafkaJsMessage {
  key: string | null
  value: Buffer
}
interface KafkaJsSend {
  topic: string
  messages: KafkaJsMessage[]
  acks: number
  compression: number
}
interface KafkaJsTransaction {
  send(args: KafkaJsSend): Promise<unknown>
  commit(): Promise<void>
  abort(): Promise<void>
}
interface KafkaJsProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(args: KafkaJsSend): Promise<unknown>
  transaction(): Promise<KafkaJsTransaction>
  events: { REQUEST: string }
  on(event: string, listener: (e: { payload: { apiName: string } }) => void): void
}
interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}
interface KafkaJsModule {
  Kafka: new (config: {
    clientId: string
    brokers: string[]
    logLevel: number
    ssl?: { ca: string[] }
    sasl?: { mechanism: 'scram-sha-512'; username: string; password: string }
  }) => {
    producer(config: {
      idempotent: boolean
      maxInFlightRequests: number
      allowAutoTopicCreation: boolean
      transactionalId?: string
    }): KafkaJsProducer
  }
  CompressionTypes: { None: number; LZ4: number }
  CompressionCodecs: Record<number, () => KafkaJsCodec>
  logLevel: { NOTHING: number }
}
interface Lz4Napi {
  compressFrameSync(data: Buffer): Buffer
  decompressFrameSync(data: Buffer): Buffer
}

const w = readWorkload()
const require = createRequire(join(peersDir(), 'package.json'))

async function main(): Promise<void> {
  const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs') as KafkaJsModule
  const transactional = w.id === 'W4'
  const notes: string[] = transactional
    ? ['one send() of all records of a transaction between transaction() and commit()']
    : [`no linger: batches of ${recordsPerCall(w)} records per send() call, 4 calls in flight`]
  let compression: number = CompressionTypes.None
  if (w.compression === 'lz4') {
    const lz4 = require('lz4-napi') as Lz4Napi
    CompressionCodecs[CompressionTypes.LZ4] = () => ({
      compress: async (encoder: { buffer: Buffer }) => lz4.compressFrameSync(encoder.buffer),
      decompress: async (buffer: Buffer) => lz4.decompressFrameSync(buffer),
    })
    compression = CompressionTypes.LZ4
    notes.push('lz4 through the CompressionCodecs hook with lz4-napi (kafkajs has no lz4 codec built in)')
  } else if (w.compression !== 'none') {
    throw new Error(`unavailable: kafkajs has no ${w.compression} codec built in`)
  }
  const kafka = new Kafka({
    clientId: 'bench-kafkajs',
    brokers: w.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
    // W1S: Node's tls.connect() options (certificate and host name checked, Node's default) and SCRAM.
    ...(w.security
      ? {
          ssl: { ca: [w.security.caPem] },
          sasl: {
            mechanism: 'scram-sha-512' as const,
            username: w.security.username,
            password: w.security.password,
          },
        }
      : {}),
  })
  // kafkajs' docs: an idempotent producer needs acks=-1 and at most one request in flight; a
  // transactional producer must also be idempotent.
  const idempotent = w.idempotence || transactional
  const producer = kafka.producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : 5,
    allowAutoTopicCreation: false,
    ...(transactional ? { transactionalId: transactionalIdFor('kafkajs') } : {}),
  })
  if (idempotent) notes.push('idempotent with maxInFlightRequests=1 (kafkajs requirement)')
  if (transactional) notes.push('no linger: kafkajs sends when send() is called')
  await producer.connect()
  let result
  if (transactional) {
    // Counted to show the retries: right after a commit the broker answers AddPartitionsToTxn with
    // CONCURRENT_TRANSACTIONS until it has finished the previous transaction, and kafkajs retries after
    // its retry.initialRetryTime (default 300 ms).
    let addPartitions = 0
    producer.on(producer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'AddPartitionsToTxn') addPartitions++
    })
    result = await runTransactions(
      'kafkajs',
      w,
      async (messages) => {
        const txn = await producer.transaction()
        try {
          await txn.send({ topic: w.topic, messages, acks: -1, compression })
          await txn.commit()
        } catch (e) {
          await txn.abort().catch(() => {})
          throw e
        }
      },
      notes,
    )
    result.notes?.push(
      `${addPartitions} AddPartitionsToTxn requests for ${transactionCount(w) + 1} transactions (incl. warm-up); ` +
        'a retry after CONCURRENT_TRANSACTIONS waits retry.initialRetryTime (default 300 ms)',
    )
  } else {
    const sendMessages = (messages: KafkaJsMessage[]): Promise<unknown> =>
      producer.send({ topic: w.topic, messages, acks: -1, compression })
    await sendMessages([{ key: 'warmup', value: Buffer.from('warmup') }])
    result = await runBatched(
      'kafkajs',
      w,
      sendMessages,
      { batchRecords: recordsPerCall(w), concurrency: 4 },
      notes,
    )
  }
  await producer.disconnect()
  printResult(result)
}

main().catch((e: unknown) => {
  process.stderr.write(`FATAL ${errMessage(e)}\n`)
  process.exit(2)
})
