// The fake cluster's transaction and group coordinator (test/helpers/fake-txn-coordinator.ts), driven
// with raw protocol requests over a Connection: the tests of the transactional producer rely on it
// answering as a Kafka 4.x broker does, so its rules are checked here on their own.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { getCodec } from '../../../src/compression/index.js'
import { ErrorCode } from '../../../src/errors/index.js'
import { Connection } from '../../../src/network/connection.js'
import { HELLO } from '../../../src/network/handshake.js'
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  ApiVersionsApi,
  EndTxnApi,
  FindCoordinatorApi,
  InitProducerIdApi,
  ProduceApi,
  RecordBatchBuilder,
  TxnOffsetCommitApi,
  type AddPartitionsToTxnResponse,
  type EndTxnResponse,
  type InitProducerIdResponse,
  type ProduceResponse,
  type TxnOffsetCommitResponse,
} from '../../../src/protocol/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import {
  DEFAULT_API_VERSIONS,
  FakeCluster,
  settle,
  type FakeClusterOptions,
} from '../../helpers/fake-broker.js'

const T0 = 1_700_000_000_000
const TWO_BROKERS = [
  { nodeId: 1, host: 'broker1', port: 9092 },
  { nodeId: 2, host: 'broker2', port: 9092 },
]

interface Identity {
  producerId: bigint
  producerEpoch: number
}

const open: Connection[] = []
afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

function fake(opts: FakeClusterOptions = {}): FakeCluster {
  return new FakeCluster({ topics: { t: { partitions: 2 }, u: { partitions: 1 } }, ...opts })
}

/** A ready connection to broker `nodeId` of `cluster`. */
async function connect(cluster: FakeCluster, nodeId = 1): Promise<Connection> {
  const b = cluster.brokers.find((x) => x.nodeId === nodeId)!
  const conn = new Connection({
    host: b.host,
    port: b.port,
    nodeId,
    clientId: 'unit',
    requestTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    clock: new ManualClock(),
    transport: cluster.transport,
  })
  open.push(conn)
  await conn.connect()
  return conn
}

function init(
  conn: Connection,
  transactionalId: string,
  opts: { timeoutMs?: number; expect?: Identity; version?: number } = {},
): Promise<InitProducerIdResponse> {
  return conn.request(
    InitProducerIdApi,
    {
      transactionalId,
      transactionTimeoutMs: opts.timeoutMs ?? 60_000,
      producerId: opts.expect?.producerId ?? -1n,
      producerEpoch: opts.expect?.producerEpoch ?? -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    },
    { version: opts.version ?? 5 },
  )
}

/** InitProducerId that must succeed; returns the identity. */
async function initOk(conn: Connection, transactionalId: string): Promise<Identity> {
  const res = await init(conn, transactionalId)
  assert.equal(res.errorCode, 0)
  return { producerId: res.producerId, producerEpoch: res.producerEpoch }
}

/** AddPartitionsToTxn v0-3; the answer as { "topic/partition": errorCode }. */
async function addPartitions(
  conn: Connection,
  transactionalId: string,
  id: Identity,
  parts: Record<string, number[]>,
  version = 3,
): Promise<Record<string, number>> {
  const res: AddPartitionsToTxnResponse = await conn.request(
    AddPartitionsToTxnApi,
    {
      transactions: [],
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: id.producerId,
      v3AndBelowProducerEpoch: id.producerEpoch,
      v3AndBelowTopics: Object.entries(parts).map(([name, partitions]) => ({ name, partitions })),
    },
    { version },
  )
  return Object.fromEntries(
    res.resultsByTopicV3AndBelow.flatMap((t) =>
      t.resultsByPartition.map((p) => [`${t.name}/${p.partitionIndex}`, p.partitionErrorCode]),
    ),
  )
}

function endTxn(
  conn: Connection,
  transactionalId: string,
  id: Identity,
  committed: boolean,
  version = 5,
): Promise<EndTxnResponse> {
  return conn.request(EndTxnApi, { transactionalId, ...id, committed }, { version })
}

async function addOffsets(
  conn: Connection,
  transactionalId: string,
  id: Identity,
  groupId: string,
  version = 4,
): Promise<number> {
  const res = await conn.request(AddOffsetsToTxnApi, { transactionalId, ...id, groupId }, { version })
  return res.errorCode
}

/** TxnOffsetCommit of `offsets` ({ "topic/partition": offset }); the answer as { "topic/partition": errorCode }. */
async function commitOffsets(
  conn: Connection,
  transactionalId: string,
  id: Identity,
  groupId: string,
  offsets: Record<string, number>,
  opts: { version?: number; generationId?: number; memberId?: string; groupInstanceId?: string | null } = {},
): Promise<Record<string, number>> {
  const topics = new Map<string, { partitionIndex: number; committedOffset: bigint }[]>()
  for (const [tp, offset] of Object.entries(offsets)) {
    const [topic, partition] = tp.split('/') as [string, string]
    if (!topics.has(topic)) topics.set(topic, [])
    topics.get(topic)!.push({ partitionIndex: Number(partition), committedOffset: BigInt(offset) })
  }
  const res: TxnOffsetCommitResponse = await conn.request(
    TxnOffsetCommitApi,
    {
      transactionalId,
      groupId,
      ...id,
      generationIdOrMemberEpoch: opts.generationId ?? -1,
      memberId: opts.memberId ?? '',
      groupInstanceId: opts.groupInstanceId ?? null,
      topics: [...topics].map(([name, ps]) => ({
        name,
        partitions: ps.map((p) => ({ ...p, committedLeaderEpoch: -1, committedMetadata: null })),
      })),
    },
    { version: opts.version ?? 5 },
  )
  return Object.fromEntries(
    res.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partitionIndex}`, p.errorCode])),
  )
}

/** One Produce of `values` to `topic`/`partition` as one batch; the partition's answer. */
async function produce(
  conn: Connection,
  transactionalId: string | null,
  id: Identity,
  partition: number,
  values: string[],
  opts: { version?: number; transactional?: boolean; topic?: string } = {},
): Promise<ProduceResponse['responses'][number]['partitionResponses'][number]> {
  const b = new RecordBatchBuilder(256)
  for (const v of values) b.append(T0, null, Buffer.from(v), null)
  const records = Buffer.from(
    b.build({ ...id, baseSequence: 0, transactional: opts.transactional ?? true, codec: getCodec('none') }),
  )
  const res = await conn.request(
    ProduceApi,
    {
      transactionalId,
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        {
          name: opts.topic ?? 't',
          topicId: Buffer.alloc(16),
          partitionData: [{ index: partition, records }],
        },
      ],
    },
    { version: opts.version ?? 12 },
  )
  return res.responses[0]!.partitionResponses[0]!
}

const values = (records: { value: Buffer | null }[]): string[] => records.map((r) => r.value!.toString())

describe('fake transaction coordinator: ApiVersions', () => {
  it('advertises the transaction APIs of a 4.x broker', () => {
    const ranges = Object.fromEntries(
      DEFAULT_API_VERSIONS.map((v) => [v.apiKey, [v.minVersion, v.maxVersion]]),
    )
    assert.deepEqual(ranges[10], [0, 6]) // FindCoordinator
    assert.deepEqual(ranges[22], [0, 5]) // InitProducerId (v6, two-phase commit, is not stable)
    assert.deepEqual(ranges[24], [0, 5]) // AddPartitionsToTxn
    assert.deepEqual(ranges[25], [0, 4]) // AddOffsetsToTxn
    assert.deepEqual(ranges[26], [0, 5]) // EndTxn
    assert.deepEqual(ranges[28], [0, 5]) // TxnOffsetCommit
  })

  it('finalizes transaction.version 2 by default, with its supported range from v4', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const v4 = await conn.request(ApiVersionsApi, HELLO, { version: 4 })
    assert.deepEqual(v4.finalizedFeatures, [
      { name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 },
    ])
    assert.deepEqual(v4.supportedFeatures, [{ name: 'transaction.version', minVersion: 0, maxVersion: 2 }])
    assert.equal(v4.finalizedFeaturesEpoch, 1n)
    // Below v4 a supported range starting at 0 is left out (KAFKA-17492); below v3 there are no features.
    const v3 = await conn.request(ApiVersionsApi, HELLO, { version: 3 })
    assert.deepEqual(v3.finalizedFeatures, [
      { name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 },
    ])
    assert.deepEqual(v3.supportedFeatures, [])
    const v2 = await conn.request(ApiVersionsApi, HELLO, { version: 2 })
    assert.deepEqual(v2.finalizedFeatures, [])
    assert.equal(v2.finalizedFeaturesEpoch, -1n)
  })

  it('does not list level 0 as finalized, and a change of level bumps the features epoch', async () => {
    const cluster = fake({ transactionVersion: 0 })
    const conn = await connect(cluster)
    const before = await conn.request(ApiVersionsApi, HELLO)
    assert.deepEqual(before.finalizedFeatures, [])
    assert.equal(before.finalizedFeaturesEpoch, 1n)
    cluster.txn.transactionVersion = 1
    const after = await conn.request(ApiVersionsApi, HELLO)
    assert.deepEqual(after.finalizedFeatures, [
      { name: 'transaction.version', minVersionLevel: 1, maxVersionLevel: 1 },
    ])
    assert.equal(after.finalizedFeaturesEpoch, 2n)
  })
})

describe('fake transaction coordinator: FindCoordinator', () => {
  it('names the transaction and group coordinators, one key (v3) or a batch (v4+)', async () => {
    const cluster = fake({ brokers: TWO_BROKERS, coordinatorNodeId: 2, groupCoordinatorNodeId: 1 })
    const conn = await connect(cluster)
    const txn = await conn.request(
      FindCoordinatorApi,
      { key: 'tx', keyType: 1, coordinatorKeys: [] },
      { version: 3 },
    )
    assert.deepEqual([txn.errorCode, txn.nodeId, txn.host, txn.port], [0, 2, 'broker2', 9092])
    const group = await conn.request(
      FindCoordinatorApi,
      { key: 'g', keyType: 0, coordinatorKeys: [] },
      { version: 3 },
    )
    assert.equal(group.nodeId, 1)
    // v0 has no key type: a group.
    const v0 = await conn.request(
      FindCoordinatorApi,
      { key: 'g', keyType: 0, coordinatorKeys: [] },
      { version: 0 },
    )
    assert.equal(v0.nodeId, 1)
    const batch = await conn.request(
      FindCoordinatorApi,
      { key: '', keyType: 1, coordinatorKeys: ['a', 'b'] },
      { version: 6 },
    )
    assert.deepEqual(
      batch.coordinators.map((c) => [c.key, c.nodeId, c.host, c.errorCode]),
      [
        ['a', 2, 'broker2', 0],
        ['b', 2, 'broker2', 0],
      ],
    )
    const share = await conn.request(
      FindCoordinatorApi,
      { key: '', keyType: 2, coordinatorKeys: ['s'] },
      { version: 6 },
    )
    assert.equal(share.coordinators[0]!.errorCode, ErrorCode.INVALID_REQUEST)
  })

  it('takes an injected error on the top level (v3) or on every key (v4+)', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    cluster.txn.inject(FindCoordinatorApi.apiKey, ErrorCode.COORDINATOR_NOT_AVAILABLE, 2)
    const v3 = await conn.request(
      FindCoordinatorApi,
      { key: 'tx', keyType: 1, coordinatorKeys: [] },
      { version: 3 },
    )
    assert.deepEqual([v3.errorCode, v3.nodeId], [ErrorCode.COORDINATOR_NOT_AVAILABLE, -1])
    const v4 = await conn.request(
      FindCoordinatorApi,
      { key: '', keyType: 1, coordinatorKeys: ['a', 'b'] },
      { version: 4 },
    )
    assert.deepEqual(
      v4.coordinators.map((c) => c.errorCode),
      [ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_NOT_AVAILABLE],
    )
    const after = await conn.request(
      FindCoordinatorApi,
      { key: 'tx', keyType: 1, coordinatorKeys: [] },
      { version: 3 },
    )
    assert.equal(after.errorCode, 0)
    assert.equal(cluster.txn.pendingInjections(), 0)
  })
})

describe('fake transaction coordinator: InitProducerId', () => {
  it('gives each transactional id its own producer id and bumps the epoch on every init', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    assert.deepEqual(await initOk(conn, 'a'), { producerId: 1000n, producerEpoch: 0 })
    assert.deepEqual(await initOk(conn, 'b'), { producerId: 1001n, producerEpoch: 0 })
    assert.deepEqual(await initOk(conn, 'a'), { producerId: 1000n, producerEpoch: 1 })
    assert.equal(cluster.txn.describe('a')?.state, 'Empty')
    // Idempotent producers draw from the same sequence, and are not the coordinator's business.
    const idem = await conn.request(InitProducerIdApi, {
      transactionalId: null,
      transactionTimeoutMs: -1,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    })
    assert.deepEqual([idem.producerId, idem.producerEpoch], [1002n, 0])
  })

  it('checks the timeout against transaction.max.timeout.ms and the transactional id', async () => {
    const cluster = fake({ transactionMaxTimeoutMs: 60_000 })
    const conn = await connect(cluster)
    assert.equal(
      (await init(conn, 'a', { timeoutMs: 60_001 })).errorCode,
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    )
    assert.equal((await init(conn, 'a', { timeoutMs: 0 })).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    assert.equal((await init(conn, '')).errorCode, ErrorCode.INVALID_REQUEST)
    const res = await init(conn, 'a', { timeoutMs: 60_000 })
    assert.deepEqual([res.errorCode, res.producerId, res.producerEpoch], [0, 1000n, 0])
    assert.equal(cluster.txn.describe('a')?.timeoutMs, 60_000)
  })

  it('fences the older instance: its requests get PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH before the error existed', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const first = await initOk(conn, 'a')
    const second = await initOk(conn, 'a')
    assert.equal(second.producerEpoch, first.producerEpoch + 1)
    assert.deepEqual(await addPartitions(conn, 'a', first, { t: [0] }, 3), {
      't/0': ErrorCode.PRODUCER_FENCED,
    })
    assert.deepEqual(await addPartitions(conn, 'a', first, { t: [0] }, 1), {
      't/0': ErrorCode.INVALID_PRODUCER_EPOCH,
    })
    assert.equal(await addOffsets(conn, 'a', first, 'g', 2), ErrorCode.PRODUCER_FENCED)
    assert.equal(await addOffsets(conn, 'a', first, 'g', 1), ErrorCode.INVALID_PRODUCER_EPOCH)
    assert.equal((await endTxn(conn, 'a', first, true, 2)).errorCode, ErrorCode.PRODUCER_FENCED)
    assert.equal((await endTxn(conn, 'a', first, true, 1)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
    // The partition leader's verification says INVALID_PRODUCER_EPOCH to a stale transactional batch.
    assert.equal(
      (await produce(conn, 'a', first, 0, ['x'], { version: 11 })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    )
    // And the unknown producer id of another instance is no mapping at all.
    const other = { producerId: 4242n, producerEpoch: 0 }
    assert.deepEqual(await addPartitions(conn, 'a', other, { t: [0] }), {
      't/0': ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    })
    assert.deepEqual(await addPartitions(conn, 'nobody', other, { t: [0] }), {
      't/0': ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    })
  })

  it('KIP-360: bumps the epoch of the instance that names it, repeats it for a retry, fences a stale one', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const e0 = await initOk(conn, 'a')
    const bumped = await init(conn, 'a', { expect: e0 })
    assert.deepEqual([bumped.errorCode, bumped.producerEpoch], [0, 1])
    // The same request again (its answer was lost): the same epoch, no second bump.
    const retried = await init(conn, 'a', { expect: e0 })
    assert.deepEqual([retried.errorCode, retried.producerEpoch], [0, 1])
    // Another instance took over; the old one's epoch is neither current nor previous.
    await initOk(conn, 'a')
    assert.equal(
      (await init(conn, 'a', { expect: { producerId: 1000n, producerEpoch: 1 } })).errorCode,
      ErrorCode.PRODUCER_FENCED,
    )
    assert.equal(
      (await init(conn, 'a', { expect: { producerId: 1000n, producerEpoch: 1 }, version: 3 })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    )
    assert.equal(
      (await init(conn, 'a', { expect: { producerId: 7n, producerEpoch: 2 } })).errorCode,
      ErrorCode.PRODUCER_FENCED,
    )
  })

  it('rotates the producer id when the epoch is exhausted, and recognises the retry of that rotation', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    cluster.txn.seed('a', { producerId: 555n, producerEpoch: 32765 })
    const last = await initOk(conn, 'a')
    assert.deepEqual(last, { producerId: 555n, producerEpoch: 32766 })
    const rotated = await init(conn, 'a', { expect: last })
    assert.deepEqual([rotated.errorCode, rotated.producerId, rotated.producerEpoch], [0, 1000n, 0])
    // The same request again, naming the old id and its exhausted epoch: the same new id, not fenced.
    const retry = await init(conn, 'a', { expect: last })
    assert.deepEqual([retry.errorCode, retry.producerId, retry.producerEpoch], [0, 1000n, 0])
    assert.deepEqual(await initOk(conn, 'a'), { producerId: 1000n, producerEpoch: 1 })
  })

  it('aborts the open transaction of the id: CONCURRENT_TRANSACTIONS first, a twice bumped epoch on the retry', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const old = await initOk(conn, 'a')
    assert.deepEqual(await addPartitions(conn, 'a', old, { t: [0] }), { 't/0': 0 })
    assert.equal((await produce(conn, 'a', old, 0, ['lost'], { version: 11 })).errorCode, 0)
    assert.equal((await init(conn, 'a')).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
    assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['lost'])
    assert.equal(cluster.txn.transactions[0]!.endedBy, 'InitProducerId')
    // The fence took epoch 1 for the abort markers; the new instance gets 2.
    assert.deepEqual(await initOk(conn, 'a'), { producerId: 1000n, producerEpoch: 2 })
    assert.equal((await endTxn(conn, 'a', old, false, 4)).errorCode, ErrorCode.PRODUCER_FENCED)
  })

  it('under transaction.version 2 the fencing abort bumps once more', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const old = await initOk(conn, 'a')
    assert.equal((await produce(conn, 'a', old, 0, ['lost'])).errorCode, 0)
    assert.equal((await init(conn, 'a')).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
    assert.deepEqual(cluster.txn.describe('a'), {
      state: 'CompleteAbort',
      producerId: 1000n,
      producerEpoch: 2,
      lastProducerEpoch: 2,
      timeoutMs: 60_000,
      partitions: [],
      groups: [],
    })
    assert.deepEqual(await initOk(conn, 'a'), { producerId: 1000n, producerEpoch: 3 })
  })
})

describe('fake transaction coordinator: coordinator moves', () => {
  it('the old coordinator answers NOT_COORDINATOR; the new one has the state', async () => {
    const cluster = fake({ brokers: TWO_BROKERS })
    const one = await connect(cluster, 1)
    const two = await connect(cluster, 2)
    const id = await initOk(one, 'a')
    assert.equal((await init(two, 'a')).errorCode, ErrorCode.NOT_COORDINATOR)
    cluster.txn.coordinatorNodeId = 2
    assert.deepEqual(await addPartitions(one, 'a', id, { t: [0, 1] }), {
      't/0': ErrorCode.NOT_COORDINATOR,
      't/1': ErrorCode.NOT_COORDINATOR,
    })
    assert.equal(await addOffsets(one, 'a', id, 'g'), ErrorCode.NOT_COORDINATOR)
    assert.equal((await endTxn(one, 'a', id, true)).errorCode, ErrorCode.NOT_COORDINATOR)
    assert.equal((await init(one, 'a')).errorCode, ErrorCode.NOT_COORDINATOR)
    assert.deepEqual(await addPartitions(two, 'a', id, { t: [0] }), { 't/0': 0 })
    // The group coordinator followed (it was not set apart); TxnOffsetCommit goes to it.
    assert.deepEqual(await commitOffsets(one, 'a', id, 'g', { 't/0': 5 }, { version: 3 }), {
      't/0': ErrorCode.NOT_COORDINATOR,
    })
    const find = await one.request(
      FindCoordinatorApi,
      { key: 'g', keyType: 0, coordinatorKeys: [] },
      { version: 3 },
    )
    assert.equal(find.nodeId, 2)
  })
})

describe('fake transaction coordinator: classic transactions (transaction.version 1)', () => {
  it('refuses a transactional batch for a partition not added: INVALID_TXN_STATE, or TRANSACTION_ABORTABLE from Produce v11', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    const v10 = await produce(conn, 'a', id, 0, ['x'], { version: 10 })
    assert.deepEqual(
      [v10.errorCode, v10.errorMessage],
      [ErrorCode.INVALID_TXN_STATE, 'Partition was not added to the transaction'],
    )
    assert.equal(
      (await produce(conn, 'a', id, 0, ['x'], { version: 11 })).errorCode,
      ErrorCode.TRANSACTION_ABORTABLE,
    )
    // v12 adds nothing on a version 1 cluster.
    assert.equal(
      (await produce(conn, 'a', id, 0, ['x'], { version: 12 })).errorCode,
      ErrorCode.TRANSACTION_ABORTABLE,
    )
    assert.deepEqual(cluster.log('t', 0), [])
    assert.equal(cluster.txn.describe('a')?.state, 'Empty')
  })

  it('adds partitions, then commits: the records become committed and the epoch stays', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0, 1] }), { 't/0': 0, 't/1': 0 })
    // Already in the transaction: answered at once.
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0] }), { 't/0': 0 })
    assert.deepEqual(cluster.txn.describe('a')?.partitions, ['t/0', 't/1'])
    assert.equal((await produce(conn, 'a', id, 0, ['a1', 'a2'], { version: 11 })).errorCode, 0)
    assert.equal((await produce(conn, 'a', id, 1, ['b1'], { version: 11 })).errorCode, 0)
    assert.deepEqual(values(cluster.txn.openRecords('t', 0)), ['a1', 'a2'])
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
    const end = await endTxn(conn, 'a', id, true, 4)
    assert.equal(end.errorCode, 0)
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['a1', 'a2'])
    assert.deepEqual(values(cluster.txn.committedRecords('t', 1)), ['b1'])
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['a1', 'a2'])
    assert.deepEqual(cluster.txn.describe('a'), {
      state: 'CompleteCommit',
      producerId: id.producerId,
      producerEpoch: id.producerEpoch,
      lastProducerEpoch: id.producerEpoch,
      timeoutMs: 60_000,
      partitions: [],
      groups: [],
    })
    // A retry of the commit succeeds; an abort now, or any end of an empty transaction, does not.
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, 0)
    assert.equal((await endTxn(conn, 'a', id, false, 4)).errorCode, ErrorCode.INVALID_TXN_STATE)
    // Partitions of the committed transaction are gone: the next one adds them again.
    assert.equal(
      (await produce(conn, 'a', id, 0, ['c1'], { version: 11 })).errorCode,
      ErrorCode.TRANSACTION_ABORTABLE,
    )
  })

  it('aborts: the records are aborted and skipped by read_committed, which stops at an open transaction', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    await addPartitions(conn, 'a', id, { t: [0] })
    await produce(conn, 'a', id, 0, ['gone'], { version: 11 })
    assert.equal((await endTxn(conn, 'a', id, false, 4)).errorCode, 0)
    assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['gone'])
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), [])
    // A non-transactional write, then an open transaction, then another plain write.
    await produce(conn, null, { producerId: 9n, producerEpoch: 0 }, 0, ['plain1'], { transactional: false })
    await addPartitions(conn, 'a', id, { t: [0] })
    await produce(conn, 'a', id, 0, ['pending'], { version: 11 })
    await produce(conn, null, { producerId: 9n, producerEpoch: 0 }, 0, ['plain2'], { transactional: false })
    assert.deepEqual(values(cluster.log('t', 0)), ['gone', 'plain1', 'pending', 'plain2'])
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['plain1'])
    await endTxn(conn, 'a', id, true, 4)
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['plain1', 'pending', 'plain2'])
    assert.deepEqual(
      cluster.txn.transactions.map((t) => [t.seq, t.outcome, t.partitions]),
      [
        [0, 'aborted', ['t/0']],
        [1, 'committed', ['t/0']],
      ],
    )
  })

  it('refuses unknown partitions and not attempts the rest; AddPartitionsToTxn v4+ is for brokers only', async () => {
    const cluster = fake({
      transactionVersion: 1,
      topics: { t: { partitions: 1 }, secret: { partitions: 1, errorCode: 29 } },
    })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0, 5], nope: [0], secret: [0] }), {
      't/0': ErrorCode.OPERATION_NOT_ATTEMPTED,
      't/5': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      'nope/0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      'secret/0': ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    })
    assert.equal(cluster.txn.describe('a')?.state, 'Empty')
    const v4 = await conn.request(
      AddPartitionsToTxnApi,
      {
        transactions: [
          { transactionalId: 'a', ...id, verifyOnly: false, topics: [{ name: 't', partitions: [0] }] },
        ],
        v3AndBelowTransactionalId: '',
        v3AndBelowProducerId: 0n,
        v3AndBelowProducerEpoch: 0,
        v3AndBelowTopics: [],
      },
      { version: 4 },
    )
    assert.equal(v4.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
  })

  it('refuses transactional batches without a transactional id for the whole request', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    const res = await produce(conn, null, id, 0, ['x'])
    assert.equal(res.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    assert.deepEqual(cluster.log('t', 0), [])
  })
})

describe('fake transaction coordinator: transaction.version 2', () => {
  it('Produce v12 adds the partition; EndTxn v5 bumps the epoch and returns it', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.equal((await produce(conn, 'a', id, 0, ['x1'])).errorCode, 0)
    assert.equal((await produce(conn, 'a', id, 1, ['y1'])).errorCode, 0)
    assert.deepEqual(cluster.txn.describe('a')?.partitions, ['t/0', 't/1'])
    assert.equal(cluster.requests.filter((r) => r.apiKey === AddPartitionsToTxnApi.apiKey).length, 0)
    const end = await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual(
      [end.errorCode, end.producerId, end.producerEpoch],
      [0, id.producerId, id.producerEpoch + 1],
    )
    assert.deepEqual(values(cluster.txn.committedRecords('t', 1)), ['y1'])
    // The retry of that EndTxn, with the epoch before the bump: the same answer, nothing bumped.
    const retry = await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual([retry.errorCode, retry.producerEpoch], [0, id.producerEpoch + 1])
    // The old epoch is fenced from now on; the new one starts the next transaction.
    assert.equal((await produce(conn, 'a', id, 0, ['late'])).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
    const next = { producerId: end.producerId, producerEpoch: end.producerEpoch }
    assert.equal((await produce(conn, 'a', next, 0, ['x2'])).errorCode, 0)
    assert.equal((await endTxn(conn, 'a', next, false, 5)).producerEpoch, id.producerEpoch + 2)
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), ['x1'])
  })

  it('the state table of EndTxn v5: an abort of nothing bumps, a commit of nothing and a stale epoch do not', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.equal((await endTxn(conn, 'a', id, true, 5)).errorCode, ErrorCode.INVALID_TXN_STATE)
    const abort = await endTxn(conn, 'a', id, false, 5)
    assert.deepEqual([abort.errorCode, abort.producerEpoch], [0, 1])
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteAbort')
    // CompleteAbort: the retry (epoch 0) is fine, a commit retry is not, an abort at the current epoch bumps.
    assert.equal((await endTxn(conn, 'a', id, false, 5)).errorCode, 0)
    assert.equal((await endTxn(conn, 'a', id, true, 5)).errorCode, ErrorCode.INVALID_TXN_STATE)
    const current = { producerId: id.producerId, producerEpoch: 1 }
    assert.equal((await endTxn(conn, 'a', current, false, 5)).producerEpoch, 2)
    // Two behind is fenced.
    assert.equal((await endTxn(conn, 'a', id, false, 5)).errorCode, ErrorCode.PRODUCER_FENCED)
  })

  it('EndTxn below v5 keeps the classic rules on a version 2 cluster', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    await addPartitions(conn, 'a', id, { t: [0] })
    await produce(conn, 'a', id, 0, ['x'], { version: 11 })
    const end = await endTxn(conn, 'a', id, true, 4)
    assert.equal(end.errorCode, 0)
    assert.equal(cluster.txn.describe('a')?.producerEpoch, id.producerEpoch)
  })

  it('TxnOffsetCommit v5 adds the group itself; below v5 it needs AddOffsetsToTxn', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'g', { 't/0': 10 }, { version: 4 }), {
      't/0': ErrorCode.TRANSACTION_ABORTABLE,
    })
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'g', { 't/0': 10 }, { version: 3 }), {
      't/0': ErrorCode.INVALID_TXN_STATE,
    })
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'g', { 't/0': 10, 'u/0': 3 }, { version: 5 }), {
      't/0': 0,
      'u/0': 0,
    })
    assert.deepEqual(cluster.txn.describe('a')?.groups, ['g'])
    assert.deepEqual(cluster.txn.committedOffsets('g'), new Map())
    await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual(
      cluster.txn.committedOffsets('g'),
      new Map([
        ['t/0', { offset: 10n, leaderEpoch: -1, metadata: null }],
        ['u/0', { offset: 3n, leaderEpoch: -1, metadata: null }],
      ]),
    )
  })

  it('an epoch exhausted by EndTxn v5 moves to a new producer id, and the retry is recognised', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    cluster.txn.seed('a', { producerId: 555n, producerEpoch: 32765 })
    const id = await initOk(conn, 'a')
    assert.equal(id.producerEpoch, 32766)
    await produce(conn, 'a', id, 0, ['x'])
    const end = await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual([end.errorCode, end.producerId, end.producerEpoch], [0, 1000n, 0])
    const retry = await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual([retry.errorCode, retry.producerId, retry.producerEpoch], [0, 1000n, 0])
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['x'])
  })
})

describe('fake transaction coordinator: offsets', () => {
  it('AddOffsetsToTxn then TxnOffsetCommit: visible after the commit, dropped by an abort', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.equal(await addOffsets(conn, 'a', id, 'g'), 0)
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'g', { 't/0': 7 }, { version: 4 }), { 't/0': 0 })
    await endTxn(conn, 'a', id, false, 4)
    assert.deepEqual(cluster.txn.committedOffsets('g'), new Map())
    assert.equal(await addOffsets(conn, 'a', id, 'g'), 0)
    assert.deepEqual(
      await commitOffsets(conn, 'a', id, 'g', { 't/0': 8, 't/9': 1, 'nope/0': 1 }, { version: 4 }),
      {
        't/0': 0,
        't/9': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        'nope/0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      },
    )
    // v5 on a version 1 cluster adds nothing: it is held to the group added above.
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'other', { 't/0': 1 }, { version: 5 }), {
      't/0': ErrorCode.TRANSACTION_ABORTABLE,
    })
    await endTxn(conn, 'a', id, true, 4)
    assert.deepEqual(
      cluster.txn.committedOffsets('g'),
      new Map([['t/0', { offset: 8n, leaderEpoch: -1, metadata: null }]]),
    )
  })

  it('checks the member and generation of a known group', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    const commit = (opts: Parameters<typeof commitOffsets>[5]): Promise<number> =>
      commitOffsets(conn, 'a', id, 'g', { 't/0': 1 }, opts).then((r) => r['t/0']!)
    // An unknown group: fine without a generation, refused with one.
    assert.equal(await commit({ generationId: 3, memberId: 'm1' }), ErrorCode.ILLEGAL_GENERATION)
    assert.equal(await commit({}), 0)
    cluster.txn.setGroup('g', { generationId: 3, members: ['m1'], staticMembers: { i1: 'm1' } })
    assert.equal(await commit({ generationId: 3, memberId: 'm1' }), 0)
    assert.equal(await commit({ generationId: 2, memberId: 'm1' }), ErrorCode.ILLEGAL_GENERATION)
    assert.equal(await commit({ generationId: 3, memberId: 'm9' }), ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(await commit({ generationId: 3, memberId: 'm1', groupInstanceId: 'i1' }), 0)
    assert.equal(
      await commit({ generationId: 3, memberId: 'm2', groupInstanceId: 'i1' }),
      ErrorCode.FENCED_INSTANCE_ID,
    )
    assert.equal(
      await commit({ generationId: 3, memberId: 'm1', groupInstanceId: 'i9' }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    )
    // Without member information (a producer that is not a group member) a transactional commit passes.
    assert.equal(await commit({}), 0)
  })

  it('TxnOffsetCommit checks the producer: a stale epoch, another producer id', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const old = await initOk(conn, 'a')
    await initOk(conn, 'a')
    assert.deepEqual(await commitOffsets(conn, 'a', old, 'g', { 't/0': 1 }), {
      't/0': ErrorCode.INVALID_PRODUCER_EPOCH,
    })
    assert.deepEqual(
      await commitOffsets(conn, 'a', { producerId: 77n, producerEpoch: 0 }, 'g', { 't/0': 1 }),
      {
        't/0': ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      },
    )
  })
})

describe('fake transaction coordinator: markers being written', () => {
  it('answers CONCURRENT_TRANSACTIONS for the next requests of the id, then completes', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    cluster.txn.markerDelayAnswers = 2
    const id = await initOk(conn, 'a')
    await addPartitions(conn, 'a', id, { t: [0] })
    await produce(conn, 'a', id, 0, ['x'], { version: 11 })
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, 0)
    assert.equal(cluster.txn.describe('a')?.state, 'PrepareCommit')
    assert.equal(cluster.txn.transactions[0]!.outcome, 'committing')
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), [])
    assert.deepEqual(values(cluster.txn.readCommitted('t', 0)), [])
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0] }), {
      't/0': ErrorCode.CONCURRENT_TRANSACTIONS,
    })
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0] }), {
      't/0': ErrorCode.CONCURRENT_TRANSACTIONS,
    })
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteCommit')
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['x'])
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0] }), { 't/0': 0 })
  })

  it('counts the retried EndTxn, InitProducerId and a Produce (NOT_ENOUGH_REPLICAS below v12)', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    cluster.txn.markerDelayAnswers = 3
    const id = await initOk(conn, 'a')
    await addPartitions(conn, 'a', id, { t: [0] })
    await endTxn(conn, 'a', id, false, 4)
    assert.equal((await endTxn(conn, 'a', id, false, 4)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, ErrorCode.INVALID_TXN_STATE)
    assert.equal(
      (await produce(conn, 'a', id, 0, ['x'], { version: 11 })).errorCode,
      ErrorCode.NOT_ENOUGH_REPLICAS,
    )
    assert.equal((await init(conn, 'a')).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteAbort')
  })

  it('completeMarkers() writes them at once; Produce v12 sees CONCURRENT_TRANSACTIONS until then', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    cluster.txn.markerDelayAnswers = 10
    const id = await initOk(conn, 'a')
    await produce(conn, 'a', id, 0, ['x'])
    const end = await endTxn(conn, 'a', id, true, 5)
    const next = { producerId: end.producerId, producerEpoch: end.producerEpoch }
    assert.equal((await produce(conn, 'a', next, 0, ['y'])).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
    cluster.txn.completeMarkers()
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteCommit')
    assert.equal((await produce(conn, 'a', next, 0, ['y'])).errorCode, 0)
  })
})

describe('fake transaction coordinator: timeouts', () => {
  it('expireTransaction aborts the open transaction and fences its producer', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    assert.equal(cluster.txn.expireTransaction('a'), false)
    await addPartitions(conn, 'a', id, { t: [0] })
    await produce(conn, 'a', id, 0, ['slow'], { version: 11 })
    assert.equal(cluster.txn.expireTransaction('a'), true)
    assert.equal(cluster.txn.transactions[0]!.endedBy, 'timeout')
    assert.deepEqual(values(cluster.txn.abortedRecords('t', 0)), ['slow'])
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, ErrorCode.PRODUCER_FENCED)
    assert.equal((await init(conn, 'a', { expect: id })).errorCode, ErrorCode.PRODUCER_FENCED)
  })
})

describe('fake transaction coordinator: injected errors and the interceptor', () => {
  it('inject: the next answers carry the error and change nothing', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    await addPartitions(conn, 'a', id, { t: [0] })
    cluster.txn.inject(EndTxnApi.apiKey, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 2)
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    assert.equal(cluster.txn.describe('a')?.state, 'Ongoing')
    assert.equal((await endTxn(conn, 'a', id, true, 4)).errorCode, 0)
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteCommit')
    // Every partition of an AddPartitionsToTxn, and the old version's name for a fenced producer.
    cluster.txn.inject(AddPartitionsToTxnApi.apiKey, ErrorCode.PRODUCER_FENCED, 2)
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0, 1] }, 3), {
      't/0': ErrorCode.PRODUCER_FENCED,
      't/1': ErrorCode.PRODUCER_FENCED,
    })
    assert.deepEqual(await addPartitions(conn, 'a', id, { t: [0] }, 1), {
      't/0': ErrorCode.INVALID_PRODUCER_EPOCH,
    })
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteCommit')
    // TxnOffsetCommit below v2 never says COORDINATOR_LOAD_IN_PROGRESS.
    cluster.txn.inject(TxnOffsetCommitApi.apiKey, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 2)
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'g', { 't/0': 1 }, { version: 1 }), {
      't/0': ErrorCode.COORDINATOR_NOT_AVAILABLE,
    })
    assert.deepEqual(await commitOffsets(conn, 'a', id, 'g', { 't/0': 1 }, { version: 2 }), {
      't/0': ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    })
    assert.throws(() => cluster.txn.inject(ProduceApi.apiKey, 1), /produceHandler/)
  })

  it('inject afterProcessing: the request takes effect, the answer is an error', async () => {
    const cluster = fake()
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    await produce(conn, 'a', id, 0, ['x'])
    cluster.txn.inject(EndTxnApi.apiKey, ErrorCode.NOT_COORDINATOR, 1, { afterProcessing: true })
    const end = await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual([end.errorCode, end.producerEpoch], [ErrorCode.NOT_COORDINATOR, -1])
    assert.deepEqual(values(cluster.txn.committedRecords('t', 0)), ['x'])
    // The client retries with the epoch it has: recognised as a retry.
    const retry = await endTxn(conn, 'a', id, true, 5)
    assert.deepEqual([retry.errorCode, retry.producerEpoch], [0, id.producerEpoch + 1])
  })

  it('the interceptor holds a request (processed when released) or closes the connection', async () => {
    const cluster = fake({ transactionVersion: 1 })
    const conn = await connect(cluster)
    const id = await initOk(conn, 'a')
    await addPartitions(conn, 'a', id, { t: [0] })
    const held: (() => void)[] = []
    cluster.interceptor = (req, respond) => {
      if (req.apiKey !== EndTxnApi.apiKey) return 'default'
      held.push(respond)
      return 'hold'
    }
    const pending = endTxn(conn, 'a', id, true, 4)
    await settle(3)
    assert.equal(held.length, 1)
    assert.equal(cluster.txn.describe('a')?.state, 'Ongoing')
    held[0]!()
    assert.equal((await pending).errorCode, 0)
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteCommit')

    // Processed, then the connection drops before the answer leaves: the commit happened anyway.
    await addPartitions(conn, 'a', id, { t: [0] })
    cluster.interceptor = (req, respond) => {
      if (req.apiKey !== EndTxnApi.apiKey) return 'default'
      respond()
      return 'close'
    }
    await assert.rejects(endTxn(conn, 'a', id, true, 4), { code: '_TRANSPORT' })
    assert.equal(cluster.txn.describe('a')?.state, 'CompleteCommit')
    assert.equal(cluster.txn.transactions.length, 2)
    assert.equal(cluster.txn.transactions[1]!.outcome, 'committed')
  })
})
