// Delivery guarantees under broker crashes, on a real 3-node KRaft cluster (replication 3,
// min.insync.replicas 2): the leader of the busiest partition is SIGKILLed and restarted three
// times while 500,000 records are produced with acks=all. Read back by kcat (librdkafka), the log
// must hold every record exactly once and in send order per partition with idempotence on; with
// idempotence off we report the duplicates that at-least-once allows.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Admin, KafkaError, Producer, murmur2, toPositive } from '../../src/index.js'
import { idempotenceOf } from '../helpers/internals.js'
import { withPrivateKafka, type KafkaCluster } from '../helpers/kafka.js'
import { uniqueTopic } from '../helpers/topics.js'

const N = 500_000
const PARTITIONS = 6
const KILLS = 3
const CHUNK = 5_000

interface RunResult {
  sent: number
  failed: KafkaError[]
  missing: number
  duplicated: number
  outOfOrder: number
  kills: number
  bumps: number
  seconds: number
}

async function leaderOf(bootstrap: string, topic: string, partition: number): Promise<number> {
  const admin = new Admin({ bootstrapServers: bootstrap })
  try {
    const t = await admin.describeTopic(topic)
    return t?.partitions.find((p) => p.partition === partition)?.leader ?? -1
  } finally {
    await admin.close()
  }
}

async function runWithLeaderKills(cluster: KafkaCluster, idempotent: boolean): Promise<RunResult> {
  const bootstrap = cluster.bootstrapServers
  const topic = uniqueTopic(idempotent ? 'eos-kill' : 'alo-kill')
  const admin = new Admin({ bootstrapServers: bootstrap })
  await admin.createTopics(
    [
      {
        name: topic,
        numPartitions: PARTITIONS,
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' },
      },
    ],
    { timeoutMs: 60_000 },
  )
  await admin.close()

  // Keys spread unevenly on purpose: the partition with the most keys is "the busiest".
  const keyOf = (i: number): string => `key-${i % 997}`
  const perPartition = new Array<number>(PARTITIONS).fill(0)
  for (let k = 0; k < 997; k++) perPartition[toPositive(murmur2(Buffer.from(`key-${k}`))) % PARTITIONS]!++
  const busiest = perPartition.indexOf(Math.max(...perPartition))

  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    acks: 'all',
    'enable.idempotence': idempotent,
    'linger.ms': 5,
    'request.timeout.ms': 10_000,
    'delivery.timeout.ms': 120_000,
    'queue.buffering.max.messages': 200_000,
  })
  const failed: KafkaError[] = []
  let ok = 0
  const started = Date.now()

  // Chaos runs beside production: kill the busiest partition's leader, wait, restart it.
  let kills = 0
  const chaos = (async () => {
    for (let k = 0; k < KILLS; k++) {
      await sleep(k === 0 ? 3_000 : 2_000)
      const leader = await leaderOf(bootstrap, topic, busiest)
      const node = cluster.nodes.find((n) => n.id === leader)
      if (!node) continue
      await node.kill()
      kills++
      await sleep(3_000)
      await node.start()
    }
  })()

  for (let i = 0; i < N;) {
    const end = Math.min(N, i + CHUNK)
    for (; i < end; i++) {
      const seq = i
      for (;;) {
        try {
          producer.produce({ topic, key: keyOf(seq), value: String(seq) }, (err) => {
            if (err) failed.push(err)
            else ok++
          })
          break
        } catch (err) {
          if (!(err instanceof KafkaError) || err.code !== '_QUEUE_FULL') throw err
          await sleep(5)
        }
      }
    }
    // Spread production over the chaos window (~30 s) instead of finishing before the first kill.
    await sleep(350)
  }
  await chaos
  const remaining = await producer.flush(180_000)
  const bumps = idempotenceOf(producer)?.bumps ?? 0
  await producer.close()
  const seconds = (Date.now() - started) / 1000
  assert.equal(remaining, 0, 'every record has its outcome')
  assert.equal(ok + failed.length, N, 'one outcome per record')

  const consumed = await kcatConsume({ bootstrapServers: bootstrap, topic, count: 2 * N, timeoutMs: 300_000 })
  const seen = new Map<number, number>()
  let outOfOrder = 0
  const lastByPartition = new Map<number, number>()
  const sorted = [...consumed].sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  for (const c of sorted) {
    const seq = Number(c.value!.toString())
    seen.set(seq, (seen.get(seq) ?? 0) + 1)
    const last = lastByPartition.get(c.partition) ?? -1
    if (seq <= last) outOfOrder++
    lastByPartition.set(c.partition, Math.max(last, seq))
  }
  let missing = 0
  let duplicated = 0
  for (let i = 0; i < N; i++) {
    const n = seen.get(i) ?? 0
    if (n === 0) missing++
    else duplicated += n - 1
  }
  return { sent: N, failed, missing, duplicated, outOfOrder, kills, bumps, seconds }
}

function describe(label: string, r: RunResult): string {
  return (
    `# ${label}: ${r.sent} sent in ${r.seconds.toFixed(1)} s with ${r.kills} leader kill(s): ` +
    `${r.failed.length} failed, ${r.missing} missing, ${r.duplicated} duplicated, ` +
    `${r.outOfOrder} out of order, ${r.bumps} epoch bump(s)`
  )
}

test('idempotence on, leader SIGKILLed 3 times: 0 missing, 0 duplicated, per-partition order kept', async (t) => {
  if (skipWithoutKcat(t)) return
  await withPrivateKafka({ nodes: 3 }, async (cluster) => {
    const r = await runWithLeaderKills(cluster, true)
    console.log(describe('idempotent', r))
    assert.equal(r.kills, KILLS)
    assert.deepEqual(
      r.failed.map((e) => `${e.code}: ${e.message}`),
      [],
    )
    assert.equal(r.missing, 0)
    assert.equal(r.duplicated, 0)
    assert.equal(r.outOfOrder, 0)
  })
})

test('idempotence off (at-least-once baseline), same faults: nothing missing, duplicates reported', async (t) => {
  if (skipWithoutKcat(t)) return
  await withPrivateKafka({ nodes: 3 }, async (cluster) => {
    const r = await runWithLeaderKills(cluster, false)
    console.log(describe('at-least-once', r))
    assert.equal(r.kills, KILLS)
    assert.deepEqual(
      r.failed.map((e) => `${e.code}: ${e.message}`),
      [],
    )
    assert.equal(r.missing, 0)
  })
})
