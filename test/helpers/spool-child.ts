// Spool entries for tests, and the child process of the spool's crash tests
// (test/integration/spool-crash.test.ts), which SIGKILLs it in the middle of its work:
//
//   node dist/test/helpers/spool-child.js append <spool> <firstSeq> <valueBytes>
//     appends batches of 1..8 entries (ids e<seq>) forever; after each append returns, prints
//     "acked <lastSeq>": every entry up to it is on disk.
//   node dist/test/helpers/spool-child.js replay <spool> <sentFile> <batchSize>
//     replays with a fake send that waits 0..2 ms, then appends the id to <sentFile> and resolves;
//     prints the ReplayResult as JSON.
//   node dist/test/helpers/spool-child.js kafka <spool> <bootstrap> <topic> <batchSize>
//     replays to <topic> with the Producer's send() (key = id); prints "acked <n>" every 100.
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { SpoolEntry } from '../../src/reliable/envelope-types.js'
import { Spool } from '../../src/reliable/spool.js'
import { Producer } from '../../src/producer/producer.js'

/** A valid spool entry with id `id`; the value is carried base64 when given as bytes. */
export function spoolEntry(
  id: string,
  value: Buffer | string = `value of ${id}`,
  topic = 'orders',
): SpoolEntry {
  const binary = Buffer.isBuffer(value)
  return {
    v: 1,
    id,
    dlq_topic: `${topic}.dlq`,
    envelope: {
      envelope_version: 1,
      original_topic: topic,
      original_partition: 3,
      original_key: `key-${id}`,
      original_key_encoding: 'utf8',
      original_value: binary ? value.toString('base64') : value,
      original_value_encoding: binary ? 'base64' : 'utf8',
      original_value_bytes: binary ? value.length : Buffer.byteLength(value),
      original_value_truncated: false,
      original_timestamp: 1_700_000_000_000,
      original_headers: [
        { key: 'trace', value: 'abc', encoding: 'utf8' },
        { key: 'none', value: null, encoding: null },
      ],
      error: 'Local: Message timed out',
      error_code: '_MSG_TIMED_OUT',
      error_retriable: true,
      attempts: 7,
      failed_at: '2026-01-02T03:04:05.000Z',
    },
  }
}

async function appendForever(path: string, firstSeq: number, valueBytes: number): Promise<never> {
  const spool = new Spool({ path })
  for (let seq = firstSeq; ;) {
    const n = 1 + Math.floor(Math.random() * 8)
    const batch = Array.from({ length: n }, (_, i) => spoolEntry(`e${seq + i}`, randomBytes(valueBytes)))
    await spool.append(batch)
    seq += n
    process.stdout.write(`acked ${seq - 1}\n`)
  }
}

async function replayFake(path: string, sentFile: string, batchSize: number): Promise<void> {
  const spool = new Spool({ path })
  const result = await spool.replay(
    async (entry) => {
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3)))
      // Synchronous: once send resolves, the id is in the kernel's page cache, which a SIGKILL keeps.
      appendFileSync(sentFile, `${entry.id}\n`)
    },
    { batchSize },
  )
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

async function replayToKafka(
  path: string,
  bootstrap: string,
  topic: string,
  batchSize: number,
): Promise<void> {
  const producer = new Producer({ 'bootstrap.servers': bootstrap, acks: 'all', 'enable.idempotence': true })
  let acked = 0
  const spool = new Spool({ path })
  const result = await spool.replay(
    async (entry) => {
      await producer.send({ topic, key: entry.id, value: JSON.stringify(entry.envelope) })
      if (++acked % 100 === 0) process.stdout.write(`acked ${acked}\n`)
    },
    { batchSize },
  )
  await producer.close()
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

async function main(args: string[]): Promise<void> {
  const [mode, path, a, b, c] = args
  if (mode === 'append') await appendForever(path!, Number(a), Number(b))
  else if (mode === 'replay') await replayFake(path!, a!, Number(b))
  else if (mode === 'kafka') await replayToKafka(path!, a!, b!, Number(c))
  else throw new Error(`spool-child: unknown mode ${mode}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
