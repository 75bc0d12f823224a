// The pause between a transaction's EndTxn answer and the next transaction's first request
// (src/transactions/markers-pause.ts): asking the coordinator with DescribeTransactions when it can
// answer, the fixed pause otherwise, with a fake coordinator connection and a manual clock.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Connection } from '../../../src/network/connection.js'
import { DescribeTransactionsApi, type DescribeTransactionsResponse } from '../../../src/protocol/index.js'
import { MarkersPause, watchMarkers, type MarkersWatchDeps } from '../../../src/transactions/markers-pause.js'
import { ManualClock } from '../../../src/util/clock.js'

const T0 = 1_700_000_000_000

/** A coordinator that answers each DescribeTransactions with the next state of `states`. */
function coordinator(
  clock: ManualClock,
  states: (string | Error | { errorCode: number })[],
  opts: { api?: boolean; stepMs?: number } = {},
) {
  const asked: string[][] = []
  let i = 0
  const conn = {
    apiVersions: new Map(opts.api === false ? [] : [[DescribeTransactionsApi.apiKey, { min: 0, max: 0 }]]),
    request: async (api: { apiKey: number }, msg: { transactionalIds: string[] }) => {
      assert.equal(api.apiKey, DescribeTransactionsApi.apiKey)
      asked.push(msg.transactionalIds)
      clock.advance(opts.stepMs ?? 1)
      const s = states[Math.min(i++, states.length - 1)]!
      if (s instanceof Error) throw s
      const errorCode = typeof s === 'object' ? s.errorCode : 0
      const res: DescribeTransactionsResponse = {
        throttleTimeMs: 0,
        transactionStates: [
          {
            errorCode,
            transactionalId: msg.transactionalIds[0]!,
            transactionState: typeof s === 'string' ? s : '',
            transactionTimeoutMs: 60000,
            transactionStartTimeMs: -1n,
            producerId: 1n,
            producerEpoch: 1,
            topics: [],
          },
        ],
      }
      return res
    },
  } as unknown as Connection
  return { conn, asked }
}

function deps(clock: ManualClock, conn: Connection, closed = () => false): MarkersWatchDeps {
  return { connection: async () => conn, transactionalId: 'tx-1', clock, isClosed: closed }
}

describe('watchMarkers', () => {
  it('asks until the coordinator has written the markers', async () => {
    const clock = new ManualClock(T0)
    const { conn, asked } = coordinator(clock, ['PrepareCommit', 'PrepareCommit', 'CompleteCommit'])
    assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), 'written')
    assert.deepEqual(asked, [['tx-1'], ['tx-1'], ['tx-1']])
  })

  it('treats an abort, an epoch fence and an empty coordinator state alike', async () => {
    for (const [states, end] of [
      [['PrepareAbort', 'CompleteAbort'], 'written'],
      [['PrepareEpochFence', 'Empty'], 'written'],
      [['Ongoing'], 'written'],
    ] as const) {
      const clock = new ManualClock(T0)
      const { conn } = coordinator(clock, [...states])
      assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), end)
    }
  })

  it('gives up at the deadline while markers are still being written', async () => {
    const clock = new ManualClock(T0)
    const { conn, asked } = coordinator(clock, ['PrepareCommit'], { stepMs: 3 })
    assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), 'deadline')
    assert.equal(asked.length, 7) // 3 ms a round trip: the 7th answer comes at T0 + 21
  })

  it('says unsupported without asking a broker that has no DescribeTransactions', async () => {
    const clock = new ManualClock(T0)
    const { conn, asked } = coordinator(clock, ['CompleteCommit'], { api: false })
    assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), 'unsupported')
    assert.equal(asked.length, 0)
  })

  it('says unsupported when the coordinator will not describe the id to this principal', async () => {
    const clock = new ManualClock(T0)
    const { conn } = coordinator(clock, [{ errorCode: 53 }]) // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), 'unsupported')
  })

  it('says failed for an error answer that may pass (the coordinator moved or is loading)', async () => {
    for (const errorCode of [14, 15, 16]) {
      const clock = new ManualClock(T0)
      const { conn } = coordinator(clock, [{ errorCode }])
      assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), 'failed')
    }
  })

  it('says failed when the request or the coordinator lookup fails, or the producer closed', async () => {
    const clock = new ManualClock(T0)
    const { conn } = coordinator(clock, [new Error('connection lost')])
    assert.equal(await watchMarkers(deps(clock, conn), T0 + 20), 'failed')
    const lookupFails: MarkersWatchDeps = {
      ...deps(clock, conn),
      connection: () => Promise.reject(new Error('no coordinator')),
    }
    assert.equal(await watchMarkers(lookupFails, T0 + 20), 'failed')
    const { conn: c2, asked } = coordinator(clock, ['CompleteCommit'])
    assert.equal(
      await watchMarkers(
        deps(clock, c2, () => true),
        T0 + 20,
      ),
      'failed',
    )
    assert.equal(asked.length, 0)
  })
})

describe('MarkersPause', () => {
  function pause(clock: ManualClock, conn: Connection) {
    let wakeups = 0
    const p = new MarkersPause({ ...deps(clock, conn), wakeup: () => wakeups++ })
    return { p, wakeups: () => wakeups }
  }
  const settle = () => new Promise<void>((r) => setImmediate(r))

  it('classic protocol: a fixed pause of one EndTxn round trip, 2 to 10 ms, without asking', () => {
    const clock = new ManualClock(T0)
    const { conn, asked } = coordinator(clock, ['CompleteCommit'])
    const { p } = pause(clock, conn)
    p.afterEndTxn(T0 - 4, false)
    assert.equal(p.heldUntil(T0), T0 + 4)
    p.afterEndTxn(T0, false)
    assert.equal(p.heldUntil(T0), T0 + 2)
    p.afterEndTxn(T0 - 50, false)
    assert.equal(p.heldUntil(T0), T0 + 10)
    assert.equal(p.heldUntil(T0 + 10), 0)
    assert.equal(asked.length, 0)
  })

  it('KIP-890: holds at most 20 ms, and ends the pause once the markers are written', async () => {
    const clock = new ManualClock(T0)
    const { conn } = coordinator(clock, ['PrepareCommit', 'CompleteCommit'])
    const { p, wakeups } = pause(clock, conn)
    p.afterEndTxn(T0 - 1, true)
    assert.equal(p.heldUntil(T0), T0 + 20)
    await settle()
    assert.equal(p.heldUntil(clock.now()), 0)
    assert.equal(wakeups(), 1)
  })

  it('KIP-890 without DescribeTransactions: the fixed pause, and the coordinator is not asked again', async () => {
    const clock = new ManualClock(T0)
    const { conn, asked } = coordinator(clock, [{ errorCode: 53 }])
    const { p, wakeups } = pause(clock, conn)
    p.afterEndTxn(T0 - 5, true)
    await settle()
    assert.equal(p.heldUntil(T0), T0 + 5)
    assert.equal(wakeups(), 1)
    assert.equal(asked.length, 1)
    p.afterEndTxn(clock.now() - 3, true)
    await settle()
    assert.equal(p.heldUntil(clock.now()), clock.now() + 3)
    assert.equal(asked.length, 1)
  })

  it('a failed question falls back to the fixed pause for that transaction only', async () => {
    const clock = new ManualClock(T0)
    const { conn, asked } = coordinator(clock, [new Error('connection lost'), 'CompleteCommit'])
    const { p } = pause(clock, conn)
    p.afterEndTxn(T0 - 6, true)
    await settle()
    assert.equal(p.heldUntil(T0), T0 + 6)
    p.afterEndTxn(clock.now(), true)
    await settle()
    assert.equal(p.heldUntil(clock.now()), 0)
    assert.equal(asked.length, 2)
  })

  it('a watch that ends after a newer EndTxn or a release leaves that pause alone', async () => {
    const clock = new ManualClock(T0)
    const { conn } = coordinator(clock, ['CompleteCommit'])
    const { p, wakeups } = pause(clock, conn)
    p.afterEndTxn(T0, true)
    p.release()
    await settle()
    assert.equal(p.heldUntil(clock.now()), 0)
    assert.equal(wakeups(), 0)
  })
})
