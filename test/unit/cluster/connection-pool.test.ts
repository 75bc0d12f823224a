import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectionPool, type ConnectionPoolOptions } from '../../../src/cluster/connection-pool.js'
import { KafkaError } from '../../../src/errors/index.js'
import { Instrumentation } from '../../../src/observability/events.js'
import { ManualClock } from '../../../src/util/clock.js'
import { seededRandom } from '../../../src/util/random.js'
import { FakeCluster, settle } from '../../helpers/fake-broker.js'
import { CountingClock, GuardedInstrumentation, listen, payloads } from '../../helpers/instrumentation.js'

const B1 = { nodeId: 1, host: 'broker1', port: 9092 }

function setup(opts: Partial<ConnectionPoolOptions> = {}): {
  cluster: FakeCluster
  clock: ManualClock
  pool: ConnectionPool
  disconnects: [number, string | null][]
} {
  const cluster = new FakeCluster()
  const clock = new ManualClock()
  const disconnects: [number, string | null][] = []
  const pool = new ConnectionPool({
    clientId: 'unit',
    requestTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    reconnectBackoffMs: 50,
    reconnectBackoffMaxMs: 1000,
    clock,
    // 0.5 makes the ±20 % jitter exactly 1: the waits are the plain exponential series.
    random: () => 0.5,
    transport: cluster.transport,
    onDisconnect: (nodeId, err) => disconnects.push([nodeId, err?.code ?? null]),
    ...opts,
  })
  return { cluster, clock, pool, disconnects }
}

describe('ConnectionPool', () => {
  it('connects lazily, once, even for concurrent callers, and reuses the ready connection', async () => {
    const { cluster, pool } = setup()
    assert.equal(pool.ready(1), null)
    const p1 = pool.get(B1)
    const p2 = pool.get(B1)
    assert.equal(p1, p2)
    assert.equal(pool.isConnecting(1), true)
    const [c1, c2] = await Promise.all([p1, p2])
    assert.equal(c1, c2)
    assert.equal(await pool.get(B1), c1)
    assert.equal(pool.ready(1), c1)
    assert.equal(pool.isConnecting(1), false)
    assert.equal(cluster.connections.length, 1)
    assert.equal(cluster.connectAttempts.get('broker1:9092'), 1)
    pool.close()
  })

  it('doubles the reconnect backoff per failure up to reconnect.backoff.max.ms, and refuses attempts meanwhile', async () => {
    const { cluster, clock, pool } = setup()
    cluster.down.add('broker1:9092')
    const waits: number[] = []
    for (let i = 0; i < 7; i++) {
      await assert.rejects(pool.get(B1), (e: unknown) => {
        assert.ok(e instanceof KafkaError)
        assert.equal(e.code, '_TRANSPORT')
        assert.equal(e.retriable, true)
        assert.match(e.message, /ECONNREFUSED/)
        return true
      })
      const wait = pool.retryAt(1) - clock.now()
      waits.push(wait)
      assert.equal(pool.inBackoff(1), true)
      // Within the backoff: refused without a new attempt, naming the last error.
      await assert.rejects(pool.get(B1), (e: unknown) => {
        assert.ok(e instanceof KafkaError)
        assert.equal(e.code, '_TRANSPORT')
        assert.match(e.message, new RegExp(`in reconnect backoff for ${wait} ms after: .*ECONNREFUSED`))
        return true
      })
      assert.equal(cluster.connectAttempts.get('broker1:9092'), i + 1)
      clock.advance(wait - 1)
      assert.equal(pool.inBackoff(1), true)
      clock.advance(1)
      assert.equal(pool.inBackoff(1), false)
    }
    assert.deepEqual(waits, [50, 100, 200, 400, 800, 1000, 1000])
    assert.equal(pool.lastError(1)?.code, '_TRANSPORT')

    // The broker comes back: the next attempt succeeds and the backoff resets.
    cluster.down.delete('broker1:9092')
    const conn = await pool.get(B1)
    assert.equal(conn.isReady, true)
    assert.equal(pool.retryAt(1), 0)
    assert.equal(pool.lastError(1), null)
    pool.close()
  })

  it('applies ±20 % jitter with a seeded random source', async () => {
    const { cluster, clock, pool } = setup({ random: seededRandom(42) })
    cluster.down.add('broker1:9092')
    const bases = [50, 100, 200, 400, 800, 1000, 1000, 1000]
    const waits: number[] = []
    for (const base of bases) {
      await pool.get(B1).catch(() => undefined)
      const wait = pool.retryAt(1) - clock.now()
      assert.ok(wait >= base * 0.8 && wait <= base * 1.2, `${wait} within 20 % of ${base}`)
      waits.push(wait)
      clock.advance(wait)
    }
    // Not all equal to the plain series: jitter did something.
    assert.notDeepEqual(waits, bases)
    pool.close()
  })

  it('a dropped connection is reported, and reconnecting waits the base backoff', async () => {
    const { cluster, clock, pool, disconnects } = setup()
    const conn = await pool.get(B1)
    cluster.dropConnections(1)
    await settle(2)
    assert.equal(conn.isClosed, true)
    assert.equal(pool.ready(1), null)
    assert.deepEqual(disconnects, [[1, '_TRANSPORT']])
    assert.equal(pool.retryAt(1) - clock.now(), 50)
    await assert.rejects(pool.get(B1), /reconnect backoff for 50 ms/)
    clock.advance(50)
    const again = await pool.get(B1)
    assert.notEqual(again, conn)
    assert.equal(again.isReady, true)
    assert.equal(cluster.connections.length, 2)
    pool.close()
  })

  it('replaces the connection when the broker moved to a new address', async () => {
    const cluster = new FakeCluster({
      brokers: [
        { nodeId: 1, host: 'broker1', port: 9092 },
        { nodeId: 2, host: 'broker2', port: 9092 },
      ],
    })
    const { pool } = setup({ transport: cluster.transport })
    const first = await pool.get(B1)
    const moved = await pool.get({ nodeId: 1, host: 'broker2', port: 9092 })
    assert.notEqual(moved, first)
    assert.equal(first.isClosed, true)
    assert.equal(moved.address, 'broker2:9092')
    pool.close()
  })

  it('close() closes every connection and refuses new ones with _DESTROY', async () => {
    const { pool, disconnects } = setup()
    const conn = await pool.get(B1)
    pool.close()
    assert.equal(conn.isClosed, true)
    assert.deepEqual(disconnects, [], 'no disconnect reports after close')
    await assert.rejects(pool.get(B1), { code: '_DESTROY' })
  })
})

describe('ConnectionPool instrumentation', () => {
  const CONNECTION_EVENTS = ['connection.opened', 'connection.closed', 'connection.failed'] as const

  it('emits connection.opened with the setup time, and connection.closed with why it closed', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, ...CONNECTION_EVENTS)
    const clock = new ManualClock()
    // The authentication step takes 120 ms on the clock: it is part of the setup time.
    const { cluster, pool } = setup({
      clock,
      instrumentation: events,
      authenticate: () => new Promise<void>((resolve) => clock.setTimeout(resolve, 120)),
    })
    const p = pool.get(B1)
    await settle(5)
    assert.equal(heard.length, 0, 'not open before the step is done')
    clock.advance(120)
    const conn = await p
    assert.deepEqual(heard, [
      { name: 'connection.opened', payload: { nodeId: 1, host: 'broker1', port: 9092, setupMs: 120 } },
    ])
    cluster.dropConnections(1)
    await settle(2)
    assert.equal(conn.isClosed, true)
    const [closed] = payloads(heard, 'connection.closed')
    assert.deepEqual(
      { ...closed, error: closed?.error?.code },
      { nodeId: 1, host: 'broker1', port: 9092, error: '_TRANSPORT' },
    )
    assert.match(closed!.error!.message, /connection closed by broker/)

    // Reconnected, then closed with the pool: _DESTROY.
    clock.advance(50)
    const p2 = pool.get(B1)
    await settle(5)
    clock.advance(120)
    await p2
    pool.close()
    assert.deepEqual(
      heard.map((e) => [e.name, e.name === 'connection.closed' ? e.payload.error?.code : null]),
      [
        ['connection.opened', null],
        ['connection.closed', '_TRANSPORT'],
        ['connection.opened', null],
        ['connection.closed', '_DESTROY'],
      ],
    )
    assert.deepEqual(events.unguarded, [])
  })

  it('emits connection.failed for a refused attempt, and no connection.closed for it', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, ...CONNECTION_EVENTS)
    const { cluster, pool } = setup({ instrumentation: events })
    cluster.down.add('broker1:9092')
    const err = await pool.get(B1).then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    assert.deepEqual(heard, [
      { name: 'connection.failed', payload: { nodeId: 1, host: 'broker1', port: 9092, error: err } },
    ])
    assert.match(err.message, /ECONNREFUSED/)
    // Refused by the backoff: no attempt, no event.
    await assert.rejects(pool.get(B1), /reconnect backoff/)
    assert.equal(heard.length, 1)
    pool.close()
  })

  it('a connection replaced because the broker moved is closed with a null error', async () => {
    const cluster = new FakeCluster({
      brokers: [
        { nodeId: 1, host: 'broker1', port: 9092 },
        { nodeId: 2, host: 'broker2', port: 9092 },
      ],
    })
    const events = new GuardedInstrumentation()
    const heard = listen(events, ...CONNECTION_EVENTS)
    const { pool } = setup({ transport: cluster.transport, instrumentation: events })
    await pool.get(B1)
    await pool.get({ nodeId: 1, host: 'broker2', port: 9092 })
    assert.deepEqual(
      heard.map((e) => [
        e.name,
        (e.payload as { host: string }).host,
        'error' in e.payload ? e.payload.error : undefined,
      ]),
      [
        ['connection.opened', 'broker1', undefined],
        ['connection.closed', 'broker1', null],
        ['connection.opened', 'broker2', undefined],
      ],
    )
    pool.close()
  })

  it('passes the hub to its connections: their request.* events arrive too', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, 'request.sent', 'request.answered')
    const { pool } = setup({ instrumentation: events })
    await pool.get(B1)
    assert.deepEqual(
      heard.map((e) => {
        const { apiName, nodeId } = e.payload as { apiName: string; nodeId: number }
        return [e.name, apiName, nodeId]
      }),
      [
        ['request.sent', 'ApiVersions', 1],
        ['request.answered', 'ApiVersions', 1],
      ],
    )
    pool.close()
  })

  it('without listeners it emits nothing and reads the clock no more than without a hub', async () => {
    async function run(instrumentation: Instrumentation | undefined): Promise<number> {
      const clock = new CountingClock()
      const { cluster, pool } = setup({ clock, ...(instrumentation ? { instrumentation } : {}) })
      await pool.get(B1)
      cluster.dropConnections(1)
      await settle(2)
      clock.advance(50)
      cluster.down.add('broker1:9092')
      await pool.get(B1).catch(() => undefined)
      cluster.down.delete('broker1:9092')
      clock.advance(100)
      await pool.get(B1)
      pool.close()
      return clock.reads
    }
    const none = await run(undefined)
    const silent = new GuardedInstrumentation()
    assert.equal(await run(silent), none)
    assert.deepEqual(silent.unguarded, [])
  })

  it('passes the authentication step to its connections; a rejection fails the attempt and backs off', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, ...CONNECTION_EVENTS)
    const steps: number[] = []
    let refuse = true
    const { clock, pool } = setup({
      instrumentation: events,
      authenticate: async (ctx) => {
        steps.push(ctx.nodeId)
        if (refuse) throw new Error('bad credentials')
      },
    })
    await assert.rejects(pool.get(B1), (e: unknown) => {
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, '_AUTHENTICATION')
      assert.match(e.message, /broker1:9092: authentication failed: bad credentials/)
      return true
    })
    assert.equal(pool.lastError(1)?.code, '_AUTHENTICATION')
    assert.equal(pool.retryAt(1) - clock.now(), 50)
    assert.deepEqual(
      heard.map((e) => [e.name, 'error' in e.payload ? e.payload.error?.code : null]),
      [['connection.failed', '_AUTHENTICATION']],
    )
    refuse = false
    clock.advance(50)
    const conn = await pool.get(B1)
    assert.equal(conn.isReady, true)
    assert.deepEqual(steps, [1, 1])
    pool.close()
  })
})
