// Issue 12's outage: the broker stopped for longer than delivery.timeout.ms with `spool.path` set.
// Records sent meanwhile fail (_MSG_TIMED_OUT), their dead-letter writes fail too (the same broker),
// and they end in the spool; once the broker is back, replaySpool() delivers them to their topic.
// sent = delivered + replayed, nothing lost, counted from what kcat reads back. A private broker
// (it is stopped and restarted).
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { ReliableProducer, type ReliableSendResult } from '../../src/index.js'
import { withPrivateKafka } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const BEFORE = 1_000
const DURING = 50_000 // issue 12: 50,000 records sent during the outage
const DELIVERY_TIMEOUT_MS = 5_000

/** A ReliableProducer whose dead-letter failures go to the spool at `path`. */
function withSpool(bootstrap: string, path: string): ReliableProducer {
  return new ReliableProducer(
    {
      'bootstrap.servers': bootstrap,
      'linger.ms': 5,
      'request.timeout.ms': 2_000,
      'delivery.timeout.ms': DELIVERY_TIMEOUT_MS,
      'retry.backoff.ms': 100,
      'reconnect.backoff.max.ms': 500,
    },
    { spool: { path } },
  )
}

test('broker down longer than delivery.timeout.ms: records end in the spool, replaySpool() delivers them', async (t) => {
  if (skipWithoutKcat(t)) return
  const dir = await mkdtemp(join(tmpdir(), 'rk-spool-outage-'))
  try {
    await withPrivateKafka({ nodes: 1 }, async (cluster) => {
      const bootstrap = cluster.bootstrapServers
      const rp = withSpool(bootstrap, join(dir, 'dead-letters.jsonl'))
      const topic = uniqueTopic('rp-outage')
      await createTopic(bootstrap, { name: topic, numPartitions: 3 })
      await createTopic(bootstrap, { name: `${topic}.dlq`, numPartitions: 1 })
      try {
        const send = (i: number): Promise<ReliableSendResult> =>
          rp.send(topic, `k${i % 100}`, { seq: i }, { headers: { seq: String(i) } })
        const before = await Promise.all(Array.from({ length: BEFORE }, (_, i) => send(i)))
        assert.ok(before.every((r) => !('deadLettered' in r)))

        const node = cluster.nodes[0]!
        await node.stop()
        const stoppedAt = Date.now()
        const during = await Promise.all(Array.from({ length: DURING }, (_, i) => send(BEFORE + i)))
        const downMs = Date.now() - stoppedAt
        const spooled = during.filter((r) => 'spooled' in r && r.spooled).length
        const codes = new Set(during.map((r) => ('error' in r ? r.error.code : 'delivered')))
        assert.equal(spooled, DURING, `all spooled (outcomes: ${[...codes].join(', ')})`)
        assert.ok(downMs > DELIVERY_TIMEOUT_MS)
        assert.deepEqual(rp.stats, { routed: 0, spooled: DURING, replayed: 0, deadLetterFailures: DURING })

        await node.start()
        const replay = await rp.replaySpool()
        assert.deepEqual(replay, { replayed: DURING, failed: 0, remaining: 0, skipped: 0 })
        const again = await rp.replaySpool()
        assert.equal(again.replayed, 0, 'a second replay finds nothing')
        assert.equal(rp.stats.replayed, DURING)

        const records = await kcatConsume({
          bootstrapServers: bootstrap,
          topic,
          count: BEFORE + DURING + 100,
          timeoutMs: 60_000,
        })
        const seqs = records.map((r) => (JSON.parse(r.value!.toString()) as { seq: number }).seq)
        const unique = new Set(seqs)
        const lost = BEFORE + DURING - unique.size
        const duplicates = seqs.length - unique.size
        console.log(
          `sent ${BEFORE + DURING} = delivered ${BEFORE} + replayed ${replay.replayed}; ` +
            `read back ${seqs.length}, lost ${lost}, duplicates ${duplicates}; broker down ${downMs} ms`,
        )
        assert.equal(lost, 0)
        assert.equal(duplicates, 0, 'the outage wrote nothing, so the replay duplicates nothing')
        // A replayed record keeps its key and headers.
        const replayed = records.find((r) => r.key?.toString() === `k${BEFORE % 100}` && r.offset > 0)
        assert.ok(replayed?.headers.some(([k]) => k === 'seq'))
      } finally {
        await rp.close()
      }
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
