// Statistics against a real broker (Kafka 4.4), on the workload librdkafka's reference fixture was
// recorded with (test/fixtures/librdkafka-stats.json: confluent-kafka 2.16, 100,000 keyed 100-byte
// records over 6 partitions, linger.ms 50, batch.size 65536, acks all, idempotent): the guide's
// stats callback, translated (examples/stats-callback.ts), prints non-zero values during the run;
// msg_cnt is the producer's own count at the moment of each emission; per-partition txmsgs and the
// batch windows' record counts add up to the records sent; the key+value bytes match the client's
// own sum; the batch bytes match the Produce requests carrying them to within 1 %; rtt's p99 agrees
// with round trips the test times itself; and the magnitudes match librdkafka's on the same workload.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { test } from 'node:test'
import { statsCallback } from '../../examples/stats-callback.js'
import { Producer, type KafkaError, type Statistics } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const N = 100_000
const PARTITIONS = 6
const VALUE = Buffer.alloc(100, 'v')
const CHUNK = 5_000

interface LibrdkafkaTopic {
  batchsize: { avg: number; cnt: number }
  batchcnt: { avg: number; sum: number }
}
const REFERENCE = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/librdkafka-stats.json', import.meta.url), 'utf8'),
) as { txmsgs: number; txmsg_bytes: number; topics: Record<string, LibrdkafkaTopic> }

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

test('statistics on a real broker: the guide callback, counts, bytes, rtt, librdkafka magnitudes', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('stats')
  await createTopic(bootstrap, { name: topic, numPartitions: PARTITIONS })

  const emissions: Statistics[] = []
  const printed: string[] = []
  const mismatches: string[] = []
  // Round trips timed by the test itself (performance.now, per request), per broker, per window.
  const sentAt = new Map<string, number>()
  let window = new Map<number, number[]>()
  const rttChecks: { nodeId: number; cnt: number; ours: number; theirs: number }[] = []
  let producer: Producer | null = null

  const statsCb = (json: string): void => {
    const s = JSON.parse(json) as Statistics
    emissions.push(s)
    // stats_cb runs inside the emission: the producer's own count is the same moment's.
    if (s.msg_cnt !== producer!.pending)
      mismatches.push(`msg_cnt ${s.msg_cnt} != pending ${producer!.pending}`)
    for (const b of Object.values(s.brokers)) {
      const mine = (window.get(b.nodeid) ?? []).sort((a, c) => a - c)
      if (b.nodeid < 0) continue
      if (b.rtt.cnt !== mine.length) mismatches.push(`rtt cnt ${b.rtt.cnt} != ${mine.length} timed`)
      if (mine.length >= 10) {
        rttChecks.push({ nodeId: b.nodeid, cnt: mine.length, ours: b.rtt.p99, theirs: percentile(mine, 99) })
      }
    }
    window = new Map()
    statsCallback(json, (line) => printed.push(line))
  }

  producer = new Producer({
    'bootstrap.servers': bootstrap,
    'linger.ms': 50,
    'batch.size': 65536,
    acks: 'all',
    'statistics.interval.ms': 500,
    stats_cb: statsCb,
    'queue.buffering.max.messages': 2 * N,
  })
  // Independent of the collector: the Produce requests' sizes and every request's round trip.
  let produceRequestBytes = 0
  let produceRequests = 0
  producer.instrumentation.on('request.sent', (e) => {
    if (e.apiName === 'Produce') {
      produceRequests++
      produceRequestBytes += e.bytes
    }
    sentAt.set(`${e.nodeId}/${e.correlationId}`, performance.now())
  })
  producer.instrumentation.on('request.answered', (e) => {
    const key = `${e.nodeId}/${e.correlationId}`
    const t = sentAt.get(key)
    if (t === undefined) return
    sentAt.delete(key)
    const list = window.get(e.nodeId) ?? []
    list.push((performance.now() - t) * 1000)
    window.set(e.nodeId < 0 ? -1 : e.nodeId, list)
  })

  let delivered = 0
  const errors: KafkaError[] = []
  let keyValueBytes = 0
  const started = Date.now()
  // 5,000 records every 100 ms: about 2 s of producing, so that emissions land during the run.
  for (let i = 0; i < N; i++) {
    const key = `key-${i % 1000}`
    keyValueBytes += key.length + VALUE.length
    producer.produce({ topic, key, value: VALUE }, (err) => {
      if (err) errors.push(err)
      else delivered++
    })
    if (i % CHUNK === CHUNK - 1) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.equal(await producer.flush(60_000), 0)
  const runMs = Date.now() - started
  const duringRun = emissions.length
  // One more emission after the last delivery, for the final counters.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await producer.close()
  assert.deepEqual(errors, [])
  assert.equal(delivered, N)
  assert.deepEqual(mismatches, [])

  const last = emissions[emissions.length - 1]!
  const ours = last.topics[topic]!
  const txmsgs = Object.values(ours.partitions).reduce((n, p) => n + p.txmsgs, 0)
  const txbytes = Object.values(ours.partitions).reduce((n, p) => n + p.txbytes, 0)
  const batchRecords = emissions.reduce((n, s) => n + (s.topics[topic]?.batchcnt.sum ?? 0), 0)
  const batches = emissions.reduce((n, s) => n + (s.topics[topic]?.batchcnt.cnt ?? 0), 0)
  const batchBytes = emissions.reduce((n, s) => n + (s.topics[topic]?.batchsize.sum ?? 0), 0)
  const queued = emissions.filter((s) => s.msg_cnt > 0)
  const ref = Object.values(REFERENCE.topics)[0]!

  console.log(
    [
      `statistics: ${N} records in ${runMs} ms, ${emissions.length} emissions (${duringRun} during the run, ${queued.length} with msg_cnt > 0)`,
      `  msg_cnt during the run: ${queued.map((s) => s.msg_cnt).join(', ')}`,
      `  txmsgs ${txmsgs} (top ${last.txmsgs}), batch records ${batchRecords} in ${batches} batches`,
      `  txmsg_bytes ${txbytes} vs key+value bytes sent ${keyValueBytes}`,
      `  batch bytes ${batchBytes} vs Produce request bytes ${produceRequestBytes} (${((100 * (produceRequestBytes - batchBytes)) / produceRequestBytes).toFixed(2)} % request framing)`,
      ...rttChecks.map(
        (r) =>
          `  rtt p99 broker ${r.nodeId}: ours ${r.ours} µs vs timed ${Math.round(r.theirs)} µs over ${r.cnt} requests`,
      ),
      `  vs librdkafka (same workload): txmsgs ${last.txmsgs} / ${REFERENCE.txmsgs}, txmsg_bytes ${last.txmsg_bytes} / ${REFERENCE.txmsg_bytes}, ` +
        `batch avg ${Math.round(batchBytes / batches)} / ${ref.batchsize.avg} bytes, records per batch ${Math.round(batchRecords / batches)} / ${ref.batchcnt.avg}`,
      `  the guide's callback printed (first emission with records queued):`,
      ...printed.slice(0, 6).map((l) => `    ${l}`),
    ].join('\n'),
  )

  // During the run: records queued, with bytes, and the guide's callback printing them.
  assert.ok(queued.length >= 1, 'an emission during the run saw records queued')
  assert.ok(queued.every((s) => s.msg_size > 0))
  assert.ok(printed.some((l) => /^Messages in queue: [1-9]/.test(l)))
  assert.ok(printed.some((l) => /^ {2}Avg batch size: [1-9]\d* bytes$/.test(l)))
  assert.ok(printed.some((l) => /^ {2}Batch count: [1-9]/.test(l)))
  // Counts and bytes.
  assert.equal(txmsgs, N)
  assert.equal(last.txmsgs, N)
  assert.equal(batchRecords, N)
  assert.ok(Math.abs(txbytes - keyValueBytes) <= keyValueBytes * 0.01, 'key+value bytes within 1 %')
  assert.ok(batchBytes <= produceRequestBytes)
  assert.ok(
    produceRequestBytes - batchBytes <= produceRequestBytes * 0.01,
    'batch bytes within 1 % of the requests',
  )
  assert.equal(last.msg_cnt, 0)
  assert.equal(last.topics[topic]!.batchcnt.cnt, 0, 'the window after the run is empty')
  const broker = Object.values(last.brokers).find((b) => b.nodeid >= 0)!
  assert.equal(broker.state, 'UP')
  assert.equal(broker.req['Produce'], produceRequests)
  assert.ok(broker.tx > produceRequests && broker.rx > produceRequests, 'Metadata and ApiVersions too')
  // rtt: our p99 against the test's own timing of the same requests (the histogram keeps 0.1 %).
  assert.ok(rttChecks.length >= 1, 'a window with enough requests to compare rtt')
  for (const r of rttChecks) {
    assert.ok(
      Math.abs(r.ours - r.theirs) <= Math.max(500, 0.05 * r.theirs),
      `rtt p99 ${r.ours} µs is not plausible against ${Math.round(r.theirs)} µs timed`,
    )
  }
  // The same workload as librdkafka's fixture: the same counts and key+value bytes, batches alike.
  assert.equal(last.txmsgs, REFERENCE.txmsgs)
  assert.equal(last.txmsg_bytes, REFERENCE.txmsg_bytes)
  const avgBatch = batchBytes / batches
  assert.ok(avgBatch > ref.batchsize.avg / 2 && avgBatch < ref.batchsize.avg * 2, 'batch sizes alike')
})

test('rtt against send() round trips timed by the client: one record at a time, acks=all', async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('stats-rtt')
  await createTopic(bootstrap, { name: topic, numPartitions: 1 })
  const windows: { stats: Statistics; sends: number[] }[] = []
  let sends: number[] = []
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'linger.ms': 0,
    acks: 'all',
    'statistics.interval.ms': 1000,
    stats_cb: (json) => {
      windows.push({ stats: JSON.parse(json) as Statistics, sends: sends.sort((a, b) => a - b) })
      sends = []
    },
  })
  await producer.connect({ topics: [topic] })
  const until = Date.now() + 3500
  while (Date.now() < until) {
    const t = performance.now()
    await producer.send({ topic, value: 'x' })
    sends.push((performance.now() - t) * 1000)
  }
  await producer.close()
  // Full windows only: the first has the connection's setup requests, the last is partial.
  const full = windows.filter((w) => w.sends.length >= 100)
  assert.ok(full.length >= 2, `${windows.length} windows, ${full.length} with 100 sends or more`)
  for (const w of full) {
    const b = Object.values(w.stats.brokers).find((x) => x.nodeid >= 0)!
    const p50 = percentile(w.sends, 50)
    const p99 = percentile(w.sends, 99)
    console.log(
      `rtt window: ${b.rtt.cnt} requests, p50 ${b.rtt.p50} µs, p99 ${b.rtt.p99} µs, max ${b.rtt.max} µs; ` +
        `${w.sends.length} send() calls timed by the client: p50 ${Math.round(p50)} µs, p99 ${Math.round(p99)} µs`,
    )
    // One Produce request per send() (a few Metadata requests aside).
    assert.ok(b.rtt.cnt >= w.sends.length - 1 && b.rtt.cnt <= w.sends.length + 5)
    // A request's round trip is part of its send(): not above it (1 ms of slack for the client's own
    // work around it), and most of it on a local broker.
    assert.ok(b.rtt.p99 <= p99 + 1000, `rtt p99 ${b.rtt.p99} µs above send() p99 ${Math.round(p99)} µs`)
    assert.ok(b.rtt.p50 <= p50 + 1000, `rtt p50 ${b.rtt.p50} µs above send() p50 ${Math.round(p50)} µs`)
    assert.ok(
      b.rtt.p99 >= p99 / 4 - 1000,
      `rtt p99 ${b.rtt.p99} µs implausibly below send() p99 ${Math.round(p99)} µs`,
    )
  }
})
