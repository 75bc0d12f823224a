// Issue 12, Streams: pipeline() of a 1,000,000-line file through producer.createWriteStream() delivers
// every line, with memory bounded by buffer.memory. Checked by clients that share no code with ours:
// Kafka's GetOffsetShell (end offsets of the 6 partitions sum to 1,000,000) and kcat (librdkafka)
// reading every record back, each line exactly once and byte-identical.
import assert from 'node:assert/strict'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Transform } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { test } from 'node:test'
import { spawnTracked } from '../../scripts/kafka/processes.js'
import { consoleConsumeRecords, kcatMissing, runKafkaTool } from '../../scripts/kafka/tools.js'
import { Producer } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const LINES = 1_000_000
const PARTITIONS = 6
const BUFFER_MEMORY = 32 * 1024 * 1024
const MB = 1024 * 1024

/** Line `i` of the file: its number, then text that varies with it (about 60 bytes). */
function lineFor(i: number): string {
  return `${String(i).padStart(7, '0')} event=${['click', 'view', 'buy'][i % 3]} user=u${(i * 7919) % 100_003} pad=${'x'.repeat(i % 23)}`
}

async function writeFile(path: string): Promise<void> {
  const out = createWriteStream(path)
  for (let i = 0; i < LINES; i += 10_000) {
    let chunk = ''
    for (let j = i; j < i + 10_000; j++) chunk += lineFor(j) + '\n'
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  out.end()
  await finished(out)
}

/** Splits a byte stream into lines (strings, without the newline), in object mode. */
function lines(): Transform {
  let rest = ''
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, cb) {
      const parts = (rest + chunk.toString('utf8')).split('\n')
      rest = parts.pop()!
      for (const p of parts) this.push(p)
      cb()
    },
    flush(cb) {
      if (rest) this.push(rest)
      cb()
    },
  })
}

/** Sums the end offsets GetOffsetShell (Kafka's own tool) prints as `topic:partition:offset`. */
async function endOffsets(bootstrap: string, topic: string): Promise<Map<number, number>> {
  const out = await runKafkaTool('org.apache.kafka.tools.GetOffsetShell', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--time',
    '-1',
  ])
  const ends = new Map<number, number>()
  for (const line of out.trim().split('\n')) {
    const m = /^(.+):(\d+):(\d+)$/.exec(line.trim())
    if (m && m[1] === topic) ends.set(Number(m[2]), Number(m[3]))
  }
  return ends
}

/** Reads every value of `topic` with kcat (one per line) and checks each line once, byte-identical. */
async function kcatReadBack(bootstrap: string, topic: string): Promise<{ read: number; bad: string[] }> {
  const kcat = spawnTracked(
    'kcat',
    ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-f', '%s\\n'],
    ['ignore', 'pipe', 'pipe'],
  )
  const seen = new Uint8Array(LINES)
  const bad: string[] = []
  let read = 0
  let stderr = ''
  kcat.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  for await (const line of createInterface({ input: kcat.stdout!, crlfDelay: Infinity })) {
    read++
    const i = Number(line.slice(0, 7))
    if (!Number.isInteger(i) || i < 0 || i >= LINES || line !== lineFor(i) || seen[i]++ !== 0) {
      if (bad.length < 5) bad.push(line.slice(0, 80))
    }
  }
  const code = await new Promise<number | null>((r) =>
    kcat.exitCode !== null ? r(kcat.exitCode) : kcat.on('exit', r),
  )
  assert.equal(code, 0, `kcat failed: ${stderr}`)
  const missing = seen.indexOf(0)
  if (missing >= 0) bad.push(`line ${missing} never read`)
  return { read, bad }
}

test('pipeline() of a 1,000,000-line file through createWriteStream delivers every line, memory bounded', async (t) => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('write-stream')
  await createTopic(bootstrap, { name: topic, numPartitions: PARTITIONS })
  const dir = mkdtempSync(join(tmpdir(), 'rk-write-stream-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'lines.txt')
  await writeFile(file)

  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'write-stream-test',
    acks: 'all',
    'linger.ms': 5,
    'buffer.memory': BUFFER_MEMORY,
  })
  t.after(() => producer.close())
  await producer.connect({ topics: [topic] })

  global.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  // How full the producer's buffer got: records accepted and not yet reported.
  let peakPending = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
    peakPending = Math.max(peakPending, producer.pending)
  }, 20)
  const stream = producer.createWriteStream<string>({
    topic,
    // Keyed by line number: spread over the partitions, and a key's lines stay in order.
    toRecord: (line) => ({ key: line.slice(0, 7), value: line }),
  })
  const started = performance.now()
  try {
    await pipeline(createReadStream(file), lines(), stream)
  } finally {
    clearInterval(sampler)
  }
  const secs = (performance.now() - started) / 1000
  peak = Math.max(peak, process.memoryUsage().rss)
  console.log(
    `write stream: ${LINES} lines in ${secs.toFixed(1)} s (${Math.round(LINES / secs)} lines/s); ` +
      `RSS baseline ${(baseline / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB ` +
      `(+${((peak - baseline) / MB).toFixed(0)} MB), buffer.memory ${BUFFER_MEMORY / MB} MB; ` +
      `at most ${peakPending} records awaiting delivery`,
  )
  assert.deepEqual([stream.accepted, stream.delivered, stream.failed, stream.pending], [LINES, LINES, 0, 0])
  assert.equal(producer.pending, 0)
  assert.ok(
    peak < BUFFER_MEMORY + 200 * MB,
    `peak RSS ${(peak / MB).toFixed(0)} MB is not under buffer.memory + 200 MB`,
  )

  // Independent count: Kafka's GetOffsetShell, the log end offset of every partition.
  const ends = await endOffsets(bootstrap, topic)
  assert.equal(ends.size, PARTITIONS, `end offsets of ${PARTITIONS} partitions: ${[...ends]}`)
  const total = [...ends.values()].reduce((a, b) => a + b, 0)
  console.log(`GetOffsetShell: end offsets ${[...ends.values()].join(' + ')} = ${total}`)
  assert.equal(total, LINES)

  // Independent read-back: every line once, byte-identical (kcat), or a sample (Kafka's console consumer).
  const missing = kcatMissing()
  if (missing === false) {
    const readStarted = performance.now()
    const { read, bad } = await kcatReadBack(bootstrap, topic)
    console.log(
      `kcat read back ${read} records in ${((performance.now() - readStarted) / 1000).toFixed(1)} s`,
    )
    assert.deepEqual(bad, [], 'every line read back exactly once, as written')
    assert.equal(read, LINES)
  } else {
    console.log(`${missing}: reading back a sample of 20,000 records with Kafka's console consumer instead`)
    const sample = await consoleConsumeRecords({
      bootstrapServers: bootstrap,
      topic,
      isolationLevel: 'read_uncommitted',
      maxMessages: 20_000,
    })
    assert.equal(sample.length, 20_000)
    for (const r of sample) assert.equal(r.value, lineFor(Number(r.key)), `line ${r.key}`)
  }
})
