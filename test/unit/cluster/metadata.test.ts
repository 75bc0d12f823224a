import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectionPool } from '../../../src/cluster/connection-pool.js'
import { Metadata, type MetadataOptions } from '../../../src/cluster/metadata.js'
import type { KafkaError } from '../../../src/errors/index.js'
import type { MetadataRequest, MetadataResponse } from '../../../src/protocol/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import { FakeCluster, settle, type FakeClusterOptions } from '../../helpers/fake-broker.js'

const THREE = [
  { nodeId: 1, host: 'broker1', port: 9092 },
  { nodeId: 2, host: 'broker2', port: 9093 },
  { nodeId: 3, host: 'broker3', port: 9094 },
]

function setup(
  clusterOpts: FakeClusterOptions = {},
  opts: Partial<MetadataOptions> = {},
): {
  cluster: FakeCluster
  clock: ManualClock
  pool: ConnectionPool
  md: Metadata
  updates: () => number
  errors: KafkaError[]
} {
  const cluster = new FakeCluster(clusterOpts)
  const clock = new ManualClock()
  const random = (): number => 0.5
  const pool = new ConnectionPool({
    clientId: 'unit',
    requestTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    reconnectBackoffMs: 50,
    reconnectBackoffMaxMs: 1000,
    clock,
    random,
    transport: cluster.transport,
  })
  let n = 0
  const errors: KafkaError[] = []
  const md = new Metadata(
    {
      bootstrap: [{ host: cluster.brokers[0]!.host, port: cluster.brokers[0]!.port }],
      metadataMaxAgeMs: 300_000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      allowAutoTopicCreation: false,
      clock,
      random,
      onUpdate: () => n++,
      onError: (e) => errors.push(e),
      ...opts,
    },
    pool,
  )
  return { cluster, clock, pool, md, updates: () => n, errors }
}

const requestedTopics = (cluster: FakeCluster): string[][] =>
  cluster.metadataRequests().map((r) => ((r.body as MetadataRequest).topics ?? []).map((t) => t.name ?? ''))

describe('Metadata', () => {
  it('learns the real broker ids and partition leaders from a bootstrap address', async () => {
    const { cluster, md, pool, updates } = setup({ brokers: THREE, topics: { events: { partitions: 6 } } })
    md.addTopic('events')
    assert.equal(md.topic('events'), undefined)
    await md.refresh()
    assert.deepEqual(
      [...md.brokers.values()],
      THREE.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
    )
    assert.deepEqual(md.broker(2), { nodeId: 2, host: 'broker2', port: 9093 })
    const t = md.topic('events')!
    assert.deepEqual(
      t.partitions.map((p) => [p.partition, p.leader]),
      [
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 1],
        [4, 2],
        [5, 3],
      ],
    )
    assert.deepEqual(t.available, [0, 1, 2, 3, 4, 5])
    assert.equal(updates(), 1)
    // The bootstrap connection was made under id -1, not under a real id.
    assert.equal(cluster.metadataRequests()[0]!.nodeId, 1)
    assert.notEqual(pool.ready(-1), null)
    assert.equal(pool.ready(1), null)
    assert.deepEqual(requestedTopics(cluster), [['events']])
    md.close()
    pool.close()
  })

  it('coalesces refreshes: concurrent refresh() calls share one request', async () => {
    const { cluster, md, pool, updates } = setup({ topics: { a: { partitions: 1 } } })
    const held: (() => void)[] = []
    cluster.interceptor = (req, respond) => {
      if (req.apiName !== 'Metadata') return 'default'
      held.push(respond)
      return 'hold'
    }
    md.addTopic('a')
    const p1 = md.refresh()
    const p2 = md.refresh()
    const p3 = md.refresh()
    assert.equal(p1, p2)
    assert.equal(p2, p3)
    await settle()
    assert.equal(held.length, 1)
    held[0]!()
    await Promise.all([p1, p2, p3])
    assert.equal(cluster.metadataRequests().length, 1)
    assert.equal(updates(), 1)
    // After it finished, a new refresh() is a new request.
    const p4 = md.refresh()
    assert.notEqual(p4, p1)
    await settle()
    held[1]!()
    await p4
    assert.equal(cluster.metadataRequests().length, 2)
    md.close()
    pool.close()
  })

  it('coalesces requestUpdate() calls into one timer, not earlier than retry.backoff.ms after the last refresh', async () => {
    const { cluster, clock, md, pool } = setup({ topics: { a: { partitions: 1 }, b: { partitions: 1 } } })
    // The first refresh for a new topic is immediate.
    md.addTopic('a')
    md.addTopic('b') // joins the pending refresh
    clock.advance(0)
    await settle()
    assert.deepEqual(requestedTopics(cluster), [['a', 'b']])
    const t0 = clock.now()
    for (let i = 0; i < 5; i++) md.requestUpdate()
    md.requestUpdate(true)
    clock.advance(99)
    await settle()
    assert.equal(cluster.metadataRequests().length, 1)
    clock.advance(1)
    await settle()
    assert.equal(cluster.metadataRequests().length, 2)
    assert.equal(clock.now(), t0 + 100)
    md.close()
    pool.close()
  })

  it('keeps an unknown topic error, and retries within the backoff while the topic is missing', async () => {
    const { cluster, clock, md, pool } = setup({ topics: {} })
    md.addTopic('nope')
    clock.advance(0)
    await settle()
    assert.equal(md.topic('nope'), undefined)
    const err = md.topicError('nope')!
    assert.equal(err.code, 'UNKNOWN_TOPIC_OR_PARTITION')
    assert.equal(err.kafkaCode, 3)
    assert.equal(err.retriable, true)
    // A missing topic schedules another refresh after retry.backoff.ms.
    clock.advance(100)
    await settle()
    assert.equal(cluster.metadataRequests().length, 2)
    assert.equal(md.topicError('nope')?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
    // The topic appears: the error is cleared.
    cluster.topics.set('nope', { partitions: 2 })
    clock.advance(100)
    await settle()
    assert.equal(md.topicError('nope'), undefined)
    assert.deepEqual(md.topic('nope')!.available, [0, 1])
    md.close()
    pool.close()
  })

  it('keeps the partitions of a known topic through a transient error but drops them on a fatal one', async () => {
    const { cluster, md, pool } = setup({ topics: { t: { partitions: 2 } } })
    md.addTopic('t')
    await md.refresh()
    assert.equal(md.topic('t')!.partitions.length, 2)
    cluster.topics.set('t', { partitions: 2, errorCode: 5 }) // LEADER_NOT_AVAILABLE
    await md.refresh()
    assert.equal(md.topicError('t')?.code, 'LEADER_NOT_AVAILABLE')
    assert.equal(md.topic('t')!.partitions.length, 2)
    cluster.topics.set('t', { partitions: 2, errorCode: 29 }) // TOPIC_AUTHORIZATION_FAILED
    await md.refresh()
    assert.equal(md.topicError('t')?.code, 'TOPIC_AUTHORIZATION_FAILED')
    assert.equal(md.topicError('t')?.retriable, false)
    assert.equal(md.topic('t'), undefined)
    md.close()
    pool.close()
  })

  it('never goes back to an older leader epoch (KIP-320)', async () => {
    const { cluster, md, pool } = setup({ brokers: THREE, topics: { t: { partitions: 2 } } })
    const answer =
      (leader: number, epoch: number) =>
      (req: MetadataRequest): MetadataResponse => {
        const res = cluster.metadataResponse(req)
        const p = res.topics[0]!.partitions[0]!
        p.leaderId = leader
        p.leaderEpoch = epoch
        return res
      }
    md.addTopic('t')
    cluster.metadataHandler = answer(2, 5)
    await md.refresh()
    assert.deepEqual(pick(md.topic('t')!.partitions[0]!), [2, 5])
    // A stale broker still says leader 1 at epoch 3: ignored.
    cluster.metadataHandler = answer(1, 3)
    await md.refresh()
    assert.deepEqual(pick(md.topic('t')!.partitions[0]!), [2, 5])
    // Partition 1 took the stale answer's values as they were (no epoch regression there).
    assert.deepEqual(pick(md.topic('t')!.partitions[1]!), [2, 0])
    // Same epoch or newer is taken.
    cluster.metadataHandler = answer(3, 5)
    await md.refresh()
    assert.deepEqual(pick(md.topic('t')!.partitions[0]!), [3, 5])
    cluster.metadataHandler = answer(1, 6)
    await md.refresh()
    assert.deepEqual(pick(md.topic('t')!.partitions[0]!), [1, 6])
    md.close()
    pool.close()
  })

  it('marks a partition without a leader unavailable', async () => {
    const { md, pool } = setup({
      topics: { t: { partitions: [{ leader: 1 }, { leader: -1, errorCode: 5 }, { leader: 1 }] } },
    })
    md.addTopic('t')
    await md.refresh()
    assert.deepEqual(md.topic('t')!.available, [0, 2])
    assert.equal(md.topic('t')!.partitions[1]!.leader, -1)
    md.close()
    pool.close()
  })

  it('reports _ALL_BROKERS_DOWN when no broker answers and retries with growing backoff', async () => {
    const { cluster, clock, md, pool, errors, updates } = setup({ topics: { a: { partitions: 1 } } })
    cluster.down.add('broker1:9092')
    md.addTopic('a')
    clock.advance(0)
    await settle()
    assert.equal(errors.length, 1)
    assert.equal(errors[0]!.code, '_ALL_BROKERS_DOWN')
    assert.equal(errors[0]!.retriable, true)
    assert.match(errors[0]!.message, /broker1:9092/)
    assert.equal(updates(), 1, 'waiters are told about the failure too')
    // Next attempt: 100 ms later (backoff for 1 failure), then 200 ms (2 failures).
    clock.advance(99)
    await settle()
    assert.equal(errors.length, 1)
    clock.advance(1)
    await settle()
    assert.equal(errors.length, 2)
    clock.advance(199)
    await settle()
    assert.equal(errors.length, 2)
    clock.advance(1)
    await settle()
    assert.equal(errors.length, 3)
    // The broker is back: the next scheduled refresh works and the topic is known.
    cluster.down.delete('broker1:9092')
    clock.advance(400)
    await settle()
    assert.equal(md.topic('a')!.partitions.length, 1)
    assert.equal(errors.length, 3)
    md.close()
    pool.close()
  })

  it('refreshes at least every metadata.max.age.ms', async () => {
    const { cluster, clock, md, pool } = setup(
      { topics: { a: { partitions: 1 } } },
      { metadataMaxAgeMs: 10_000 },
    )
    md.addTopic('a')
    clock.advance(0)
    await settle()
    assert.equal(cluster.metadataRequests().length, 1)
    clock.advance(9_999)
    await settle()
    assert.equal(cluster.metadataRequests().length, 1)
    clock.advance(1)
    await settle()
    assert.equal(cluster.metadataRequests().length, 2)
    md.close()
    assert.equal(clock.pendingTimers, 0, 'close() clears the timers')
    pool.close()
  })
})

function pick(p: { leader: number; leaderEpoch: number }): [number, number] {
  return [p.leader, p.leaderEpoch]
}
