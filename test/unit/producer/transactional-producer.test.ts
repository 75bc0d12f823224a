// The transactional producer through its public API (initTransactions, beginTransaction, produce,
// send, sendOffsetsToTransaction, commitTransaction, abortTransaction) on the fake cluster, whose
// coordinator (test/helpers/fake-txn-coordinator.ts) applies a 4.x broker's rules, with a manual
// clock. Each scenario runs on a cluster with transaction.version 1 (classic, KIP-98) and 2
// (KIP-890) where both apply. Every record produced gets a delivery callback, and each test checks
// that every one of them ran exactly once. The manager's state table alone:
// test/unit/transactions/transaction-manager.test.ts.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { ErrorCode, KafkaError } from '../../../src/errors/index.js'
import { Producer } from '../../../src/producer/producer.js'
import {
  AddPartitionsToTxnApi,
  EndTxnApi,
  FindCoordinatorApi,
  InitProducerIdApi,
  TxnOffsetCommitApi,
  type AddOffsetsToTxnRequest,
  type AddPartitionsToTxnRequest,
  type EndTxnRequest,
  type InitProducerIdRequest,
  type ProduceRequest,
  type TxnOffsetCommitRequest,
} from '../../../src/protocol/index.js'
import { seededRandom } from '../../../src/util/random.js'
import { Deliveries } from '../../helpers/deliveries.js'
import type {
  FakeCluster,
  FakeClusterOptions,
  ProduceCall,
  ReceivedRequest,
} from '../../helpers/fake-broker.js'
import { closeFakeProducers, fakeProducer, type FakeProducer } from '../../helpers/fake-producer.js'

const VERSIONS = [1, 2] as const
const TWO_BROKERS = [
  { nodeId: 1, host: 'broker1', port: 9092 },
  { nodeId: 2, host: 'broker2', port: 9092 },
]

/** Producers made outside fakeProducer (a second instance on the same cluster). */
const peers: Producer[] = []

afterEach(async () => {
  for (const p of peers.splice(0)) {
    const closing = p.close(0)
    await closing.catch(() => undefined)
  }
  await closeFakeProducers()
})

type Rig = FakeProducer & { d: Deliveries; errors: KafkaError[] }

/**
 * A transactional producer (transactional.id `tx`, linger.ms 0) on a fake cluster with topics t (2
 * partitions) and u (1), whose brokers finalize transaction.version `version`.
 */
function txnRig(version: 1 | 2, config: Record<string, unknown> = {}, cluster: FakeClusterOptions = {}): Rig {
  const errors: KafkaError[] = []
  const rig = fakeProducer(
    {
      'linger.ms': 0,
      'transactional.id': 'tx',
      error_cb: (e: KafkaError) => errors.push(e),
      ...config,
    },
    { topics: { t: { partitions: 2 }, u: { partitions: 1 } }, transactionVersion: version, ...cluster },
  )
  return { ...rig, d: new Deliveries(), errors }
}

/** Pumps `stepMs` at a time until `p` settles; returns it (rejected or not). */
async function drive<T>(rig: FakeProducer, p: Promise<T>, stepMs = 1, maxSteps = 3_000): Promise<T> {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  for (let i = 0; i < maxSteps && !done; i++) await rig.pump(stepMs)
  assert.ok(done, `the call did not settle within ${maxSteps * stepMs} ms`)
  return p
}

/** The error `p` rejects with (fails if it resolves). */
async function failure(rig: FakeProducer, p: Promise<unknown>, stepMs = 1): Promise<KafkaError> {
  return drive(rig, p, stepMs).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => {
      assert.ok(e instanceof KafkaError, `not a KafkaError: ${String(e)}`)
      return e
    },
  )
}

/**
 * A ready transactional producer that knows the metadata of t and u (so that records go to their
 * batches at once instead of waiting for a metadata refresh).
 */
async function ready(version: 1 | 2, config: Record<string, unknown> = {}, cluster: FakeClusterOptions = {}) {
  const rig = txnRig(version, config, cluster)
  await drive(rig, rig.producer.connect({ topics: ['t', 'u'] }))
  await drive(rig, rig.producer.initTransactions())
  assert.equal(rig.producer.transactionState, 'ready')
  return rig
}

/** A second producer with the same transactional.id on the rig's cluster and clock. */
function peer(rig: Rig, config: Record<string, unknown> = {}): Producer {
  const p = new Producer(
    { 'bootstrap.servers': rig.cluster.bootstrap, 'linger.ms': 0, 'transactional.id': 'tx', ...config },
    { clock: rig.clock, random: seededRandom(11), transport: rig.cluster.transport },
  )
  peers.push(p)
  return p
}

function requestsOf(cluster: FakeCluster, apiKey: number): ReceivedRequest[] {
  return cluster.requests.filter((r) => r.apiKey === apiKey)
}

function bodies<T>(cluster: FakeCluster, apiKey: number): T[] {
  return requestsOf(cluster, apiKey).map((r) => r.body as T)
}

/** One sent batch: producer id, epoch, base sequence, transactional flag, values. */
type Stamp = [bigint, number, number, boolean, string[]]

function stamps(calls: readonly ProduceCall[], topic = 't', partition = 0): Stamp[] {
  return calls.flatMap((c) =>
    c.partitions
      .filter((p) => p.topic === topic && p.partition === partition)
      .flatMap((p) =>
        p.batches.map((b): Stamp => [
          b.producerId,
          b.producerEpoch,
          b.baseSequence,
          b.transactional,
          b.records.map((r) => r.value!.toString()),
        ]),
      ),
  )
}

const values = (records: { value: Buffer | null }[]): string[] => records.map((r) => r.value!.toString())

/** Holds every request of `apiKey` until released; returns the release functions as they come. */
function holdRequests(cluster: FakeCluster, apiKey: number): (() => void)[] {
  const held: (() => void)[] = []
  const before = cluster.interceptor
  cluster.interceptor = (req, respond, conn) => {
    if (req.apiKey !== apiKey) return before?.(req, respond, conn) ?? 'default'
    held.push(respond)
    return 'hold'
  }
  return held
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: initTransactions()`, () => {
    it('gets the producer id and epoch from the coordinator with the transactional id and timeout', async () => {
      const rig = txnRig(version, { 'transaction.timeout.ms': 30_000 })
      const { producer, cluster } = rig
      assert.equal(producer.transactionState, 'uninitialized')
      assert.equal(producer.producerId, null)
      const p = producer.initTransactions()
      assert.equal(producer.transactionState, 'initializing')
      await drive(rig, p)
      assert.equal(producer.transactionState, 'ready')
      assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 0])
      const [init] = bodies<InitProducerIdRequest>(cluster, InitProducerIdApi.apiKey)
      assert.deepEqual(
        [init!.transactionalId, init!.transactionTimeoutMs, init!.producerId, init!.producerEpoch],
        ['tx', 30_000, -1n, -1],
      )
      assert.equal(requestsOf(cluster, FindCoordinatorApi.apiKey).length, 1)
      assert.deepEqual(cluster.txn.describe('tx'), {
        state: 'Empty',
        producerId: 1000n,
        producerEpoch: 0,
        lastProducerEpoch: -1,
        timeoutMs: 30_000,
        partitions: [],
        groups: [],
      })
      // Once ready, a second call is a mistake.
      const again = await failure(rig, producer.initTransactions())
      assert.equal(again.code, '_STATE')
    })

    it('a second instance fences the first: its next request fails fatally, and every later call throws that error', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      const second = peer(rig)
      await drive(rig, second.initTransactions())
      assert.deepEqual([second.producerId, second.producerEpoch], [1000n, 1])
      // The first one knows nothing yet: beginTransaction() sends nothing.
      producer.beginTransaction()
      const err = await failure(
        rig,
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 5 }], { groupId: 'g' }),
      )
      assert.ok(err.code === 'PRODUCER_FENCED' || err.code === 'INVALID_PRODUCER_EPOCH', err.code)
      assert.equal(err.fatal, true)
      assert.equal(err.retriable, false)
      assert.match(err.message, /fenced/)
      assert.equal(producer.transactionState, 'fatalError')
      assert.strictEqual(producer.fatal, err)
      assert.ok(rig.errors.includes(err), 'error_cb heard it')
      // Every later call: the same error.
      assert.throws(
        () => producer.beginTransaction(),
        (e) => e === err,
      )
      assert.throws(
        () => producer.produce({ topic: 't', value: 'x' }, d.cb('x')),
        (e) => e === err,
      )
      d.calls.delete('x')
      await assert.rejects(producer.send({ topic: 't', value: 'y' }), (e) => e === err)
      await assert.rejects(producer.commitTransaction(), (e) => e === err)
      await assert.rejects(producer.abortTransaction(), (e) => e === err)
      await assert.rejects(producer.initTransactions(), (e) => e === err)
      await assert.rejects(
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 5 }], { groupId: 'g' }),
        (e) => e === err,
      )
      // The second one works.
      second.beginTransaction()
      const sent = second.send({ topic: 't', partition: 0, value: 'from-second' })
      await drive(rig, second.commitTransaction())
      await sent
      assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['from-second'])
      assert.equal(d.total, 0)
    })

    it('a fenced instance that produces: its records fail once, and commit or abort ends in the fatal fenced error', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      await drive(rig, peer(rig).initTransactions())
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'zombie' }, d.cb('zombie'))
      await rig.pump(5)
      let err = await failure(rig, producer.commitTransaction())
      if (version === 2) {
        // KIP-588: the partition leader's INVALID_PRODUCER_EPOCH only fails the transaction; the
        // abort asks the coordinator, which says the producer is fenced.
        assert.equal(err.code, 'INVALID_PRODUCER_EPOCH')
        assert.equal(err.txnRequiresAbort, true)
        assert.equal(producer.transactionState, 'abortableError')
        err = await failure(rig, producer.abortTransaction())
      }
      assert.ok(err.code === 'PRODUCER_FENCED' || err.code === 'INVALID_PRODUCER_EPOCH', err.code)
      assert.equal(err.fatal, true)
      assert.equal(producer.transactionState, 'fatalError')
      assert.ok(d.one('zombie').err, 'the zombie record failed')
      assert.throws(
        () => producer.beginTransaction(),
        (e) => e === producer.fatal,
      )
      assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), [])
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
      await rig.pump(1_000)
      d.assertAllOnce()
    })

    it('INVALID_TRANSACTION_TIMEOUT is fatal, with a message naming transaction.max.timeout.ms', async () => {
      const rig = txnRig(version, { 'transaction.timeout.ms': 120_000 }, { transactionMaxTimeoutMs: 60_000 })
      const { producer } = rig
      const err = await failure(rig, producer.initTransactions())
      assert.equal(err.code, 'INVALID_TRANSACTION_TIMEOUT')
      assert.equal(err.fatal, true)
      assert.equal(err.retriable, false)
      assert.match(err.message, /transaction\.max\.timeout\.ms/)
      assert.equal(producer.transactionState, 'fatalError')
      assert.strictEqual(producer.fatal, err)
      assert.throws(
        () => producer.beginTransaction(),
        (e) => e === err,
      )
      await assert.rejects(producer.initTransactions(), (e) => e === err)
      // Not retried: one InitProducerId.
      await rig.pump(5_000)
      assert.equal(requestsOf(rig.cluster, InitProducerIdApi.apiKey).length, 1)
    })

    it('COORDINATOR_LOAD_IN_PROGRESS and NOT_COORDINATOR are retried, the latter after looking the coordinator up again', async () => {
      const rig = txnRig(version)
      const { producer, cluster } = rig
      cluster.txn.inject(InitProducerIdApi.apiKey, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 2)
      cluster.txn.inject(InitProducerIdApi.apiKey, ErrorCode.NOT_COORDINATOR, 1)
      cluster.txn.inject(FindCoordinatorApi.apiKey, ErrorCode.COORDINATOR_NOT_AVAILABLE, 1)
      await drive(rig, producer.initTransactions(), 10)
      assert.equal(producer.transactionState, 'ready')
      assert.equal(requestsOf(cluster, InitProducerIdApi.apiKey).length, 4)
      // The first lookup failed, the second found it, NOT_COORDINATOR made it look again.
      assert.equal(requestsOf(cluster, FindCoordinatorApi.apiKey).length, 3)
      assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 0])
      assert.equal(cluster.txn.pendingInjections(), 0)
    })

    it('a coordinator that moves while InitProducerId is under way is found on its new broker', async () => {
      const rig = txnRig(version, {}, { brokers: TWO_BROKERS, coordinatorNodeId: 1 })
      const { producer, cluster } = rig
      const held = holdRequests(cluster, InitProducerIdApi.apiKey)
      const p = producer.initTransactions()
      await rig.pump(5)
      assert.equal(held.length, 1)
      assert.equal(requestsOf(cluster, InitProducerIdApi.apiKey)[0]!.nodeId, 1)
      cluster.txn.coordinatorNodeId = 2
      cluster.interceptor = null
      held[0]!() // node 1 is no longer the coordinator: NOT_COORDINATOR
      await drive(rig, p, 10)
      assert.deepEqual(
        requestsOf(cluster, InitProducerIdApi.apiKey).map((r) => r.nodeId),
        [1, 2],
      )
      assert.equal(producer.transactionState, 'ready')
      assert.deepEqual(cluster.txn.describe('tx')!.producerEpoch, 0)
    })

    it('a timeout rejects with a retriable _TIMED_OUT; calling again waits for the same InitProducerId', async () => {
      const rig = txnRig(version)
      const { producer, cluster } = rig
      const held = holdRequests(cluster, InitProducerIdApi.apiKey)
      const first = producer.initTransactions(1_000)
      const t0 = rig.clock.now()
      const err = await failure(rig, first, 10)
      assert.equal(err.code, '_TIMED_OUT')
      assert.equal(err.retriable, true)
      assert.equal(err.fatal, false)
      assert.ok(rig.clock.now() - t0 >= 1_000 && rig.clock.now() - t0 < 1_100)
      assert.equal(producer.transactionState, 'initializing')
      assert.equal(producer.fatal, null)
      const second = producer.initTransactions(10_000)
      await rig.pump(10)
      held[0]!()
      await drive(rig, second)
      assert.equal(producer.transactionState, 'ready')
      assert.equal(requestsOf(cluster, InitProducerIdApi.apiKey).length, 1)
      assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 0])
    })
  })
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: calls in the wrong state`, () => {
    it('before initTransactions(): beginTransaction() throws _STATE, produce() throws, send() rejects', async () => {
      const rig = txnRig(version)
      const { producer, d } = rig
      assert.throws(() => producer.beginTransaction(), {
        code: '_STATE',
        message: /initTransactions\(\) first/,
      })
      assert.throws(() => producer.produce({ topic: 't', value: 'x' }, d.cb('x')), { code: '_STATE' })
      d.calls.delete('x')
      const sent = producer.send({ topic: 't', value: 'y' })
      assert.ok(sent instanceof Promise, 'send() returns a promise')
      await assert.rejects(sent, { code: '_STATE' })
      await assert.rejects(producer.commitTransaction(), { code: '_STATE' })
      await assert.rejects(producer.abortTransaction(), { code: '_STATE' })
      assert.equal(producer.transactionState, 'uninitialized')
      assert.equal(producer.pending, 0)
      assert.equal(rig.cluster.produceCalls.length, 0)
    })

    it('outside a transaction: produce() throws _STATE synchronously, send() rejects, nothing is accepted', async () => {
      const rig = await ready(version)
      const { producer, d, cluster } = rig
      assert.throws(() => producer.produce({ topic: 't', value: 'x' }, d.cb('x')), {
        code: '_STATE',
        message: /only inside a transaction/,
      })
      d.calls.delete('x')
      let syncThrow: unknown = null
      let sent: Promise<unknown> | null = null
      try {
        sent = producer.send({ topic: 't', value: 'y' })
      } catch (e) {
        syncThrow = e
      }
      assert.equal(syncThrow, null, 'send() does not throw')
      await assert.rejects(sent!, { code: '_STATE', message: /only inside a transaction/ })
      await assert.rejects(
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g' }),
        { code: '_STATE' },
      )
      assert.equal(producer.pending, 0)
      await rig.pump(100)
      assert.equal(cluster.produceCalls.length, 0)
      // And after a commit, the same again.
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'in' }, d.cb('in'))
      await drive(rig, producer.commitTransaction())
      assert.throws(() => producer.produce({ topic: 't', value: 'after' }), { code: '_STATE' })
      await assert.rejects(producer.send({ topic: 't', value: 'after' }), { code: '_STATE' })
      assert.equal(d.one('in').err, null)
      d.assertAllOnce()
    })

    it('beginTransaction() twice throws _STATE and keeps the open transaction', async () => {
      const rig = await ready(version)
      const { producer, d, cluster } = rig
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
      assert.throws(() => producer.beginTransaction(), { code: '_STATE', message: /open already/ })
      assert.equal(producer.transactionState, 'inTransaction')
      await drive(rig, producer.commitTransaction())
      assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['a'])
      d.assertAllOnce()
    })

    it('commitTransaction() and abortTransaction() without beginTransaction() reject with _STATE', async () => {
      const rig = await ready(version)
      const { producer, cluster } = rig
      const commit = await failure(rig, producer.commitTransaction())
      assert.equal(commit.code, '_STATE')
      assert.match(commit.message, /no transaction is open/)
      const abort = await failure(rig, producer.abortTransaction())
      assert.equal(abort.code, '_STATE')
      assert.equal(producer.transactionState, 'ready')
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0)
      // Still usable.
      producer.beginTransaction()
      await drive(rig, producer.commitTransaction())
    })
  })
}

describe('transactional producer: a producer without transactional.id', () => {
  it('refuses every transactional call with _STATE naming transactional.id: beginTransaction() throws, the others reject', async () => {
    const rig = fakeProducer({ 'linger.ms': 0 })
    const { producer } = rig
    assert.equal(producer.transactionState, null)
    assert.throws(() => producer.beginTransaction(), { code: '_STATE', message: /transactional\.id/ })
    // docs/errors.md (_STATE): the calls that return a promise reject; they never throw.
    for (const [name, p] of promiseCalls(producer)) {
      const err = await p.then(
        () => assert.fail(`${name} resolved`),
        (e: unknown) => e,
      )
      assert.ok(err instanceof KafkaError, `${name} failed`)
      assert.equal(err.code, '_STATE', name)
      assert.match(err.message, /transactional\.id/, name)
    }
    // It still produces as an idempotent producer would.
    const report = await drive(rig, producer.send({ topic: 't', value: 'plain' }))
    assert.equal(report.offset, 0)
    assert.equal(rig.cluster.produceCalls[0]!.partitions[0]!.batches[0]!.transactional, false)
    assert.equal(requestsOf(rig.cluster, FindCoordinatorApi.apiKey).length, 0)
  })
})

describe('transactional producer: after close()', () => {
  it('the transactional calls of a transactional producer reject (or, beginTransaction(), throw) _STATE', async () => {
    const rig = await ready(2)
    const { producer } = rig
    await drive(rig, producer.close(1_000))
    assert.throws(() => producer.beginTransaction(), { code: '_STATE' })
    for (const [name, p] of promiseCalls(producer)) {
      const err = await p.then(
        () => assert.fail(`${name} resolved`),
        (e: unknown) => e,
      )
      assert.ok(err instanceof KafkaError, `${name} failed`)
      assert.equal(err.code, '_STATE', name)
    }
  })
})

/**
 * Each transactional call that returns a promise, called now: a synchronous throw fails the test
 * (a caller writing `producer.commitTransaction().catch(...)` would not catch it).
 */
function promiseCalls(producer: Producer): [string, Promise<unknown>][] {
  const calls: [string, () => Promise<unknown>][] = [
    ['initTransactions', () => producer.initTransactions()],
    ['commitTransaction', () => producer.commitTransaction()],
    ['abortTransaction', () => producer.abortTransaction()],
    [
      'sendOffsetsToTransaction',
      () => producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g' }),
    ],
  ]
  return calls.map(([name, call]) => {
    let p: Promise<unknown>
    try {
      p = call()
    } catch (e) {
      assert.fail(`${name}() threw synchronously instead of rejecting: ${String(e)}`)
    }
    return [name, p]
  })
}

describe('transactional producer, classic protocol (transaction.version 1)', () => {
  it("holds a partition's batches until AddPartitionsToTxn added it", async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    const held = holdRequests(cluster, AddPartitionsToTxnApi.apiKey)
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
    await rig.pump(500)
    assert.equal(held.length, 1)
    assert.equal(cluster.produceCalls.length, 0, 'nothing sent before the partition is in the transaction')
    held[0]!()
    await rig.pump(1)
    assert.equal(cluster.produceCalls.length, 1)
    const order = cluster.requests
      .map((r) => r.apiName)
      .filter((n) => n === 'AddPartitionsToTxn' || n === 'Produce')
    assert.deepEqual(order, ['AddPartitionsToTxn', 'Produce'])
    await drive(rig, producer.commitTransaction())
    assert.equal(d.one('a').err, null)
  })

  it('partitions that arrive while an AddPartitionsToTxn is out go together in the next one', async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    const held = holdRequests(cluster, AddPartitionsToTxnApi.apiKey)
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
    await rig.pump(5)
    producer.produce({ topic: 't', partition: 1, value: 'b' }, d.cb('b'))
    producer.produce({ topic: 'u', partition: 0, value: 'c' }, d.cb('c'))
    producer.produce({ topic: 't', partition: 0, value: 'a2' }, d.cb('a2'))
    await rig.pump(5)
    assert.equal(held.length, 1, 'one AddPartitionsToTxn at a time')
    held[0]!()
    await rig.pump(5)
    assert.equal(held.length, 2)
    held[1]!()
    await drive(rig, producer.commitTransaction())
    const adds = bodies<AddPartitionsToTxnRequest>(cluster, AddPartitionsToTxnApi.apiKey)
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
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['a', 'a2'])
    assert.deepEqual(values(cluster.txn.committedRecords('t', 1)), ['b'])
    assert.deepEqual(values(cluster.txn.committedRecords('u', 0)), ['c'])
    d.assertAllOnce()
  })

  it('the partitions of a transaction begun right after a commit go in one AddPartitionsToTxn', async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'first' }, d.cb('first'))
    await drive(rig, producer.commitTransaction())
    const before = requestsOf(cluster, AddPartitionsToTxnApi.apiKey).length
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
    producer.produce({ topic: 't', partition: 1, value: 'b' }, d.cb('b'))
    producer.produce({ topic: 'u', partition: 0, value: 'c' }, d.cb('c'))
    await drive(rig, producer.commitTransaction())
    const adds = bodies<AddPartitionsToTxnRequest>(cluster, AddPartitionsToTxnApi.apiKey).slice(before)
    assert.equal(adds.length, 1)
    assert.deepEqual(
      adds[0]!.v3AndBelowTopics.map((t) => [t.name, [...t.partitions].sort()]),
      [
        ['t', [0, 1]],
        ['u', [0]],
      ],
    )
    d.assertAllOnce()
  })

  it('sends Produce v11 at most, with the transactional id and transactional batches; EndTxn v4 keeps the epoch', async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    for (const [i, commit] of [true, false, true].entries()) {
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: `r${i}` }, d.cb(`r${i}`))
      await rig.pump(5) // sent before the end, so that the abort has something to abort
      await drive(rig, commit ? producer.commitTransaction() : producer.abortTransaction())
      assert.equal(producer.producerEpoch, 0, 'the classic protocol keeps the epoch')
    }
    for (const call of cluster.produceCalls) {
      assert.ok(call.apiVersion <= 11, `Produce v${call.apiVersion}`)
      assert.equal(
        (requestsOf(cluster, 0).find((r) => r.correlationId === call.correlationId)!.body as ProduceRequest)
          .transactionalId,
        'tx',
      )
    }
    // The sequences go on across transactions of one epoch.
    assert.deepEqual(stamps(cluster.produceCalls), [
      [1000n, 0, 0, true, ['r0']],
      [1000n, 0, 1, true, ['r1']],
      [1000n, 0, 2, true, ['r2']],
    ])
    const ends = requestsOf(cluster, EndTxnApi.apiKey)
    assert.deepEqual(
      ends.map((r) => [
        r.apiVersion <= 4,
        (r.body as EndTxnRequest).committed,
        (r.body as EndTxnRequest).producerEpoch,
      ]),
      [
        [true, true, 0],
        [true, false, 0],
        [true, true, 0],
      ],
    )
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['r0', 'r2'])
    assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['r1'])
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['r0', 'r2'])
    d.assertAllOnce()
  })
})

describe('transactional producer, KIP-890 protocol (transaction.version 2)', () => {
  it('sends no AddPartitionsToTxn, Produce v12, EndTxn v5, and takes the epoch each commit and abort bumps', async () => {
    const rig = await ready(2)
    const { producer, cluster, d } = rig
    const epochs: number[] = []
    for (const [i, commit] of [true, false, true, false].entries()) {
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: `a${i}` }, d.cb(`a${i}`))
      producer.produce({ topic: 't', partition: 0, value: `b${i}` }, d.cb(`b${i}`))
      producer.produce({ topic: 'u', partition: 0, value: `c${i}` }, d.cb(`c${i}`))
      await rig.pump(5)
      await drive(rig, commit ? producer.commitTransaction() : producer.abortTransaction())
      epochs.push(producer.producerEpoch!)
      assert.equal(producer.producerId, 1000n)
      assert.equal(cluster.txn.describe('tx')!.producerEpoch, producer.producerEpoch)
    }
    assert.deepEqual(epochs, [1, 2, 3, 4])
    assert.equal(requestsOf(cluster, AddPartitionsToTxnApi.apiKey).length, 0)
    assert.ok(cluster.produceCalls.every((c) => c.apiVersion === 12))
    const ends = requestsOf(cluster, EndTxnApi.apiKey)
    assert.deepEqual(
      ends.map((r) => [
        r.apiVersion,
        (r.body as EndTxnRequest).committed,
        (r.body as EndTxnRequest).producerEpoch,
      ]),
      [
        [5, true, 0],
        [5, false, 1],
        [5, true, 2],
        [5, false, 3],
      ],
    )
    // Each transaction starts its sequences at 0 with its epoch.
    const t0 = stamps(cluster.produceCalls)
    for (let i = 0; i < 4; i++) {
      const mine = t0.filter((s) => s[4].some((v) => v.endsWith(String(i))))
      assert.equal(mine[0]![1], i, `epoch of transaction ${i}`)
      assert.equal(mine[0]![2], 0, `first sequence of transaction ${i}`)
      assert.ok(
        mine.every((s) => s[3]),
        'transactional batches',
      )
    }
    assert.deepEqual(
      stamps(cluster.produceCalls, 'u').map((s) => [s[1], s[2]]),
      [
        [0, 0],
        [1, 0],
        [2, 0],
        [3, 0],
      ],
    )
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['a0', 'b0', 'a2', 'b2'])
    assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['a1', 'b1', 'a3', 'b3'])
    assert.deepEqual(values(cluster.txn.readCommitted('u', 0)), ['c0', 'c2'])
    d.assertAllOnce()
    assert.ok([...d.calls.values()].every((c) => c[0]!.err === null))
  })
})

/** Records when each request arrives at the cluster (clock time), Produce included. */
function timeline(rig: FakeProducer): [string, number][] {
  const seen: [string, number][] = []
  const { cluster, clock } = rig
  const interceptor = cluster.interceptor
  cluster.interceptor = (req, respond, conn) => {
    seen.push([req.apiName, clock.now()])
    return interceptor?.(req, respond, conn) ?? 'default'
  }
  const handler = cluster.produceHandler
  cluster.produceHandler = (call) => {
    seen.push(['Produce', clock.now()])
    return handler(call)
  }
  return seen
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: just after a commit`, () => {
    it('CONCURRENT_TRANSACTIONS while the markers are written is retried after ~20 ms, well under retry.backoff.ms', async () => {
      const rig = await ready(version, { 'retry.backoff.ms': 1_000, 'retry.backoff.max.ms': 1_000 })
      const { producer, cluster, d } = rig
      // The first commit's markers are still being written when the next transaction starts.
      cluster.txn.markerDelayAnswers = 1
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'first' }, d.cb('first'))
      await drive(rig, producer.commitTransaction())
      cluster.txn.markerDelayAnswers = 0
      assert.equal(cluster.txn.transactions[0]!.outcome, 'committing')
      const seen = timeline(rig)
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'second' }, d.cb('second'))
      await drive(rig, producer.commitTransaction())
      // Classic: AddPartitionsToTxn gets CONCURRENT_TRANSACTIONS; v2: the Produce v12 does.
      const first = version === 1 ? 'AddPartitionsToTxn' : 'Produce'
      const tries = seen.filter(([name]) => name === first).map(([, at]) => at)
      assert.equal(tries.length, 2, `${first} sent twice: ${JSON.stringify(seen)}`)
      const wait = tries[1]! - tries[0]!
      assert.ok(wait >= 15 && wait < 100, `retried after ${wait} ms (retry.backoff.ms is 1000)`)
      assert.deepEqual(
        cluster.txn.transactions.map((t) => t.outcome),
        ['committed', 'committed'],
      )
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['first', 'second'])
      assert.equal(d.one('first').err, null)
      assert.equal(d.one('second').err, null)
      d.assertAllOnce()
    })
  })
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: abortable errors`, () => {
    for (const code of ['MESSAGE_TOO_LARGE', 'INVALID_RECORD'] as const) {
      it(`a record failing with ${code} makes the commit reject with txnRequiresAbort; abort, then the next transaction commits`, async () => {
        const rig = await ready(version)
        const { producer, cluster, d } = rig
        cluster.produceHandler = (call) =>
          call.partitions.some((p) => p.records.some((r) => r.value!.toString() === 'bad'))
            ? { partitions: (topic) => (topic === 'u' ? { errorCode: ErrorCode[code] } : undefined) }
            : 'ok'
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'good' }, d.cb('good'))
        producer.produce({ topic: 'u', partition: 0, value: 'bad' }, d.cb('bad'))
        const err = await failure(rig, producer.commitTransaction())
        assert.equal(err.code, code)
        assert.equal(err.txnRequiresAbort, true)
        assert.equal(err.fatal, false)
        assert.equal(producer.transactionState, 'abortableError')
        assert.equal(d.one('bad').err!.code, code)
        assert.equal(d.one('good').err, null, 'written into the transaction (then aborted)')
        assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0, 'no commit was asked for')
        // Nothing but an abort: produce() throws, send() rejects, commit rejects, all with txnRequiresAbort.
        assert.throws(() => producer.produce({ topic: 't', value: 'x' }), { txnRequiresAbort: true })
        await assert.rejects(producer.send({ topic: 't', value: 'x' }), { txnRequiresAbort: true })
        await assert.rejects(producer.commitTransaction(), { txnRequiresAbort: true })
        assert.throws(() => producer.beginTransaction(), { code: '_STATE' })
        await drive(rig, producer.abortTransaction())
        assert.equal(producer.transactionState, 'ready')
        cluster.produceHandler = () => 'ok'
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'again' }, d.cb('again'))
        await drive(rig, producer.commitTransaction())
        assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['good'])
        assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['again'])
        assert.deepEqual(values(cluster.txn.readCommitted('u', 0)), [])
        assert.equal(d.one('again').err, null)
        await rig.pump(1_000)
        d.assertAllOnce()
        assert.equal(d.total, 3)
      })
    }

    it('records not sent yet fail with _PURGE_QUEUE on abort; the ones in flight get their answers', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      cluster.produceHandler = () => 'hold'
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'inflight' }, d.cb('inflight'))
      await rig.pump(5)
      assert.equal(cluster.produceCalls.length, 1)
      // Behind the first batch of the partition (one in flight until it is acknowledged).
      producer.produce({ topic: 't', partition: 0, value: 'queued1' }, d.cb('queued1'))
      const queued2 = producer.send({ topic: 't', partition: 0, value: 'queued2' }).then(
        () => null,
        (e: KafkaError) => e,
      )
      // Waiting for the metadata of a topic not known yet.
      producer.produce({ topic: 'ghost', value: 'waiting' }, d.cb('waiting'))
      await rig.pump(5)
      const abort = producer.abortTransaction()
      await rig.pump(1)
      assert.equal(producer.transactionState, 'aborting')
      for (const id of ['queued1', 'waiting']) {
        const { err } = d.one(id)
        assert.equal(err!.code, '_PURGE_QUEUE', id)
        assert.equal(err!.fatal, false)
      }
      assert.equal((await queued2)?.code, '_PURGE_QUEUE')
      assert.equal(d.calls.get('inflight')!.length, 0, 'in flight: waits for its answer')
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0, 'EndTxn waits for the in-flight batch')
      cluster.produceCalls[0]!.release()
      await drive(rig, abort)
      assert.equal(d.one('inflight').err, null)
      assert.equal(producer.transactionState, 'ready')
      assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['inflight'])
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
      assert.equal(cluster.produceCalls.length, 1, 'the purged records were never sent')
      assert.equal(producer.pending, 0)
      // The next transaction goes on as usual.
      cluster.produceHandler = () => 'ok'
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'next' }, d.cb('next'))
      await drive(rig, producer.commitTransaction())
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['next'])
      await rig.pump(1_000)
      d.assertAllOnce()
    })

    it('a record sent before and waiting for its retry fails with _PURGE_QUEUE on abort, saying it may be in the log', async () => {
      const rig = await ready(version, {
        'request.timeout.ms': 1_000,
        'retry.backoff.ms': 10_000,
        'retry.backoff.max.ms': 10_000,
      })
      const { producer, cluster, d } = rig
      cluster.produceHandler = () => 'hold'
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'unanswered' }, d.cb('unanswered'))
      producer.produce({ topic: 'ghost', value: 'waiting' }, d.cb('waiting'))
      await rig.pump(5)
      assert.equal(cluster.produceCalls.length, 1)
      // The request times out, and the broker writes the batch all the same: its answer is lost.
      await rig.pump(1_100)
      cluster.produceCalls[0]!.release()
      await rig.pump(5)
      assert.equal(d.calls.get('unanswered')!.length, 0, 'waiting for its retry')
      // (The timeout closed the coordinator's connection too: EndTxn waits a retry backoff.)
      await drive(rig, producer.abortTransaction(), 10)
      const unanswered = d.one('unanswered').err!
      assert.equal(unanswered.code, '_PURGE_QUEUE')
      assert.doesNotMatch(unanswered.message, /was not sent/)
      assert.match(unanswered.message, /was sent.*may be in the log/)
      // A record never sent is not in the log, and its report says so.
      assert.match(d.one('waiting').err!.message, /was not sent/)
      assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['unanswered'])
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
      assert.equal(cluster.produceCalls.length, 1, 'not sent again')
      await rig.pump(1_000)
      d.assertAllOnce()
    })

    it('once a record failed, the records not sent yet fail at once with _PURGE_QUEUE and txnRequiresAbort', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      const held: ProduceCall[] = []
      cluster.produceHandler = (call) => {
        if (call.partitions.some((p) => p.topic === 'u')) return { errorCode: ErrorCode.INVALID_RECORD }
        held.push(call)
        return 'hold'
      }
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'inflight' }, d.cb('inflight'))
      await rig.pump(5)
      producer.produce({ topic: 't', partition: 0, value: 'queued' }, d.cb('queued'))
      producer.produce({ topic: 'u', partition: 0, value: 'bad' }, d.cb('bad'))
      await rig.pump(5)
      assert.equal(producer.transactionState, 'abortableError')
      assert.equal(d.one('bad').err!.code, 'INVALID_RECORD')
      const queued = d.one('queued').err!
      assert.equal(queued.code, '_PURGE_QUEUE')
      assert.equal(queued.txnRequiresAbort, true)
      assert.equal(d.calls.get('inflight')!.length, 0)
      const abort = producer.abortTransaction()
      await rig.pump(5)
      held[0]!.release()
      await drive(rig, abort)
      assert.equal(d.one('inflight').err, null)
      d.assertAllOnce()
    })

    it('a record that times out (delivery.timeout.ms) makes the transaction abortable; the abort repairs the sequence', async () => {
      const rig = await ready(version, { 'delivery.timeout.ms': 2_000, 'request.timeout.ms': 1_000 })
      const { producer, cluster, d } = rig
      let answer = false
      cluster.produceHandler = () => (answer ? 'ok' : 'hold')
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'lost' }, d.cb('lost'))
      const err = await failure(rig, producer.commitTransaction(60_000), 10)
      assert.equal(err.code, '_MSG_TIMED_OUT')
      assert.equal(err.txnRequiresAbort, true)
      assert.equal(d.one('lost').err!.code, '_MSG_TIMED_OUT')
      assert.equal(producer.transactionState, 'abortableError')
      answer = true
      await drive(rig, producer.abortTransaction(), 10)
      // The batch may have been written: a new epoch (KIP-360 bump, or v2's EndTxn) starts clean.
      assert.equal(producer.producerEpoch, 1)
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'after' }, d.cb('after'))
      await drive(rig, producer.commitTransaction(), 10)
      assert.deepEqual(stamps(cluster.produceCalls).at(-1), [1000n, 1, 0, true, ['after']])
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['after'])
      d.assertAllOnce()
    })

    it('TxnOffsetCommit ILLEGAL_GENERATION (a consumer that lost its partitions) is abortable', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      cluster.txn.setGroup('g', { generationId: 3, members: ['m1'] })
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out' }, d.cb('out'))
      const err = await failure(
        rig,
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 10 }], {
          groupId: 'g',
          generationId: 2,
          memberId: 'm1',
        }),
      )
      assert.equal(err.code, 'ILLEGAL_GENERATION')
      assert.equal(err.txnRequiresAbort, true)
      assert.equal(err.fatal, false)
      assert.equal(producer.transactionState, 'abortableError')
      await assert.rejects(producer.commitTransaction(), { txnRequiresAbort: true })
      await drive(rig, producer.abortTransaction())
      assert.equal(producer.transactionState, 'ready')
      assert.deepEqual(cluster.txn.committedOffsets('g'), new Map())
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
      // With the current generation, the next transaction commits its offsets.
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out2' }, d.cb('out2'))
      await drive(
        rig,
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 10 }], {
          groupId: 'g',
          generationId: 3,
          memberId: 'm1',
        }),
      )
      await drive(rig, producer.commitTransaction())
      assert.equal(cluster.txn.committedOffsets('g').get('t/0')!.offset, 10n)
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['out2'])
      d.assertAllOnce()
    })

    for (const code of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID'] as const) {
      it(`a broken sequence (${code} on Produce) is abortable, and the abort gets a new epoch (KIP-360)`, async () => {
        const rig = await ready(version)
        const { producer, cluster, d } = rig
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
        await rig.pump(5)
        let refused = 0
        cluster.produceHandler = () => (refused++ === 0 ? { errorCode: ErrorCode[code] } : 'ok')
        producer.produce({ topic: 't', partition: 0, value: 'b' }, d.cb('b'))
        await rig.pump(5)
        const err = await failure(rig, producer.commitTransaction())
        assert.equal(err.txnRequiresAbort, true)
        assert.equal(err.fatal, false)
        assert.equal(producer.transactionState, 'abortableError')
        // 'b' was not written, and is not sent again into a transaction that cannot commit.
        assert.equal(d.one('b').err!.txnRequiresAbort, true)
        assert.equal(cluster.produceCalls.length, 2)
        const initsBefore = requestsOf(cluster, InitProducerIdApi.apiKey).length
        await drive(rig, producer.abortTransaction())
        assert.equal(producer.transactionState, 'ready')
        assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 1])
        const inits = bodies<InitProducerIdRequest>(cluster, InitProducerIdApi.apiKey).slice(initsBefore)
        if (version === 1) {
          // After EndTxn(abort): InitProducerId with the current id and epoch bumps the epoch.
          assert.deepEqual(
            inits.map((i) => [i.transactionalId, i.producerId, i.producerEpoch]),
            [['tx', 1000n, 0]],
          )
          const names = cluster.requests.map((r) => r.apiName)
          assert.ok(names.lastIndexOf('EndTxn') < names.lastIndexOf('InitProducerId'))
        } else {
          // EndTxn v5 bumped it already.
          assert.deepEqual(inits, [])
        }
        // The next transaction uses the new epoch from sequence 0.
        cluster.produceHandler = () => 'ok'
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'c' }, d.cb('c'))
        await drive(rig, producer.commitTransaction())
        assert.deepEqual(stamps(cluster.produceCalls).at(-1), [1000n, 1, 0, true, ['c']])
        assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['c'])
        assert.equal(d.one('a').err, null)
        assert.equal(d.one('c').err, null)
        await rig.pump(1_000)
        d.assertAllOnce()
      })
    }
  })
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: sendOffsetsToTransaction()`, () => {
    it("adds the offsets the protocol's way, to the group coordinator; committed with the transaction, dropped by an abort", async () => {
      const rig = await ready(
        version,
        {},
        { brokers: TWO_BROKERS, coordinatorNodeId: 1, groupCoordinatorNodeId: 2 },
      )
      const { producer, cluster, d } = rig
      cluster.txn.setGroup('g', { generationId: 7, members: ['member-1'] })
      const group = { groupId: 'g', generationId: 7, memberId: 'member-1', groupInstanceId: null }
      const before = cluster.requests.length
      // Aborted first.
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out1' }, d.cb('out1'))
      await drive(rig, producer.sendOffsetsToTransaction([{ topic: 't', partition: 1, offset: 5 }], group))
      await drive(rig, producer.abortTransaction())
      assert.deepEqual(cluster.txn.committedOffsets('g'), new Map())
      // Then committed.
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out2' }, d.cb('out2'))
      await drive(
        rig,
        producer.sendOffsetsToTransaction(
          [
            { topic: 't', partition: 1, offset: 6, leaderEpoch: 3, metadata: 'm' },
            { topic: 'u', partition: 0, offset: 9n },
          ],
          group,
        ),
      )
      assert.deepEqual(cluster.txn.committedOffsets('g'), new Map(), 'not before the commit')
      await drive(rig, producer.commitTransaction())
      assert.deepEqual(
        cluster.txn.committedOffsets('g'),
        new Map([
          ['t/1', { offset: 6n, leaderEpoch: 3, metadata: 'm' }],
          ['u/0', { offset: 9n, leaderEpoch: -1, metadata: '' }],
        ]),
      )
      const offsetRequests = cluster.requests
        .slice(before)
        .filter((r) => r.apiName === 'AddOffsetsToTxn' || r.apiName === 'TxnOffsetCommit')
      if (version === 1) {
        assert.deepEqual(
          offsetRequests.map((r) => [r.apiName, r.nodeId]),
          [
            ['AddOffsetsToTxn', 1],
            ['TxnOffsetCommit', 2],
            ['AddOffsetsToTxn', 1],
            ['TxnOffsetCommit', 2],
          ],
        )
        const add = offsetRequests[0]!.body as AddOffsetsToTxnRequest
        assert.deepEqual(
          [add.transactionalId, add.groupId, add.producerId, add.producerEpoch],
          ['tx', 'g', 1000n, 0],
        )
        assert.ok(
          offsetRequests.filter((r) => r.apiName === 'TxnOffsetCommit').every((r) => r.apiVersion <= 4),
        )
      } else {
        assert.deepEqual(
          offsetRequests.map((r) => [r.apiName, r.apiVersion, r.nodeId]),
          [
            ['TxnOffsetCommit', 5, 2],
            ['TxnOffsetCommit', 5, 2],
          ],
        )
      }
      const commit = offsetRequests.at(-1)!.body as TxnOffsetCommitRequest
      assert.deepEqual(
        [
          commit.transactionalId,
          commit.groupId,
          commit.generationIdOrMemberEpoch,
          commit.memberId,
          commit.groupInstanceId,
        ],
        ['tx', 'g', 7, 'member-1', null],
      )
      assert.equal(commit.producerEpoch, producer.producerEpoch! - (version === 2 ? 1 : 0))
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['out2'])
      d.assertAllOnce()
    })

    it('a commit called while offsets are still being added waits for them', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      const held = holdRequests(cluster, TxnOffsetCommitApi.apiKey)
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out' }, d.cb('out'))
      const offsets = producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 8 }], {
        groupId: 'g',
      })
      const commit = producer.commitTransaction()
      await rig.pump(50)
      assert.equal(held.length, 1)
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0, 'no EndTxn before the offsets are in')
      held[0]!()
      await drive(rig, offsets)
      await drive(rig, commit)
      assert.equal(cluster.txn.committedOffsets('g').get('t/0')!.offset, 8n)
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['out'])
      d.assertAllOnce()
    })

    it('a commit waiting for offsets that keep being retried rejects _TIMED_OUT at its timeout; called again, it commits them', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      cluster.txn.inject(TxnOffsetCommitApi.apiKey, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 20)
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out' }, d.cb('out'))
      const offsets = producer
        .sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 8 }], { groupId: 'g' }, 60_000)
        .then(
          () => null,
          (e: unknown) => e,
        )
      const err = await failure(rig, producer.commitTransaction(1_000), 10)
      assert.equal(err.code, '_TIMED_OUT')
      assert.equal(err.retriable, true)
      assert.equal(producer.transactionState, 'committing')
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0)
      await drive(rig, producer.commitTransaction(60_000), 10)
      assert.equal(await offsets, null)
      assert.equal(cluster.txn.pendingInjections(), 0)
      assert.equal(cluster.txn.committedOffsets('g').get('t/0')!.offset, 8n)
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['out'])
      d.assertAllOnce()
    })

    it('offsets refused while a commit waits for them: the commit rejects with txnRequiresAbort, nothing is committed', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      cluster.txn.setGroup('g', { generationId: 3, members: ['m1'] })
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'out' }, d.cb('out'))
      const offsets = producer
        .sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 8 }], {
          groupId: 'g',
          generationId: 2,
          memberId: 'm1',
        })
        .then(
          () => null,
          (e: unknown) => e,
        )
      const err = await failure(rig, producer.commitTransaction())
      assert.equal(err.code, 'ILLEGAL_GENERATION')
      assert.equal(err.txnRequiresAbort, true)
      assert.equal(((await offsets) as KafkaError).code, 'ILLEGAL_GENERATION')
      assert.equal(producer.transactionState, 'abortableError')
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0)
      await drive(rig, producer.abortTransaction())
      assert.deepEqual(cluster.txn.committedOffsets('g'), new Map())
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
      d.assertAllOnce()
    })

    it('offsets alone make a transaction: committed without any record', async () => {
      const rig = await ready(version)
      const { producer, cluster } = rig
      producer.beginTransaction()
      await drive(
        rig,
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 3 }], { groupId: 'solo' }),
      )
      await drive(rig, producer.commitTransaction())
      assert.equal(cluster.txn.committedOffsets('solo').get('t/0')!.offset, 3n)
      const [commit] = bodies<TxnOffsetCommitRequest>(cluster, TxnOffsetCommitApi.apiKey)
      // Without a generation: -1 and no member (no KIP-447 fencing).
      assert.deepEqual(
        [commit!.generationIdOrMemberEpoch, commit!.memberId, commit!.groupInstanceId],
        [-1, '', null],
      )
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 1)
    })

    it('invalid arguments reject with _INVALID_ARG, send nothing and leave the transaction open', async () => {
      const rig = await ready(version)
      const { producer, cluster } = rig
      producer.beginTransaction()
      const before = cluster.requests.length
      const bad: [unknown, unknown][] = [
        [[{ topic: 't', partition: 0, offset: 1 }], { groupId: '' }],
        [[{ topic: 't', partition: 0, offset: 1 }], null],
        [[{ topic: 't', partition: 0, offset: 1 }], {}],
        ['not an array', { groupId: 'g' }],
        [[{ topic: '', partition: 0, offset: 1 }], { groupId: 'g' }],
        [[{ topic: 't', partition: -1, offset: 1 }], { groupId: 'g' }],
        [[{ topic: 't', partition: 1.5, offset: 1 }], { groupId: 'g' }],
        [[{ topic: 't', partition: 0, offset: -1 }], { groupId: 'g' }],
        [[{ topic: 't', partition: 0, offset: 1.5 }], { groupId: 'g' }],
        [[{ topic: 't', partition: 0, offset: -2n }], { groupId: 'g' }],
        [[{ topic: 't', partition: 0 }], { groupId: 'g' }],
      ]
      for (const [offsets, group] of bad) {
        const err = await failure(
          rig,
          producer.sendOffsetsToTransaction(
            offsets as Parameters<Producer['sendOffsetsToTransaction']>[0],
            group as Parameters<Producer['sendOffsetsToTransaction']>[1],
          ),
        )
        assert.equal(
          err.code,
          '_INVALID_ARG',
          `${JSON.stringify(offsets, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} ${JSON.stringify(group)}`,
        )
      }
      assert.equal(producer.transactionState, 'inTransaction')
      assert.deepEqual(
        cluster.requests
          .slice(before)
          .filter((r) => r.apiName !== 'Metadata')
          .map((r) => r.apiName),
        [],
      )
      // An empty list is no offsets: nothing to send.
      await drive(rig, producer.sendOffsetsToTransaction([], { groupId: 'g' }))
      await drive(rig, producer.commitTransaction())
      assert.equal(requestsOf(cluster, TxnOffsetCommitApi.apiKey).length, 0)
    })
  })
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: commit and abort timeouts`, () => {
    for (const commit of [true, false]) {
      const call = commit ? 'commitTransaction' : 'abortTransaction'
      it(`${call}(timeout) while EndTxn is unanswered rejects with a retriable _TIMED_OUT; the next call waits for the same EndTxn`, async () => {
        const rig = await ready(version)
        const { producer, cluster, d } = rig
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'r' }, d.cb('r'))
        await rig.pump(5)
        assert.equal(d.one('r').err, null)
        const held = holdRequests(cluster, EndTxnApi.apiKey)
        const end = (timeoutMs?: number): Promise<void> =>
          commit ? producer.commitTransaction(timeoutMs) : producer.abortTransaction(timeoutMs)
        const t0 = rig.clock.now()
        const err = await failure(rig, end(1_000), 10)
        assert.equal(err.code, '_TIMED_OUT')
        assert.equal(err.retriable, true)
        assert.equal(err.fatal, false)
        assert.equal(err.txnRequiresAbort, false)
        assert.ok(rig.clock.now() - t0 >= 1_000 && rig.clock.now() - t0 < 1_100, `${rig.clock.now() - t0} ms`)
        assert.equal(held.length, 1)
        assert.equal(producer.transactionState, commit ? 'committing' : 'aborting')
        // Nothing else may happen meanwhile.
        assert.throws(() => producer.beginTransaction(), { code: '_STATE' })
        assert.throws(() => producer.produce({ topic: 't', value: 'x' }), { code: '_STATE' })
        await assert.rejects(commit ? producer.abortTransaction() : producer.commitTransaction(), {
          code: '_STATE',
        })
        // Called again: waits for the EndTxn under way, sends no other.
        const again = end(10_000)
        await rig.pump(500)
        assert.equal(held.length, 1)
        held[0]!()
        await drive(rig, again)
        assert.equal(producer.transactionState, 'ready')
        assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 1)
        assert.deepEqual(
          cluster.txn.transactions.map((t) => [t.outcome, t.endedBy]),
          [[commit ? 'committed' : 'aborted', 'EndTxn']],
        )
        assert.equal(producer.producerEpoch, version === 2 ? 1 : 0, 'one epoch bump (v2) at most')
        assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), commit ? ['r'] : [])
        // And the producer goes on.
        cluster.interceptor = null
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'next' }, d.cb('next'))
        await drive(rig, producer.commitTransaction())
        assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), commit ? ['r', 'next'] : ['next'])
        d.assertAllOnce()
      })
    }

    it('commitTransaction(timeout) while records are still being delivered rejects _TIMED_OUT; called again, it commits once', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      cluster.produceHandler = () => 'hold'
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'slow' }, d.cb('slow'))
      const err = await failure(rig, producer.commitTransaction(1_000), 10)
      assert.equal(err.code, '_TIMED_OUT')
      assert.equal(err.retriable, true)
      assert.match(err.message, /still being delivered/)
      assert.match(err.message, /call commitTransaction\(\) again/)
      assert.equal(producer.transactionState, 'committing')
      // A commit that began cannot turn into an abort (docs/transactions.md, Error handling): the
      // error must not advise it, and abortTransaction() says what to do instead.
      assert.doesNotMatch(err.message, /abortTransaction/)
      const abort = await failure(rig, producer.abortTransaction())
      assert.equal(abort.code, '_STATE')
      assert.match(abort.message, /being committed.*commitTransaction\(\)/)
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0)
      const again = producer.commitTransaction(10_000)
      await rig.pump(10)
      cluster.produceCalls[0]!.release()
      await drive(rig, again)
      assert.equal(d.one('slow').err, null)
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 1)
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['slow'])
      d.assertAllOnce()
    })
  })
}

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: the coordinator`, () => {
    it('an EndTxn answer lost with the connection: the retry is recognised, and the commit happens once', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'once' }, d.cb('once'))
      await rig.pump(5)
      let dropped = 0
      cluster.interceptor = (req, respond) => {
        if (req.apiKey !== EndTxnApi.apiKey || dropped++ > 0) return 'default'
        respond() // processed: the coordinator decided
        return 'close' // but the answer never arrives
      }
      await drive(rig, producer.commitTransaction(), 10)
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 2)
      assert.deepEqual(
        cluster.txn.transactions.map((t) => t.outcome),
        ['committed'],
      )
      assert.equal(producer.producerEpoch, version === 2 ? 1 : 0)
      assert.equal(cluster.txn.describe('tx')!.producerEpoch, producer.producerEpoch)
      cluster.interceptor = null
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'twice' }, d.cb('twice'))
      await drive(rig, producer.commitTransaction())
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['once', 'twice'])
      d.assertAllOnce()
    })

    it('a coordinator that moves between transactions is looked up again (NOT_COORDINATOR)', async () => {
      const rig = await ready(
        version,
        {},
        { brokers: TWO_BROKERS, coordinatorNodeId: 1, groupCoordinatorNodeId: 1 },
      )
      const { producer, cluster, d } = rig
      cluster.txn.coordinatorNodeId = 2
      cluster.txn.groupCoordinatorNodeId = 2
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
      await drive(
        rig,
        producer.sendOffsetsToTransaction([{ topic: 't', partition: 0, offset: 4 }], { groupId: 'g' }),
        10,
      )
      await drive(rig, producer.commitTransaction(), 10)
      assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['a'])
      assert.equal(cluster.txn.committedOffsets('g').get('t/0')!.offset, 4n)
      const ends = requestsOf(cluster, EndTxnApi.apiKey)
      assert.equal(ends.at(-1)!.nodeId, 2)
      assert.equal(requestsOf(cluster, TxnOffsetCommitApi.apiKey).at(-1)!.nodeId, 2)
      d.assertAllOnce()
    })

    it('a transaction the coordinator timed out: the producer is fenced by the abort, and fails fatally', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'late' }, d.cb('late'))
      await rig.pump(5)
      assert.ok(cluster.txn.expireTransaction('tx'))
      const err = await failure(rig, producer.commitTransaction())
      assert.equal(err.fatal, true)
      assert.ok(err.code === 'PRODUCER_FENCED' || err.code === 'INVALID_PRODUCER_EPOCH', err.code)
      assert.equal(producer.transactionState, 'fatalError')
      assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['late'])
      d.assertAllOnce()
    })

    it('a fatal Produce answer (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) ends the producer; each record fails once', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      cluster.produceHandler = () => ({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED })
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
      producer.produce({ topic: 't', partition: 1, value: 'b' }, d.cb('b'))
      const err = await failure(rig, producer.commitTransaction())
      assert.equal(err.code, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED')
      assert.equal(err.fatal, true)
      assert.equal(producer.transactionState, 'fatalError')
      assert.strictEqual(producer.fatal, err)
      for (const id of ['a', 'b']) assert.equal(d.one(id).err!.code, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED')
      await assert.rejects(producer.abortTransaction(), (e) => e === err)
      assert.throws(
        () => producer.beginTransaction(),
        (e) => e === err,
      )
      assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 0)
      await rig.pump(1_000)
      d.assertAllOnce()
    })

    it('close() with an open transaction aborts it first', async () => {
      const rig = await ready(version)
      const { producer, cluster, d } = rig
      producer.beginTransaction()
      producer.produce({ topic: 't', partition: 0, value: 'left-open' }, d.cb('left-open'))
      await rig.pump(5)
      await drive(rig, producer.close(5_000))
      assert.deepEqual(
        cluster.txn.transactions.map((t) => [t.outcome, t.endedBy]),
        [['aborted', 'EndTxn']],
      )
      assert.equal(d.one('left-open').err, null)
      assert.throws(() => producer.beginTransaction(), { code: '_STATE' })
    })
  })
}

describe('transactional producer, KIP-890 protocol: an exhausted epoch', () => {
  it('EndTxn v5 hands out a new producer id, and the next transaction uses it from epoch 0', async () => {
    const rig = txnRig(2)
    const { producer, cluster, d } = rig
    cluster.txn.seed('tx', { producerId: 555n, producerEpoch: 32765 })
    await drive(rig, producer.connect({ topics: ['t'] }))
    await drive(rig, producer.initTransactions())
    assert.deepEqual([producer.producerId, producer.producerEpoch], [555n, 32766])
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'old-id' }, d.cb('old-id'))
    await drive(rig, producer.commitTransaction())
    assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 0])
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'new-id' }, d.cb('new-id'))
    await drive(rig, producer.commitTransaction())
    assert.deepEqual(
      stamps(cluster.produceCalls).map((s) => [s[0], s[1], s[2]]),
      [
        [555n, 32766, 0],
        [1000n, 0, 0],
      ],
    )
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['old-id', 'new-id'])
    d.assertAllOnce()
  })
})

describe('transactional producer, classic protocol: an abort while AddPartitionsToTxn is being retried', () => {
  it('the retry does not carry over into the next transaction (where its old epoch would be fenced)', async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
    await rig.pump(2)
    assert.equal(d.one('a').err, null)
    // u/0's AddPartitionsToTxn is refused for now (retried after retry.backoff.ms), and t/0's next
    // batch breaks its sequence: the abort bumps the epoch (KIP-360).
    cluster.txn.inject(AddPartitionsToTxnApi.apiKey, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    cluster.produceHandler = () => ({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER })
    producer.produce({ topic: 't', partition: 0, value: 'b' }, d.cb('b'))
    producer.produce({ topic: 'u', partition: 0, value: 'c' }, d.cb('c'))
    await rig.pump(2)
    assert.equal(producer.transactionState, 'abortableError')
    cluster.produceHandler = () => 'ok'
    await drive(rig, producer.abortTransaction())
    assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 1])
    // The next transaction begins before the old retry was due.
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'd' }, d.cb('d'))
    await drive(rig, producer.commitTransaction())
    assert.equal(producer.fatal, null)
    assert.equal(producer.transactionState, 'ready')
    const adds = bodies<AddPartitionsToTxnRequest>(cluster, AddPartitionsToTxnApi.apiKey)
    assert.deepEqual(
      adds.map((a) => [
        a.v3AndBelowProducerEpoch,
        a.v3AndBelowTopics.map((t) => `${t.name}/${t.partitions.join()}`),
      ]),
      [
        [0, ['t/0']],
        [0, ['u/0']],
        [1, ['t/0']],
      ],
    )
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['d'])
    assert.equal(d.one('d').err, null)
    await rig.pump(1_000)
    d.assertAllOnce()
  })
})

describe('transactional producer, classic protocol: the KIP-360 bump while the abort markers are written', () => {
  it('InitProducerId answered CONCURRENT_TRANSACTIONS is retried soon, and the producer goes on with the new epoch', async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'a' }, d.cb('a'))
    await rig.pump(2)
    cluster.produceHandler = () => ({ errorCode: ErrorCode.UNKNOWN_PRODUCER_ID })
    producer.produce({ topic: 't', partition: 0, value: 'b' }, d.cb('b'))
    await rig.pump(2)
    assert.equal(producer.transactionState, 'abortableError')
    cluster.produceHandler = () => 'ok'
    cluster.txn.markerDelayAnswers = 1
    const seen = timeline(rig)
    await drive(rig, producer.abortTransaction())
    cluster.txn.markerDelayAnswers = 0
    const inits = seen.filter(([name]) => name === 'InitProducerId').map(([, at]) => at)
    assert.equal(inits.length, 2)
    assert.ok(inits[1]! - inits[0]! < 50, `retried after ${inits[1]! - inits[0]!} ms`)
    assert.deepEqual([producer.producerEpoch, producer.transactionState], [1, 'ready'])
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'c' }, d.cb('c'))
    await drive(rig, producer.commitTransaction())
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['c'])
    await rig.pump(1_000)
    d.assertAllOnce()
  })
})

describe('transactional producer, classic protocol: AddPartitionsToTxn refused', () => {
  it('TOPIC_AUTHORIZATION_FAILED: the held records fail with _PURGE_QUEUE, the commit with txnRequiresAbort; the abort works', async () => {
    const rig = await ready(1)
    const { producer, cluster, d } = rig
    cluster.txn.inject(AddPartitionsToTxnApi.apiKey, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'refused' }, d.cb('refused'))
    const err = await failure(rig, producer.commitTransaction())
    assert.equal(err.code, 'TOPIC_AUTHORIZATION_FAILED')
    assert.equal(err.txnRequiresAbort, true)
    assert.equal(d.one('refused').err!.code, '_PURGE_QUEUE')
    assert.equal(cluster.produceCalls.length, 0)
    // The coordinator has nothing open: its INVALID_TXN_STATE to the abort is not an error.
    await drive(rig, producer.abortTransaction())
    assert.equal(producer.transactionState, 'ready')
    assert.equal(producer.fatal, null)
    producer.beginTransaction()
    producer.produce({ topic: 't', partition: 0, value: 'ok' }, d.cb('ok'))
    await drive(rig, producer.commitTransaction())
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['ok'])
    d.assertAllOnce()
  })
})

for (const version of VERSIONS) {
  describe(`transactional producer, transaction.version ${version}: the same call twice at once`, () => {
    for (const commit of [true, false]) {
      const call = commit ? 'commitTransaction' : 'abortTransaction'
      it(`${call}() called again while the first waits for the records: both wait for one EndTxn`, async () => {
        const rig = await ready(version)
        const { producer, cluster, d } = rig
        cluster.produceHandler = () => 'hold'
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'slow' }, d.cb('slow'))
        await rig.pump(5)
        const end = (): Promise<void> => (commit ? producer.commitTransaction() : producer.abortTransaction())
        const outcome = (p: Promise<void>): Promise<unknown> =>
          p.then(
            () => 'ok',
            (e: unknown) => e,
          )
        const first = outcome(end())
        const second = outcome(end())
        await rig.pump(5)
        cluster.produceCalls[0]!.release()
        assert.equal(await drive(rig, first), 'ok')
        assert.equal(await drive(rig, second), 'ok')
        assert.equal(requestsOf(cluster, EndTxnApi.apiKey).length, 1)
        assert.equal(producer.transactionState, 'ready')
        assert.deepEqual(
          cluster.txn.transactions.map((t) => t.outcome),
          [commit ? 'committed' : 'aborted'],
        )
        assert.equal(producer.producerEpoch, version === 2 ? 1 : 0)
        assert.equal(d.one('slow').err, null)
        // The producer goes on.
        cluster.produceHandler = () => 'ok'
        producer.beginTransaction()
        producer.produce({ topic: 't', partition: 0, value: 'next' }, d.cb('next'))
        await drive(rig, producer.commitTransaction())
        assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), commit ? ['slow', 'next'] : ['next'])
        d.assertAllOnce()
      })
    }
  })
}
