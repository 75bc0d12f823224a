// kafkajs runner. kafkajs has no linger accumulator, so the idiomatic fast path is send() with many
// messages per call (1,000 per call, up to 4 calls in flight); in W3 each record is its own send().
// kafkajs ships gzip only: lz4 is registered through its documented CompressionCodecs hook with
// lz4-napi (the same LZ4 frame library our producer uses); zstd has no codec here, so W2 is skipped.
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { errMessage, peersDir, printResult, readWorkload, runBatched } from '../common.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const w = readWorkload()
const require = createRequire(join(peersDir(), 'package.json'))

async function main(): Promise<void> {
  const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs') as any
  const notes: string[] = ['no linger: batches of 1,000 records per send() call, 4 calls in flight']
  let compression: number = CompressionTypes.None
  if (w.compression === 'lz4') {
    const lz4 = require('lz4-napi') as any
    CompressionCodecs[CompressionTypes.LZ4] = () => ({
      compress: async (encoder: { buffer: Buffer }) => lz4.compressFrameSync(encoder.buffer),
      decompress: async (buffer: Buffer) => lz4.decompressFrameSync(buffer),
    })
    compression = CompressionTypes.LZ4
  } else if (w.compression !== 'none') {
    throw new Error(`unavailable: kafkajs has no ${w.compression} codec built in`)
  }
  if (w.id === 'W4') throw new Error('W4 not run for kafkajs in this harness')
  const kafka = new Kafka({
    clientId: 'bench-kafkajs',
    brokers: w.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  })
  // kafkajs' docs: an idempotent producer needs acks=-1 and at most one request in flight.
  const producer = kafka.producer({
    idempotent: w.idempotence,
    maxInFlightRequests: w.idempotence ? 1 : 5,
    allowAutoTopicCreation: false,
  })
  if (w.idempotence) notes.push('idempotent with maxInFlightRequests=1 (kafkajs requirement)')
  await producer.connect()
  const sendMessages = (messages: { key: string | null; value: Buffer }[]): Promise<unknown> =>
    producer.send({ topic: w.topic, messages, acks: -1, compression })
  await sendMessages([{ key: 'warmup', value: Buffer.from('warmup') }])
  const result = await runBatched('kafkajs', w, sendMessages, { batchRecords: 1000, concurrency: 4 }, notes)
  await producer.disconnect()
  printResult(result)
}

main().catch((e: unknown) => {
  process.stderr.write(`FATAL ${errMessage(e)}\n`)
  process.exit(2)
})
