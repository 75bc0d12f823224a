// The transaction manager on its own, against the fake cluster's transaction coordinator: the
// transition table of states.ts (every legal change exercised by a test of this file, every other
// one refused), the calls that are refused in the wrong state, and what the coordinator's answers
// do to the state. The producer's side (records, batches, delivery reports) is in
// test/unit/producer/transactional-producer.test.ts.
import assert from 'node:assert/strict'
import { after, afterEach, describe, it } from 'node:test'
import { ConnectionPool } from '../../../src/cluster/connection-pool.js'
import { ErrorCode, KafkaError } from '../../../src/errors/index.js'
import { IdempotenceState } from '../../../src/producer/idempotence.js'
import {
  AddPartitionsToTxnApi,
  EndTxnApi,
  InitProducerIdApi,
  type AddPartitionsToTxnRequest,
  type EndTxnRequest,
  type InitProducerIdRequest,
} from '../../../src/protocol/index.js'
import {
  CONCURRENT_TRANSACTIONS_BACKOFF_MS,
  TRANSACTION_TRANSITIONS,
  TransactionManager,
  type TransactionState,
} from '../../../src/transactions/index.js'
import { assertTransition } from '../../../src/transactions/states.js'
import { errorFor, verdictFor } from '../../../src/transactions/verdicts.js'
import { ManualClock } from '../../../src/util/clock.js'
import { seededRandom } from '../../../src/util/random.js'
import { FakeCluster, settle, type FakeClusterOptions } from '../../helpers/fake-broker.js'

const T0 = 1_700_000_000_000
const STATES = Object.keys(TRANSACTION_TRANSITIONS) as TransactionState[]

/** Every change of state any manager of this file went through, as "from → to". */
const seen = new Set<string>()
const pools: ConnectionPool[] = []

afterEach(() => {
  for (const p of pools.splice(0)) p.close()
})

interface Rig {
  cluster: FakeCluster
  clock: ManualClock
  idem: IdempotenceState
  m: TransactionManager
  /** The states entered, in order (after the initial `uninitialized`). */
  states: TransactionState[]
  fatal: KafkaError[]
  pump: (ms?: number) => Promise<void>
}

/** A manager for transactional id `tx` on a new fake cluster, with a manual clock. */
function rig(
  version: 1 | 2,
  opts: { cluster?: FakeClusterOptions; transactionTimeoutMs?: number } = {},
): Rig {
  const cluster = new FakeCluster({
    topics: { t: { partitions: 2 }, u: { partitions: 1 } },
    transactionVersion: version,
    ...opts.cluster,
  })
  const clock = new ManualClock(T0)
  const random = seededRandom(3)
  const pool = new ConnectionPool({
    clientId: 'unit',
    requestTimeoutMs: 30_000,
    connectTimeoutMs: 10_000,
    reconnectBackoffMs: 50,
    reconnectBackoffMaxMs: 1_000,
    clock,
    random,
    transport: cluster.transport,
  })
  pools.push(pool)
  const idem = new IdempotenceState()
  const states: TransactionState[] = []
  const fatal: KafkaError[] = []
  let last: TransactionState = 'uninitialized'
  const m = new TransactionManager({
    transactionalId: 'tx',
    transactionTimeoutMs: opts.transactionTimeoutMs ?? 60_000,
    pool,
    metadata: {
      brokers: new Map(cluster.brokers.map((b) => [b.nodeId, b])),
      refresh: () => Promise.resolve(),
    },
    clock,
    random,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1_000,
    setProducerId: (id) => idem.setProducerId(id),
    producerId: () => idem.producerId,
    needsEpochBump: () => idem.needsBump,
    wakeup: () => undefined,
    onFatal: (err) => fatal.push(err),
    onStateChange: (s) => {
      seen.add(`${last} → ${s}`)
      last = s
      states.push(s)
    },
  })
  const pump = async (ms = 0): Promise<void> => {
    clock.advance(ms)
    for (let i = 0; i < 3; i++) {
      await settle(10)
      clock.advance(0)
    }
  }
  return { cluster, clock, idem, m, states, fatal, pump }
}

/** Pumps `ms` at a time until `p` settles; returns it (rejected or not). */
async function drive<T>(r: Rig, p: Promise<T>, ms = 1, maxSteps = 5_000): Promise<T> {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  for (let i = 0; i < maxSteps && !done; i++) await r.pump(ms)
  assert.ok(done, 'the call never settled')
  return p
}

/** A flush with nothing to deliver. */
const flushed = (): Promise<number> => Promise.resolve(0)
const noPurge = (): void => undefined

async function initialized(version: 1 | 2, opts: Parameters<typeof rig>[1] = {}): Promise<Rig> {
  const r = rig(version, opts)
  await drive(r, r.m.initTransactions(10_000))
  assert.equal(r.m.state, 'ready')
  return r
}

/**
 * A transaction the coordinator knows of: classic adds t/0 (AddPartitionsToTxn); v2, where only a
 * Produce or TxnOffsetCommit v5 starts one, adds offsets of group `g`.
 */
async function started(r: Rig): Promise<void> {
  r.m.beginTransaction()
  if (r.m.generation === 1) {
    r.m.addPartition('t', 0)
    await r.pump()
    assert.ok(r.m.isSendAllowed('t', 0))
  } else {
    await drive(r, r.m.sendOffsets([{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g' }, 10_000))
  }
  assert.equal(r.cluster.txn.describe('tx')!.state, 'Ongoing')
}

function requests<T>(cluster: FakeCluster, apiKey: number): T[] {
  return cluster.requests.filter((q) => q.apiKey === apiKey).map((q) => q.body as T)
}

describe('TRANSACTION_TRANSITIONS', () => {
  it('has a row for every state, and fatalError leads nowhere', () => {
    assert.deepEqual([...STATES].sort(), [
      'abortableError',
      'aborting',
      'committing',
      'fatalError',
      'inTransaction',
      'initializing',
      'ready',
      'uninitialized',
    ])
    assert.deepEqual(TRANSACTION_TRANSITIONS.fatalError, [])
    for (const s of STATES) {
      if (s !== 'fatalError')
        assert.ok(TRANSACTION_TRANSITIONS[s].includes('fatalError'), `${s} → fatalError`)
      assert.ok(!TRANSACTION_TRANSITIONS[s].includes(s), `${s} → ${s} is no change`)
    }
  })

  it('assertTransition accepts exactly the listed changes and throws for every other one', () => {
    for (const from of STATES) {
      for (const to of STATES) {
        if (TRANSACTION_TRANSITIONS[from].includes(to)) {
          assert.doesNotThrow(() => assertTransition(from, to))
        } else {
          assert.throws(() => assertTransition(from, to), new RegExp(`illegal state change ${from} → ${to}`))
        }
      }
    }
  })

  it('the documented ones among them: ready cannot commit, abortableError cannot commit or begin', () => {
    assert.throws(() => assertTransition('ready', 'committing'), /illegal/)
    assert.throws(() => assertTransition('abortableError', 'committing'), /illegal/)
    assert.throws(() => assertTransition('abortableError', 'ready'), /illegal/)
    assert.throws(() => assertTransition('uninitialized', 'inTransaction'), /illegal/)
    assert.throws(() => assertTransition('committing', 'aborting'), /illegal/)
    assert.throws(() => assertTransition('fatalError', 'uninitialized'), /illegal/)
  })
})

for (const version of [1, 2] as const) {
  describe(`TransactionManager, transaction.version ${version}`, () => {
    it('initTransactions: uninitialized → initializing → ready, with the generation of the cluster', async () => {
      const r = rig(version)
      assert.equal(r.m.state, 'uninitialized')
      const p = r.m.initTransactions(10_000)
      assert.equal(r.m.state, 'initializing')
      await drive(r, p)
      assert.deepEqual(r.states, ['initializing', 'ready'])
      assert.deepEqual(r.idem.producerId, { producerId: 1000n, epoch: 0 })
      const [init] = requests<InitProducerIdRequest>(r.cluster, InitProducerIdApi.apiKey)
      assert.equal(init!.transactionalId, 'tx')
      assert.equal(init!.transactionTimeoutMs, 60_000)
      assert.deepEqual([init!.producerId, init!.producerEpoch], [-1n, -1])
      r.m.beginTransaction()
      assert.equal(r.m.generation, version)
      assert.equal(r.m.produceMaxVersion, version === 2 ? 12 : 11)
    })

    it('a second initTransactions() while the first runs waits for the same request; once ready it is refused', async () => {
      const r = rig(version)
      const a = r.m.initTransactions(10_000)
      const b = r.m.initTransactions(10_000)
      await drive(r, Promise.all([a, b]))
      assert.equal(requests(r.cluster, InitProducerIdApi.apiKey).length, 1)
      await assert.rejects(r.m.initTransactions(10_000), { code: '_STATE', message: /already called/ })
    })

    it('initTransactions: a run that ends without an id (closed) goes back to uninitialized', async () => {
      const r = rig(version)
      r.cluster.txn.inject(InitProducerIdApi.apiKey, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 100)
      const p = r.m.initTransactions(60_000)
      await r.pump(1)
      r.m.close()
      const err = await drive(r, p, 50).then(
        () => assert.fail('resolved'),
        (e: KafkaError) => e,
      )
      assert.equal(err.code, '_DESTROY')
      assert.equal(err.fatal, false)
      assert.deepEqual(r.states, ['initializing', 'uninitialized'])
    })

    it('initTransactions: INVALID_TRANSACTION_TIMEOUT is fatal (initializing → fatalError) and names the broker limit', async () => {
      const r = rig(version, {
        cluster: { transactionMaxTimeoutMs: 60_000 },
        transactionTimeoutMs: 120_000,
      })
      const err = await drive(r, r.m.initTransactions(10_000)).then(
        () => assert.fail('resolved'),
        (e: KafkaError) => e,
      )
      assert.equal(err.code, 'INVALID_TRANSACTION_TIMEOUT')
      assert.equal(err.fatal, true)
      assert.match(err.message, /transaction\.max\.timeout\.ms/)
      assert.deepEqual(r.states, ['initializing', 'fatalError'])
      assert.deepEqual(r.fatal, [err])
      assert.strictEqual(r.m.lastError, err)
      assert.throws(
        () => r.m.beginTransaction(),
        (e) => e === err,
      )
      assert.throws(
        () => r.m.checkProduce(),
        (e) => e === err,
      )
      // Synchronously: the manager's calls check the state before they start anything.
      assert.throws(
        () => r.m.initTransactions(1_000),
        (e) => e === err,
      )
    })

    it('calls in the wrong state are refused with _STATE and change nothing', async () => {
      const r = rig(version)
      assert.throws(() => r.m.beginTransaction(), { code: '_STATE', message: /initTransactions\(\) first/ })
      assert.throws(() => r.m.checkProduce(), { code: '_STATE' })
      await assert.rejects(r.m.commit(1_000, flushed), { code: '_STATE' })
      await assert.rejects(r.m.abort(1_000, noPurge, flushed), { code: '_STATE' })
      await assert.rejects(
        r.m.sendOffsets([{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g' }, 1_000),
        {
          code: '_STATE',
        },
      )
      assert.deepEqual(r.states, [])
      await drive(r, r.m.initTransactions(10_000))
      assert.throws(() => r.m.checkProduce(), { code: '_STATE', message: /beginTransaction/ })
      await assert.rejects(r.m.commit(1_000, flushed), { code: '_STATE', message: /no transaction is open/ })
      await assert.rejects(r.m.abort(1_000, noPurge, flushed), {
        code: '_STATE',
        message: /no transaction is open/,
      })
      r.m.beginTransaction()
      assert.throws(() => r.m.beginTransaction(), { code: '_STATE', message: /open already/ })
      await assert.rejects(r.m.initTransactions(1_000), { code: '_STATE' })
      assert.deepEqual(r.states, ['initializing', 'ready', 'inTransaction'])
    })

    it('commit: inTransaction → committing → ready, with one EndTxn', async () => {
      const r = await initialized(version)
      await started(r)
      r.m.checkProduce()
      const p = r.m.commit(10_000, flushed)
      assert.equal(r.m.state, 'committing')
      await drive(r, p)
      assert.deepEqual(r.states.slice(2), ['inTransaction', 'committing', 'ready'])
      const ends = requests<EndTxnRequest>(r.cluster, EndTxnApi.apiKey)
      assert.equal(ends.length, 1)
      assert.equal(ends[0]!.committed, true)
      assert.equal(r.cluster.txn.transactions[0]!.outcome, 'committed')
      // v2: the coordinator bumped the epoch, and the manager took it.
      assert.equal(r.idem.producerId!.epoch, version === 2 ? 1 : 0)
    })

    it('commit and abort of a transaction the coordinator never heard of send no EndTxn', async () => {
      const r = await initialized(version)
      r.m.beginTransaction()
      await drive(r, r.m.commit(10_000, flushed))
      r.m.beginTransaction()
      await drive(r, r.m.abort(10_000, noPurge, flushed))
      assert.equal(requests(r.cluster, EndTxnApi.apiKey).length, 0)
      assert.equal(r.m.state, 'ready')
      assert.equal(r.idem.producerId!.epoch, 0)
    })

    it('abort: inTransaction → aborting → ready; purge() runs before the flush', async () => {
      const r = await initialized(version)
      await started(r)
      const calls: string[] = []
      await drive(
        r,
        r.m.abort(
          10_000,
          () => calls.push('purge'),
          () => {
            calls.push('flush')
            return Promise.resolve(0)
          },
        ),
      )
      assert.deepEqual(calls, ['purge', 'flush'])
      assert.deepEqual(r.states.slice(2), ['inTransaction', 'aborting', 'ready'])
      const ends = requests<EndTxnRequest>(r.cluster, EndTxnApi.apiKey)
      assert.deepEqual(
        ends.map((e) => e.committed),
        [false],
      )
      assert.equal(r.cluster.txn.transactions[0]!.outcome, 'aborted')
    })

    it('a record failing while the commit flushes: committing → abortableError, then abortableError → aborting → ready', async () => {
      const r = await initialized(version)
      await started(r)
      const failure = new KafkaError('MESSAGE_TOO_LARGE', 'one record', { kafkaCode: 10 })
      const err = await drive(
        r,
        r.m.commit(10_000, () => {
          r.m.abortableError(failure)
          return Promise.resolve(0)
        }),
      ).then(
        () => assert.fail('committed'),
        (e: KafkaError) => e,
      )
      assert.equal(err.code, 'MESSAGE_TOO_LARGE')
      assert.equal(err.txnRequiresAbort, true)
      assert.equal(err.fatal, false)
      assert.equal(r.m.state, 'abortableError')
      assert.strictEqual(r.m.lastError, failure)
      assert.equal(requests(r.cluster, EndTxnApi.apiKey).length, 0, 'nothing committed')
      // Only abort leads on.
      assert.throws(() => r.m.checkProduce(), { txnRequiresAbort: true })
      await assert.rejects(r.m.commit(1_000, flushed), { txnRequiresAbort: true })
      await assert.rejects(
        r.m.sendOffsets([{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g' }, 1_000),
        {
          txnRequiresAbort: true,
        },
      )
      assert.throws(() => r.m.beginTransaction(), { code: '_STATE' })
      await drive(r, r.m.abort(10_000, noPurge, flushed))
      assert.deepEqual(r.states.slice(2), [
        'inTransaction',
        'committing',
        'abortableError',
        'aborting',
        'ready',
      ])
      r.m.beginTransaction()
      assert.equal(r.m.state, 'inTransaction')
    })

    it('inTransaction → abortableError; an abort with a broken sequence bumps the epoch: aborting → initializing → ready', async () => {
      const r = await initialized(version)
      await started(r)
      r.m.abortableError(
        new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'gap', { txnRequiresAbort: true }),
        true,
      )
      assert.equal(r.m.state, 'abortableError')
      await drive(r, r.m.abort(10_000, noPurge, flushed))
      const inits = requests<InitProducerIdRequest>(r.cluster, InitProducerIdApi.apiKey)
      if (version === 1) {
        // KIP-360: InitProducerId naming the current id and epoch, after EndTxn(abort).
        assert.deepEqual(r.states.slice(2), [
          'inTransaction',
          'abortableError',
          'aborting',
          'initializing',
          'ready',
        ])
        assert.equal(inits.length, 2)
        assert.deepEqual([inits[1]!.producerId, inits[1]!.producerEpoch], [1000n, 0])
        const order = r.cluster.requests
          .map((q) => q.apiName)
          .filter((n) => n === 'EndTxn' || n === 'InitProducerId')
        assert.deepEqual(order, ['InitProducerId', 'EndTxn', 'InitProducerId'])
      } else {
        // EndTxn v5 bumped the epoch already: no InitProducerId needed.
        assert.deepEqual(r.states.slice(2), ['inTransaction', 'abortableError', 'aborting', 'ready'])
        assert.equal(inits.length, 1)
      }
      assert.deepEqual(r.idem.producerId, { producerId: 1000n, epoch: 1 })
    })

    it('the idempotence state asking for a bump also makes the abort bump the epoch', async () => {
      const r = await initialized(version)
      await started(r)
      r.idem.requestBump()
      await drive(r, r.m.abort(10_000, noPurge, flushed))
      assert.deepEqual(r.idem.producerId, { producerId: 1000n, epoch: 1 })
      assert.equal(requests(r.cluster, InitProducerIdApi.apiKey).length, version === 1 ? 2 : 1)
    })

    it('EndTxn(commit) answered PRODUCER_FENCED: committing → fatalError', async () => {
      const r = await initialized(version)
      await started(r)
      r.cluster.txn.inject(EndTxnApi.apiKey, ErrorCode.PRODUCER_FENCED)
      const err = await drive(r, r.m.commit(10_000, flushed)).then(
        () => assert.fail('committed'),
        (e: KafkaError) => e,
      )
      assert.equal(err.code, 'PRODUCER_FENCED')
      assert.equal(err.fatal, true)
      assert.match(err.message, /fenced/)
      assert.deepEqual(r.states.slice(-2), ['committing', 'fatalError'])
      assert.deepEqual(r.fatal, [err])
    })

    it('EndTxn(abort) answered PRODUCER_FENCED: aborting → fatalError', async () => {
      const r = await initialized(version)
      await started(r)
      r.cluster.txn.inject(EndTxnApi.apiKey, ErrorCode.PRODUCER_FENCED)
      await assert.rejects(drive(r, r.m.abort(10_000, noPurge, flushed)), {
        code: 'PRODUCER_FENCED',
        fatal: true,
      })
      assert.deepEqual(r.states.slice(-2), ['aborting', 'fatalError'])
    })

    it('fatal errors from outside (the producer) in every other state: uninitialized, ready, inTransaction, abortableError', async () => {
      const fenced = (): KafkaError => new KafkaError('PRODUCER_FENCED', 'fenced', { fatal: true })
      const a = rig(version)
      a.m.fatalError(fenced())
      assert.deepEqual(a.states, ['fatalError'])
      const b = await initialized(version)
      b.m.fatalError(fenced())
      assert.deepEqual(b.states, ['initializing', 'ready', 'fatalError'])
      const c = await initialized(version)
      c.m.beginTransaction()
      c.m.fatalError(fenced())
      assert.deepEqual(c.states.slice(2), ['inTransaction', 'fatalError'])
      const d = await initialized(version)
      d.m.beginTransaction()
      d.m.abortableError(new KafkaError('INVALID_RECORD', 'bad'))
      const err = fenced()
      d.m.fatalError(err)
      d.m.fatalError(fenced()) // only the first counts
      assert.deepEqual(d.states.slice(2), ['inTransaction', 'abortableError', 'fatalError'])
      assert.strictEqual(d.m.lastError, err)
      assert.deepEqual(d.fatal, [err])
    })

    it('an abortable error outside a transaction changes nothing', async () => {
      const r = await initialized(version)
      r.m.abortableError(new KafkaError('INVALID_RECORD', 'late'))
      assert.equal(r.m.state, 'ready')
      assert.equal(r.m.lastError, null)
    })
  })
}

describe('TransactionManager, classic partitions', () => {
  it('holds a partition until AddPartitionsToTxn added it, and sends the ones gathered meanwhile in one request', async () => {
    const r = await initialized(1)
    const held: (() => void)[] = []
    r.cluster.interceptor = (req, respond) => {
      if (req.apiKey !== AddPartitionsToTxnApi.apiKey) return 'default'
      held.push(respond)
      return 'hold'
    }
    r.m.beginTransaction()
    r.m.addPartition('t', 0)
    await r.pump(5)
    assert.equal(held.length, 1)
    assert.equal(r.m.isSendAllowed('t', 0), false)
    r.m.addPartition('t', 1)
    r.m.addPartition('u', 0)
    r.m.addPartition('t', 0) // already asked for
    await r.pump(5)
    assert.equal(held.length, 1, 'one AddPartitionsToTxn at a time')
    held[0]!()
    await r.pump()
    assert.ok(r.m.isSendAllowed('t', 0))
    assert.equal(r.m.isSendAllowed('t', 1), false)
    assert.equal(held.length, 2)
    held[1]!()
    await r.pump()
    assert.ok(r.m.isSendAllowed('t', 1) && r.m.isSendAllowed('u', 0))
    const adds = requests<AddPartitionsToTxnRequest>(r.cluster, AddPartitionsToTxnApi.apiKey)
    assert.deepEqual(
      adds.map((a) => a.v3AndBelowTopics.map((t) => [t.name, t.partitions])),
      [
        [['t', [0]]],
        [
          ['t', [1]],
          ['u', [0]],
        ],
      ],
    )
    assert.deepEqual(r.cluster.txn.describe('tx')!.partitions, ['t/0', 't/1', 'u/0'])
  })

  it('v2 adds no partition itself: every partition may be sent at once', async () => {
    const r = await initialized(2)
    r.m.beginTransaction()
    r.m.addPartition('t', 0)
    assert.ok(r.m.isSendAllowed('t', 0))
    await r.pump(5)
    assert.equal(requests(r.cluster, AddPartitionsToTxnApi.apiKey).length, 0)
  })

  it('AddPartitionsToTxn: CONCURRENT_TRANSACTIONS is retried after 20 ms, not retry.backoff.ms', async () => {
    const r = await initialized(1)
    const at: number[] = []
    r.cluster.interceptor = (req) => {
      if (req.apiKey === AddPartitionsToTxnApi.apiKey) at.push(r.clock.now())
      return 'default'
    }
    r.cluster.txn.inject(AddPartitionsToTxnApi.apiKey, ErrorCode.CONCURRENT_TRANSACTIONS)
    r.m.beginTransaction()
    r.m.addPartition('t', 0)
    for (let i = 0; i < 200 && !r.m.isSendAllowed('t', 0); i++) await r.pump(1)
    assert.ok(r.m.isSendAllowed('t', 0))
    assert.equal(at.length, 2)
    const wait = at[1]! - at[0]!
    assert.ok(wait >= CONCURRENT_TRANSACTIONS_BACKOFF_MS * 0.8 && wait < 50, `retried after ${wait} ms`)
  })

  it('AddPartitionsToTxn: an abortable answer fails the transaction, a fenced one the producer', async () => {
    const r = await initialized(1)
    r.cluster.txn.inject(AddPartitionsToTxnApi.apiKey, ErrorCode.TRANSACTION_ABORTABLE)
    r.m.beginTransaction()
    r.m.addPartition('t', 0)
    await r.pump(1)
    assert.equal(r.m.state, 'abortableError')
    assert.equal(r.m.lastError!.code, 'TRANSACTION_ABORTABLE')
    assert.equal(r.m.lastError!.txnRequiresAbort, true)
    await drive(r, r.m.abort(10_000, noPurge, flushed))
    r.m.beginTransaction()
    r.cluster.txn.inject(AddPartitionsToTxnApi.apiKey, ErrorCode.PRODUCER_FENCED)
    r.m.addPartition('t', 0)
    // The first request after an EndTxn waits a few ms for the markers (see markersDoneAt).
    for (let i = 0; i < 20 && (r.m.state as string) !== 'fatalError'; i++) await r.pump(1)
    assert.equal(r.m.state, 'fatalError')
    assert.equal(r.fatal[0]!.code, 'PRODUCER_FENCED')
  })
})

describe('verdicts', () => {
  it('decide per request, as Java does', () => {
    assert.equal(verdictFor('AddPartitionsToTxn', ErrorCode.CONCURRENT_TRANSACTIONS), 'retrySoon')
    assert.equal(verdictFor('InitProducerId', ErrorCode.COORDINATOR_LOAD_IN_PROGRESS), 'retry')
    assert.equal(verdictFor('EndTxn(commit)', ErrorCode.NOT_COORDINATOR), 'refind')
    assert.equal(verdictFor('EndTxn(commit)', ErrorCode.COORDINATOR_NOT_AVAILABLE), 'refind')
    assert.equal(verdictFor('TxnOffsetCommit', ErrorCode.ILLEGAL_GENERATION), 'abortable')
    assert.equal(verdictFor('TxnOffsetCommit', ErrorCode.UNKNOWN_MEMBER_ID), 'abortable')
    assert.equal(verdictFor('AddPartitionsToTxn', ErrorCode.TOPIC_AUTHORIZATION_FAILED), 'abortable')
    assert.equal(verdictFor('InitProducerId', ErrorCode.TOPIC_AUTHORIZATION_FAILED), 'fatal')
    assert.equal(verdictFor('EndTxn(abort)', ErrorCode.PRODUCER_FENCED), 'fatal')
    assert.equal(verdictFor('AddOffsetsToTxn', ErrorCode.INVALID_PRODUCER_EPOCH), 'fatal')
    assert.equal(verdictFor('InitProducerId', ErrorCode.INVALID_TRANSACTION_TIMEOUT), 'fatal')
  })

  it('errors carry the flags of their verdict', () => {
    const fenced = errorFor('EndTxn(commit)', ErrorCode.INVALID_PRODUCER_EPOCH, 'fatal', 'tx')
    assert.equal(fenced.code, 'INVALID_PRODUCER_EPOCH')
    assert.deepEqual([fenced.fatal, fenced.retriable, fenced.txnRequiresAbort], [true, false, false])
    assert.match(fenced.message, /transactional\.id "tx".*fenced/)
    const abortable = errorFor('TxnOffsetCommit', ErrorCode.ILLEGAL_GENERATION, 'abortable', 'tx')
    assert.deepEqual([abortable.fatal, abortable.retriable, abortable.txnRequiresAbort], [false, false, true])
    const timeout = errorFor('InitProducerId', ErrorCode.INVALID_TRANSACTION_TIMEOUT, 'fatal', 'tx')
    assert.match(timeout.message, /transaction\.max\.timeout\.ms/)
  })
})

// Runs last (node:test runs a file's tests in order): the tests above, together, went through every
// change of state the table allows.
describe('coverage of the table', () => {
  it('every legal transition was exercised by a test of this file', () => {
    const legal = STATES.flatMap((from) => TRANSACTION_TRANSITIONS[from].map((to) => `${from} → ${to}`))
    const missing = legal.filter((t) => !seen.has(t))
    assert.deepEqual(missing, [])
    const illegal = [...seen].filter((t) => !legal.includes(t))
    assert.deepEqual(illegal, [])
  })
})

after(() => {
  for (const p of pools.splice(0)) p.close()
})
