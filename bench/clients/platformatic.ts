// @platformatic/kafka runner (needs Node >= 22.22: the driver starts it with Node 24). Its documented
// API is `producer.send({ messages })` resolving once the broker acknowledged; it has no linger
// accumulator on send(), so like kafkajs it sends 1,000 records per call with 4 calls in flight, and in
// W3 each record is its own send().
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { errMessage, peersDir, printResult, readWorkload, runBatched } from '../common.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const w = readWorkload()

async function main(): Promise<void> {
  const entry = join(peersDir(), 'node_modules/@platformatic/kafka/dist/index.js')
  const pk = (await import(pathToFileURL(entry).href)) as any
  if (w.id === 'W4') throw new Error('W4 not run for platformatic in this harness')
  const notes: string[] = ['no linger on send(): batches of 1,000 records per send() call, 4 calls in flight']
  const producer = new pk.Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: w.bootstrapServers.split(','),
    serializers: pk.stringSerializers,
    idempotent: w.idempotence,
    acks: pk.ProduceAcks.ALL,
    compression: w.compression,
    autocreateTopics: false,
  })
  const sendMessages = (messages: { key: string | null; value: Buffer }[]): Promise<unknown> =>
    producer.send({
      messages: messages.map((m) => ({ topic: w.topic, key: m.key ?? undefined, value: m.value })),
    })
  await sendMessages([{ key: 'warmup', value: Buffer.from('warmup') }])
  const result = await runBatched(
    'platformatic',
    w,
    sendMessages,
    { batchRecords: 1000, concurrency: 4 },
    notes,
  )
  await producer.close()
  printResult(result)
}

main().catch((e: unknown) => {
  process.stderr.write(`FATAL ${errMessage(e)}\n`)
  process.exit(2)
})
