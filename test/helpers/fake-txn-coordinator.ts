// The transaction coordinator and group coordinator of the fake cluster (fake-broker.ts), for unit
// tests of the transactional producer. It keeps, per transactional id, the state a Kafka 4.x
// coordinator keeps (TransactionCoordinator and TransactionMetadata: producer id, epoch, the previous
// epoch, the state Empty / Ongoing / PrepareCommit / PrepareAbort / CompleteCommit / CompleteAbort
// and the partitions of the open transaction) and applies the broker's rules to FindCoordinator,
// InitProducerId with a transactional id, AddPartitionsToTxn v0-3, AddOffsetsToTxn,
// TxnOffsetCommit and EndTxn. Transactional Produce batches are checked the way a 4.x partition
// leader checks them (transaction verification, KIP-890): a partition that is not in the
// transaction is refused, or added implicitly under transaction version 2. It remembers which
// records and offsets each transaction wrote, so a test can ask what was committed, what was
// aborted and what a read_committed consumer would read.
//
// The rules cite the broker's method each comes from. Left out: time (a transaction times out only
// when a test calls expireTransaction), ACLs, sequence numbers of transactional batches, KIP-848
// consumer groups (member epochs), two-phase commit (InitProducerId v6) and the transaction log.
//
// Deliberately stricter than a broker in one way: a 4.x broker picks the epoch-bumping behaviour
// from the request version alone (EndTxn v5, Produce v12, TxnOffsetCommit v5), while the Java
// producer only sends those versions when `transaction.version` 2 is finalized. The fake follows
// the new behaviour only when both hold, so a client that ignores finalizedFeatures and sends v5 or
// v12 to a `transaction.version` 1 cluster gets the classic answers and its test notices.

import { ErrorCode } from '../../src/errors/index.js'
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  EndTxnApi,
  FindCoordinatorApi,
  InitProducerIdApi,
  TxnOffsetCommitApi,
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  type AnyApiDefinition,
  type ApiVersionsResponse,
  type DecodedRecord,
  type EndTxnRequest,
  type EndTxnResponse,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '../../src/protocol/index.js'
import type { FakeCluster, FakeConnection, ProducePartitionData, ReceivedRequest } from './fake-broker.js'

/** The finalized level of the `transaction.version` feature: 0 and 1 are classic, 2 is KIP-890. */
export type TransactionVersionLevel = 0 | 1 | 2

/** The coordinator's state of a transactional id (TransactionState). */
export type TxnState =
  'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort'

/** FindCoordinator key types. */
export const COORDINATOR_GROUP = 0
export const COORDINATOR_TRANSACTION = 1

/** The APIs the coordinator answers (inject() takes these keys). */
export const COORDINATOR_API_KEYS: readonly number[] = [
  FindCoordinatorApi.apiKey,
  InitProducerIdApi.apiKey,
  AddPartitionsToTxnApi.apiKey,
  AddOffsetsToTxnApi.apiKey,
  EndTxnApi.apiKey,
  TxnOffsetCommitApi.apiKey,
]

export interface FakeTxnCoordinatorOptions {
  /** The finalized `transaction.version` the brokers advertise. Default 2. */
  transactionVersion?: TransactionVersionLevel
  /** The broker that coordinates every transactional id. Default: the first broker. */
  coordinatorNodeId?: number
  /** The broker that coordinates every consumer group. Default: the transaction coordinator. */
  groupCoordinatorNodeId?: number
  /** The broker's transaction.max.timeout.ms. Default 900000 (15 minutes). */
  transactionMaxTimeoutMs?: number
}

/** A classic consumer group as its coordinator knows it, for the TxnOffsetCommit member checks. */
export interface FakeGroupSpec {
  generationId: number
  /** Member ids of the current generation. */
  members: string[]
  /** Static members: group.instance.id to member id. */
  staticMembers?: Record<string, string>
}

/** One offset of a TxnOffsetCommit. */
export interface TxnOffset {
  offset: bigint
  leaderEpoch: number
  metadata: string | null
}

/** A record a transaction wrote, and where: its index in the fake log of that partition. */
export interface TxnRecord {
  topic: string
  partition: number
  position: number
  record: DecodedRecord
}

export type TxnOutcome = 'open' | 'committing' | 'aborting' | 'committed' | 'aborted'

/** One transaction of a transactional id, from its first partition or group to its markers. */
export interface FakeTransaction {
  /** Order of start over the whole cluster, from 0. */
  readonly seq: number
  readonly transactionalId: string
  /** The producer id and epoch the transaction started with. */
  readonly producerId: bigint
  readonly producerEpoch: number
  /** Its partitions as "topic/partition", in the order they joined. */
  readonly partitions: string[]
  /** Groups whose offsets it carries (AddOffsetsToTxn, or TxnOffsetCommit v5 under version 2). */
  readonly groups: string[]
  readonly records: TxnRecord[]
  /** Offsets written by TxnOffsetCommit, by group, then "topic/partition". */
  readonly offsets: Map<string, Map<string, TxnOffset>>
  /** 'committing' / 'aborting' while the markers are being written (see markerDelayAnswers). */
  outcome: TxnOutcome
  /** What ended it: the client's EndTxn, a new instance's InitProducerId, or expireTransaction. */
  endedBy: 'EndTxn' | 'InitProducerId' | 'timeout' | null
}

/** What the coordinator holds for a transactional id (see describe()). */
export interface TxnIdSnapshot {
  state: TxnState
  producerId: bigint
  producerEpoch: number
  lastProducerEpoch: number
  timeoutMs: number
  /** The open transaction's partitions ("topic/partition") and groups. */
  partitions: string[]
  groups: string[]
}

interface Meta {
  transactionalId: string
  producerId: bigint
  previousProducerId: bigint
  /** The id to switch to when the markers are written, after an epoch overflow under version 2. */
  nextProducerId: bigint
  producerEpoch: number
  lastProducerEpoch: number
  timeoutMs: number
  state: TxnState
  current: FakeTransaction | null
  /** Answers left that still see PrepareCommit / PrepareAbort. */
  markersLeft: number
}

interface Injection {
  apiKey: number
  errorCode: number
  remaining: number
  afterProcessing: boolean
}

/** How a partition leader treats a transactional write (AddPartitionsToTxnManager). */
type Verification = 'default-error' | 'generic-error' | 'add-partition'

const NO_PRODUCER_ID = -1n
const NO_PRODUCER_EPOCH = -1
const MAX_EPOCH = 32767
/** TransactionMetadata.isEpochExhausted: the last epoch is kept for fencing. */
const exhausted = (epoch: number): boolean => epoch >= MAX_EPOCH - 1
const key = (topic: string, partition: number): string => `${topic}/${partition}`

export class FakeTxnCoordinator {
  /** The broker coordinating every transactional id; change it to move the coordinator. */
  coordinatorNodeId: number
  private groupCoordinator: number | undefined
  /** transaction.max.timeout.ms. */
  transactionMaxTimeoutMs: number
  /**
   * How many answers see a transaction still in PrepareCommit / PrepareAbort after EndTxn (or a
   * fencing abort), as while the broker writes the markers: each request of that transactional id
   * that meets the state (AddPartitionsToTxn, AddOffsetsToTxn, InitProducerId, a retried EndTxn, a
   * transactional Produce or TxnOffsetCommit) is answered CONCURRENT_TRANSACTIONS and counts one;
   * after the last one the markers are written. Default 0: complete when EndTxn is answered.
   */
  markerDelayAnswers = 0
  /** Every transaction, in order of start. */
  readonly transactions: FakeTransaction[] = []
  private level: TransactionVersionLevel
  private featuresEpoch = 1n
  private readonly metas = new Map<string, Meta>()
  private readonly groups = new Map<string, FakeGroupSpec>()
  private readonly committed = new Map<string, Map<string, TxnOffset>>()
  private readonly injections: Injection[] = []

  constructor(
    private readonly cluster: FakeCluster,
    opts: FakeTxnCoordinatorOptions = {},
  ) {
    this.level = opts.transactionVersion ?? 2
    this.coordinatorNodeId = opts.coordinatorNodeId ?? cluster.brokers[0]!.nodeId
    this.groupCoordinator = opts.groupCoordinatorNodeId
    this.transactionMaxTimeoutMs = opts.transactionMaxTimeoutMs ?? 900_000
  }

  /** The broker coordinating every consumer group (default: the transaction coordinator). */
  get groupCoordinatorNodeId(): number {
    return this.groupCoordinator ?? this.coordinatorNodeId
  }

  set groupCoordinatorNodeId(nodeId: number | undefined) {
    this.groupCoordinator = nodeId
  }

  /** The finalized `transaction.version`. Setting it bumps finalizedFeaturesEpoch, as an upgrade does. */
  get transactionVersion(): TransactionVersionLevel {
    return this.level
  }

  set transactionVersion(level: TransactionVersionLevel) {
    this.level = level
    this.featuresEpoch++
  }

  /**
   * The feature fields of an ApiVersions answer at `version` (ApiVersionsResponse.Builder): a level
   * of 0 is not listed as finalized, and below v4 a supported range starting at 0 is left out
   * (KAFKA-17492). The encoder drops all of them below v3.
   */
  features(
    version: number,
  ): Pick<ApiVersionsResponse, 'supportedFeatures' | 'finalizedFeaturesEpoch' | 'finalizedFeatures'> {
    return {
      supportedFeatures: version >= 4 ? [{ name: 'transaction.version', minVersion: 0, maxVersion: 2 }] : [],
      finalizedFeaturesEpoch: this.featuresEpoch,
      finalizedFeatures:
        this.level > 0
          ? [{ name: 'transaction.version', minVersionLevel: this.level, maxVersionLevel: this.level }]
          : [],
    }
  }

  /** Sets (or with null removes) the classic group `groupId` that TxnOffsetCommit members are checked against. */
  setGroup(groupId: string, spec: FakeGroupSpec | null): void {
    if (spec === null) this.groups.delete(groupId)
    else this.groups.set(groupId, spec)
  }

  /**
   * The next `times` answers of `apiKey` (one of COORDINATOR_API_KEYS) carry `errorCode` instead of
   * the real answer: every partition, key or top-level code gets it, after the broker's translations
   * for old versions (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH for an old request). By default the
   * request is refused before it changes anything; with `afterProcessing` it takes effect and only
   * the answer says otherwise (a coordinator that wrote the state and then lost its leadership).
   * InitProducerId injections apply to transactional ones only (idempotent ones are the cluster's
   * initProducerIdHandler); FindCoordinator ones to every key type.
   */
  inject(apiKey: number, errorCode: number, times = 1, opts: { afterProcessing?: boolean } = {}): void {
    if (!COORDINATOR_API_KEYS.includes(apiKey)) {
      throw new Error(
        `inject: the coordinator does not answer API ${apiKey} (use produceHandler for Produce)`,
      )
    }
    this.injections.push({
      apiKey,
      errorCode,
      remaining: times,
      afterProcessing: opts.afterProcessing ?? false,
    })
  }

  /** Injections not used up yet, for apiKey or all. */
  pendingInjections(apiKey?: number): number {
    return this.injections
      .filter((i) => apiKey === undefined || i.apiKey === apiKey)
      .reduce((n, i) => n + i.remaining, 0)
  }

  /**
   * Loads a transactional id as if from the transaction log: Empty, with this producer id and epoch
   * (an epoch close to exhaustion, a known producer id). Replaces what the coordinator had.
   */
  seed(
    transactionalId: string,
    state: { producerId: bigint; producerEpoch: number; timeoutMs?: number },
  ): void {
    this.metas.set(transactionalId, {
      transactionalId,
      producerId: state.producerId,
      previousProducerId: NO_PRODUCER_ID,
      nextProducerId: NO_PRODUCER_ID,
      producerEpoch: state.producerEpoch,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      timeoutMs: state.timeoutMs ?? 60_000,
      state: 'Empty',
      current: null,
      markersLeft: 0,
    })
  }

  /** What the coordinator holds for `transactionalId`, or undefined if it never saw it. */
  describe(transactionalId: string): TxnIdSnapshot | undefined {
    const m = this.metas.get(transactionalId)
    if (!m) return undefined
    return {
      state: m.state,
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      lastProducerEpoch: m.lastProducerEpoch,
      timeoutMs: m.timeoutMs,
      partitions: [...(m.current?.partitions ?? [])],
      groups: [...(m.current?.groups ?? [])],
    }
  }

  /** Writes the markers of every transaction in PrepareCommit / PrepareAbort now (or only `transactionalId`'s). */
  completeMarkers(transactionalId?: string): void {
    for (const m of this.metas.values()) {
      if ((transactionalId === undefined || m.transactionalId === transactionalId) && preparing(m)) {
        this.complete(m)
      }
    }
  }

  /**
   * Times out the open transaction of `transactionalId` (abortTimedOutTransactions): the epoch is
   * bumped, fencing the producer, and the transaction is aborted. False if none was open.
   */
  expireTransaction(transactionalId: string): boolean {
    const m = this.metas.get(transactionalId)
    if (!m || m.state !== 'Ongoing') return false
    this.fenceAndAbort(m, 'timeout')
    return true
  }

  /** Offsets committed to `groupId` by committed transactions, by "topic/partition". */
  committedOffsets(groupId: string): Map<string, TxnOffset> {
    return new Map(this.committed.get(groupId) ?? [])
  }

  /** Records of committed transactions in `topic`/`partition`, in log order. */
  committedRecords(topic: string, partition: number): DecodedRecord[] {
    return this.recordsWhere(topic, partition, (t) => t.outcome === 'committed')
  }

  /** Records of aborted transactions in `topic`/`partition`, in log order. */
  abortedRecords(topic: string, partition: number): DecodedRecord[] {
    return this.recordsWhere(topic, partition, (t) => t.outcome === 'aborted')
  }

  /** Records of transactions not completed yet (open, or markers not written), in log order. */
  openRecords(topic: string, partition: number): DecodedRecord[] {
    return this.recordsWhere(topic, partition, (t) => t.outcome !== 'committed' && t.outcome !== 'aborted')
  }

  /**
   * What a read_committed consumer reads from `topic`/`partition`: the log up to the first record
   * of a transaction that is not complete (the last stable offset), without aborted records.
   */
  readCommitted(topic: string, partition: number): DecodedRecord[] {
    const aborted = new Set<number>()
    let lso = Infinity
    for (const t of this.transactions) {
      for (const r of t.records) {
        if (r.topic !== topic || r.partition !== partition) continue
        if (t.outcome === 'aborted') aborted.add(r.position)
        else if (t.outcome !== 'committed') lso = Math.min(lso, r.position)
      }
    }
    return this.cluster.log(topic, partition).filter((_, i) => i < lso && !aborted.has(i))
  }

  /** Whether the coordinator answers this request (InitProducerId only with a transactional id). */
  answers(apiKey: number, body: unknown): boolean {
    if (apiKey === InitProducerIdApi.apiKey) return (body as InitProducerIdRequest).transactionalId !== null
    return COORDINATOR_API_KEYS.includes(apiKey)
  }

  /** Answers a coordinator request that arrived on `conn` (called by FakeCluster when it is due). */
  respond(conn: FakeConnection, req: ReceivedRequest): void {
    const nodeId = conn.broker.nodeId
    const v = req.apiVersion
    const injection = this.injections.find((i) => i.apiKey === req.apiKey && i.remaining > 0)
    if (injection) injection.remaining--
    let api: AnyApiDefinition
    let body: unknown
    const processed = !injection || injection.afterProcessing
    switch (req.apiKey) {
      case FindCoordinatorApi.apiKey: {
        const r = req.body as FindCoordinatorRequest
        api = FindCoordinatorApi
        body = processed ? this.findCoordinator(v, r) : undefined
        if (injection) body = findCoordinatorError(v, r, injection.errorCode)
        break
      }
      case InitProducerIdApi.apiKey: {
        const r = req.body as InitProducerIdRequest
        api = InitProducerIdApi
        const res = processed ? this.initProducerId(nodeId, r) : undefined
        body = injection ? initError(injection.errorCode) : res
        fencedAsOldEpoch(body as InitProducerIdResponse, v < 4)
        break
      }
      case AddPartitionsToTxnApi.apiKey: {
        const r = req.body as AddPartitionsToTxnRequest
        api = AddPartitionsToTxnApi
        body = this.addPartitionsToTxn(nodeId, v, r, processed ? undefined : injection!.errorCode)
        if (injection?.afterProcessing) body = addPartitionsError(v, r, injection.errorCode)
        break
      }
      case AddOffsetsToTxnApi.apiKey: {
        const r = req.body as AddOffsetsToTxnRequest
        api = AddOffsetsToTxnApi
        const errorCode = processed ? this.addOffsetsToTxn(nodeId, r) : 0
        body = {
          throttleTimeMs: 0,
          errorCode: oldFenced(injection ? injection.errorCode : errorCode, v < 2),
        } satisfies AddOffsetsToTxnResponse
        break
      }
      case EndTxnApi.apiKey: {
        const r = req.body as EndTxnRequest
        api = EndTxnApi
        const res = processed ? this.endTxn(nodeId, v, r) : undefined
        body = injection
          ? ({
              throttleTimeMs: 0,
              errorCode: injection.errorCode,
              producerId: NO_PRODUCER_ID,
              producerEpoch: NO_PRODUCER_EPOCH,
            } satisfies EndTxnResponse)
          : res
        const b = body as EndTxnResponse
        b.errorCode = oldFenced(b.errorCode, v < 2)
        break
      }
      case TxnOffsetCommitApi.apiKey: {
        const r = req.body as TxnOffsetCommitRequest
        api = TxnOffsetCommitApi
        body = this.txnOffsetCommit(nodeId, v, r, processed ? undefined : injection!.errorCode)
        if (injection?.afterProcessing) body = txnOffsetCommitAll(r, injection.errorCode, v)
        break
      }
      default:
        throw new Error(`the coordinator does not answer API ${req.apiKey}`)
    }
    conn.send(api, v, req.correlationId, body)
  }

  // FindCoordinator (KafkaApis.handleFindCoordinatorRequest): v0-3 one key, v4+ a batch of keys.
  // Key type 0 is a group, 1 a transactional id; others (share groups) are not served.
  private findCoordinator(v: number, r: FindCoordinatorRequest): FindCoordinatorResponse {
    const nodeId =
      r.keyType === COORDINATOR_GROUP
        ? this.groupCoordinatorNodeId
        : r.keyType === COORDINATOR_TRANSACTION
          ? this.coordinatorNodeId
          : null
    const broker = nodeId === null ? undefined : this.cluster.brokers.find((b) => b.nodeId === nodeId)
    const errorCode =
      nodeId === null ? ErrorCode.INVALID_REQUEST : broker ? 0 : ErrorCode.COORDINATOR_NOT_AVAILABLE
    const node = broker && errorCode === 0 ? broker : { nodeId: -1, host: '', port: -1 }
    if (v < 4) {
      return {
        throttleTimeMs: 0,
        errorCode,
        errorMessage: null,
        nodeId: node.nodeId,
        host: node.host,
        port: node.port,
        coordinators: [],
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: '',
      port: 0,
      coordinators: r.coordinatorKeys.map((k) => ({
        key: k,
        nodeId: node.nodeId,
        host: node.host,
        port: node.port,
        errorCode,
        errorMessage: null,
      })),
    }
  }

  // InitProducerId with a transactional id (TransactionCoordinator.handleInitProducerId and
  // prepareInitProducerIdTransit).
  private initProducerId(nodeId: number, r: InitProducerIdRequest): InitProducerIdResponse {
    const id = r.transactionalId!
    if (id === '') return initError(ErrorCode.INVALID_REQUEST)
    // KafkaApis: a producer id without an epoch (or the reverse) is malformed.
    if ((r.producerId === NO_PRODUCER_ID) !== (r.producerEpoch === NO_PRODUCER_EPOCH)) {
      return initError(ErrorCode.INVALID_REQUEST)
    }
    if (r.transactionTimeoutMs <= 0 || r.transactionTimeoutMs > this.transactionMaxTimeoutMs) {
      return initError(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    }
    if (nodeId !== this.coordinatorNodeId) return initError(ErrorCode.NOT_COORDINATOR)
    let m = this.metas.get(id)
    if (!m) {
      m = {
        transactionalId: id,
        producerId: this.cluster.nextProducerId(),
        previousProducerId: NO_PRODUCER_ID,
        nextProducerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        timeoutMs: r.transactionTimeoutMs,
        state: 'Empty',
        current: null,
        markersLeft: 0,
      }
      this.metas.set(id, m)
    }
    const expected = r.producerId === NO_PRODUCER_ID ? null : { id: r.producerId, epoch: r.producerEpoch }
    if (preparing(m)) return initError(this.concurrent(m))
    // KIP-360: a producer that names its id and epoch is fenced unless the id is the current one, or
    // the previous one with an exhausted epoch (a retry after a rotation it never heard of).
    if (
      expected &&
      !(
        m.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.id === m.producerId ||
        (expected.id === m.previousProducerId && exhausted(expected.epoch))
      )
    ) {
      return initError(ErrorCode.PRODUCER_FENCED)
    }
    if (m.state === 'Ongoing') {
      // A new instance: the open transaction is aborted with a bumped epoch, never returned, and the
      // client is told to retry, which bumps the epoch once more.
      this.fenceAndAbort(m, 'InitProducerId')
      return initError(ErrorCode.CONCURRENT_TRANSACTIONS)
    }
    if (exhausted(m.producerEpoch) && (!expected || expected.epoch === m.producerEpoch)) {
      // prepareProducerIdRotation
      m.lastProducerEpoch = expected ? m.producerEpoch : NO_PRODUCER_EPOCH
      m.previousProducerId = m.producerId
      m.producerId = this.cluster.nextProducerId()
      m.producerEpoch = 0
    } else if (!expected) {
      // prepareIncrementProducerEpoch, a fresh instance
      m.lastProducerEpoch = NO_PRODUCER_EPOCH
      m.producerEpoch++
    } else if (m.producerEpoch === NO_PRODUCER_EPOCH || expected.epoch === m.producerEpoch) {
      // the same instance bumping its epoch after an error
      m.lastProducerEpoch = m.producerEpoch
      m.producerEpoch++
    } else if (expected.epoch !== m.lastProducerEpoch) {
      // a retry of a bump that succeeded (expected.epoch === lastProducerEpoch) gets the same epoch
      return initError(ErrorCode.PRODUCER_FENCED)
    }
    m.state = 'Empty'
    m.timeoutMs = r.transactionTimeoutMs
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      ongoingTxnProducerId: NO_PRODUCER_ID,
      ongoingTxnProducerEpoch: NO_PRODUCER_EPOCH,
    }
  }

  // AddPartitionsToTxn (KafkaApis.handleAddPartitionsToTxnRequest): versions 0-3 come from clients;
  // 4+ only from brokers, so a client using them fails the cluster authorization.
  private addPartitionsToTxn(
    nodeId: number,
    v: number,
    r: AddPartitionsToTxnRequest,
    refusal: number | undefined,
  ): AddPartitionsToTxnResponse {
    if (v >= 4) {
      const code = refusal ?? ErrorCode.CLUSTER_AUTHORIZATION_FAILED
      return { throttleTimeMs: 0, errorCode: code, resultsByTransaction: [], resultsByTopicV3AndBelow: [] }
    }
    if (refusal !== undefined) return addPartitionsError(v, r, refusal)
    const parts = r.v3AndBelowTopics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p })),
    )
    const unknown = parts.map((p) => this.partitionError(p.topic, p.partition))
    let codes: number[]
    if (unknown.some((c) => c !== 0)) {
      // One failed partition fails the request; the others were not attempted.
      codes = unknown.map((c) => c || ErrorCode.OPERATION_NOT_ATTEMPTED)
    } else {
      const code = this.addToTransaction(
        nodeId,
        r.v3AndBelowTransactionalId,
        r.v3AndBelowProducerId,
        r.v3AndBelowProducerEpoch,
        parts.map((p) => key(p.topic, p.partition)),
        [],
      )
      codes = parts.map(() => oldFenced(code, v < 2))
    }
    return addPartitionsResponse(parts, codes)
  }

  // AddOffsetsToTxn (KafkaApis.handleAddOffsetsToTxnRequest): adds the group's offsets partition.
  private addOffsetsToTxn(nodeId: number, r: AddOffsetsToTxnRequest): number {
    return this.addToTransaction(nodeId, r.transactionalId, r.producerId, r.producerEpoch, [], [r.groupId])
  }

  // TransactionCoordinator.handleAddPartitionsToTransaction.
  private addToTransaction(
    nodeId: number,
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: string[],
    groups: string[],
  ): number {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST
    if (nodeId !== this.coordinatorNodeId) return ErrorCode.NOT_COORDINATOR
    const m = this.metas.get(transactionalId)
    if (!m || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED
    if (preparing(m)) return this.concurrent(m)
    this.join(m, partitions, groups)
    return 0
  }

  // EndTxn (TransactionCoordinator.endTransaction): the classic rules, or version 2's (epoch bump on
  // every end, retries recognised by the epoch before the bump) for EndTxn v5 on a version 2 cluster.
  private endTxn(nodeId: number, v: number, r: EndTxnRequest): EndTxnResponse {
    const answer = (
      errorCode: number,
      producerId = NO_PRODUCER_ID,
      producerEpoch = NO_PRODUCER_EPOCH,
    ): EndTxnResponse => ({
      throttleTimeMs: 0,
      errorCode,
      producerId,
      producerEpoch,
    })
    if (nodeId !== this.coordinatorNodeId) return answer(ErrorCode.NOT_COORDINATOR)
    if (r.transactionalId === '') return answer(ErrorCode.INVALID_REQUEST)
    const m = this.metas.get(r.transactionalId)
    if (!m) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    const commit = r.committed
    const invalid = answer(ErrorCode.INVALID_TXN_STATE)
    const done = (): EndTxnResponse => answer(0, m.producerId, m.producerEpoch)
    if (!(v >= 5 && this.level >= 2)) {
      // endTransactionWithTV1
      if (m.producerId !== r.producerId) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
      if (m.producerEpoch !== r.producerEpoch) return answer(ErrorCode.PRODUCER_FENCED)
      switch (m.state) {
        case 'Ongoing':
          this.end(m, commit, false, 'EndTxn')
          return answer(0)
        case 'CompleteCommit':
          return commit ? done() : invalid
        case 'CompleteAbort':
          return commit ? invalid : done()
        case 'PrepareCommit':
          return commit ? answer(this.concurrent(m)) : invalid
        case 'PrepareAbort':
          return commit ? invalid : answer(this.concurrent(m))
        case 'Empty':
          return invalid
      }
    }
    const retryOnOverflow =
      m.previousProducerId === r.producerId && r.producerEpoch === MAX_EPOCH - 1 && m.producerEpoch === 0
    const retryOnEpochBump = m.producerEpoch === r.producerEpoch + 1
    const isRetry = retryOnEpochBump || retryOnOverflow
    const validEpoch =
      m.state === 'Ongoing' || m.state === 'Empty'
        ? r.producerEpoch === m.producerEpoch
        : preparing(m)
          ? retryOnEpochBump
          : isRetry || r.producerEpoch === m.producerEpoch
    if (m.producerId !== r.producerId && !retryOnOverflow)
      return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    if (!validEpoch) return answer(ErrorCode.PRODUCER_FENCED)
    const bumped = (): EndTxnResponse => {
      this.end(m, commit, true, 'EndTxn')
      return m.nextProducerId !== NO_PRODUCER_ID ? answer(0, m.nextProducerId, 0) : done()
    }
    switch (m.state) {
      case 'Ongoing':
        return bumped()
      case 'CompleteCommit':
        if (commit) return isRetry ? done() : invalid
        return isRetry ? invalid : bumped()
      case 'CompleteAbort':
        if (commit) return invalid
        return isRetry ? done() : bumped()
      case 'PrepareCommit':
        return commit ? answer(this.concurrent(m)) : invalid
      case 'PrepareAbort':
        return commit ? invalid : answer(this.concurrent(m))
      case 'Empty':
        // Version 2 may abort a transaction that added nothing, to bump the epoch.
        return commit ? invalid : bumped()
    }
  }

  // TxnOffsetCommit (KafkaApis.handleTxnOffsetCommitRequest, then the group coordinator): the topics
  // must exist, the transaction must hold the group (verified like a Produce; v5 under version 2
  // adds it), and a member of a known group must be of its current generation.
  private txnOffsetCommit(
    nodeId: number,
    v: number,
    r: TxnOffsetCommitRequest,
    refusal: number | undefined,
  ): TxnOffsetCommitResponse {
    if (refusal !== undefined) return txnOffsetCommitAll(r, refusal, v)
    if (nodeId !== this.groupCoordinatorNodeId) return txnOffsetCommitAll(r, ErrorCode.NOT_COORDINATOR, v)
    const codes = new Map<string, number>()
    const valid: { topic: string; p: TxnOffsetCommitRequest['topics'][number]['partitions'][number] }[] = []
    for (const t of r.topics) {
      for (const p of t.partitions) {
        const code = this.partitionError(t.name, p.partitionIndex)
        codes.set(key(t.name, p.partitionIndex), code)
        if (code === 0) valid.push({ topic: t.name, p })
      }
    }
    if (valid.length > 0) {
      const mode: Verification =
        v >= 5 && this.level >= 2 ? 'add-partition' : v >= 4 ? 'generic-error' : 'default-error'
      let code = this.verify(r.transactionalId, r.producerId, r.producerEpoch, { group: r.groupId }, mode)
      if (code === 0) code = this.checkMember(r)
      if (code === 0) {
        const m = this.metas.get(r.transactionalId)!
        let offsets = m.current!.offsets.get(r.groupId)
        if (!offsets) m.current!.offsets.set(r.groupId, (offsets = new Map()))
        for (const { topic, p } of valid) {
          offsets.set(key(topic, p.partitionIndex), {
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata,
          })
        }
      }
      for (const { topic, p } of valid) codes.set(key(topic, p.partitionIndex), code)
    }
    return {
      throttleTimeMs: 0,
      topics: r.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: oldLoading(codes.get(key(t.name, p.partitionIndex))!, v),
        })),
      })),
    }
  }

  // ClassicGroup.validateOffsetCommit for a transactional commit; an unknown group takes a commit
  // without a generation (a "simple" group) and refuses one with a generation
  // (OffsetMetadataManager.validateTransactionalOffsetCommit).
  private checkMember(r: TxnOffsetCommitRequest): number {
    const g = this.groups.get(r.groupId)
    const generation = r.generationIdOrMemberEpoch
    if (!g) return generation < 0 ? 0 : ErrorCode.ILLEGAL_GENERATION
    if (generation < 0 && g.members.length === 0) return 0
    if (generation >= 0 || r.memberId !== '' || r.groupInstanceId !== null) {
      if (r.groupInstanceId !== null) {
        const member = g.staticMembers?.[r.groupInstanceId]
        if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
        if (member !== r.memberId) return ErrorCode.FENCED_INSTANCE_ID
      } else if (!g.members.includes(r.memberId)) {
        return ErrorCode.UNKNOWN_MEMBER_ID
      }
      if (generation !== g.generationId) return ErrorCode.ILLEGAL_GENERATION
    }
    return 0
  }

  /**
   * The checks of a transactional Produce batch for one partition (ReplicaManager.handleProduceAppend
   * with AddPartitionsToTxnManager): 0 to append it, or the partition's error code. Produce v12+ on a
   * version 2 cluster adds the partition to the transaction; v11 gets TRANSACTION_ABORTABLE for a
   * partition not in it, older versions INVALID_TXN_STATE.
   */
  verifyProduce(
    transactionalId: string,
    apiVersion: number,
    p: ProducePartitionData,
  ): { errorCode: number; errorMessage: string | null } {
    const batch = p.batches.find((b) => b.transactional)
    if (!batch) return { errorCode: 0, errorMessage: null }
    const mode: Verification =
      apiVersion >= 12 && this.level >= 2
        ? 'add-partition'
        : apiVersion >= 11
          ? 'generic-error'
          : 'default-error'
    const code = this.verify(
      transactionalId,
      batch.producerId,
      batch.producerEpoch,
      { partition: key(p.topic, p.partition) },
      mode,
    )
    if (code === ErrorCode.INVALID_TXN_STATE) {
      return { errorCode: code, errorMessage: 'Partition was not added to the transaction' }
    }
    if (code === ErrorCode.CONCURRENT_TRANSACTIONS && mode !== 'add-partition') {
      // Older clients do not retry it well; the leader says NOT_ENOUGH_REPLICAS instead.
      return {
        errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
        errorMessage:
          'Unable to verify the partition has been added to the transaction. Underlying error: CONCURRENT_TRANSACTIONS',
      }
    }
    return { errorCode: code, errorMessage: null }
  }

  /** Remembers the records of an appended transactional batch in the open transaction. */
  appended(transactionalId: string | null, p: ProducePartitionData, position: number): void {
    if (transactionalId === null || !p.batches.some((b) => b.transactional)) return
    const t = this.metas.get(transactionalId)?.current
    if (!t) return
    let at = position
    for (const b of p.batches) {
      for (const record of b.records) {
        if (b.transactional) t.records.push({ topic: p.topic, partition: p.partition, position: at, record })
        at++
      }
    }
  }

  // TransactionCoordinator.handleVerifyPartitionsInTransaction (verify) or
  // handleAddPartitionsToTransaction (add), as a partition leader or the group coordinator asks it:
  // PRODUCER_FENCED reaches the client as INVALID_PRODUCER_EPOCH, and TRANSACTION_ABORTABLE as
  // INVALID_TXN_STATE for clients older than the error.
  private verify(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    what: { partition?: string; group?: string },
    mode: Verification,
  ): number {
    const m = this.metas.get(transactionalId)
    if (!m || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (m.producerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH
    if (preparing(m)) return this.concurrent(m)
    if (mode === 'add-partition') {
      this.join(m, what.partition ? [what.partition] : [], what.group ? [what.group] : [])
      return 0
    }
    const t = m.state === 'Ongoing' ? m.current : null
    const holds = what.partition ? t?.partitions.includes(what.partition) : t?.groups.includes(what.group!)
    if (holds) return 0
    return mode === 'default-error' ? ErrorCode.INVALID_TXN_STATE : ErrorCode.TRANSACTION_ABORTABLE
  }

  /** prepareAddPartitions: starts a transaction if none is open, and adds to it. */
  private join(m: Meta, partitions: string[], groups: string[]): void {
    if (m.state !== 'Ongoing' || !m.current) {
      m.current = {
        seq: this.transactions.length,
        transactionalId: m.transactionalId,
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        partitions: [],
        groups: [],
        records: [],
        offsets: new Map(),
        outcome: 'open',
        endedBy: null,
      }
      this.transactions.push(m.current)
      m.state = 'Ongoing'
    }
    for (const p of partitions) if (!m.current.partitions.includes(p)) m.current.partitions.push(p)
    for (const g of groups) if (!m.current.groups.includes(g)) m.current.groups.push(g)
  }

  /**
   * prepareAbortOrCommit: PrepareCommit / PrepareAbort, with a bumped epoch under version 2 (a new
   * producer id once the epoch is exhausted, taken when the markers are written).
   */
  private end(m: Meta, commit: boolean, bump: boolean, endedBy: FakeTransaction['endedBy']): void {
    if (bump) {
      if (exhausted(m.producerEpoch)) m.nextProducerId = this.cluster.nextProducerId()
      m.lastProducerEpoch = m.producerEpoch
      m.producerEpoch = Math.min(m.producerEpoch + 1, MAX_EPOCH)
    }
    m.state = commit ? 'PrepareCommit' : 'PrepareAbort'
    if (m.current) {
      m.current.outcome = commit ? 'committing' : 'aborting'
      m.current.endedBy = endedBy
    }
    m.markersLeft = this.markerDelayAnswers
    if (m.markersLeft <= 0) this.complete(m)
  }

  /** prepareFenceProducerEpoch, then the coordinator's own abort (with the cluster's version). */
  private fenceAndAbort(m: Meta, endedBy: FakeTransaction['endedBy']): void {
    m.producerEpoch = Math.min(m.producerEpoch + 1, MAX_EPOCH)
    m.lastProducerEpoch = NO_PRODUCER_EPOCH
    if (this.level >= 2) {
      // A fence never rotates the producer id; the abort of version 2 bumps once more.
      m.lastProducerEpoch = m.producerEpoch
      m.producerEpoch = Math.min(m.producerEpoch + 1, MAX_EPOCH)
    }
    this.end(m, false, false, endedBy)
  }

  /** prepareComplete: the markers are written. */
  private complete(m: Meta): void {
    const commit = m.state === 'PrepareCommit'
    m.state = commit ? 'CompleteCommit' : 'CompleteAbort'
    m.markersLeft = 0
    const t = m.current
    if (t) {
      t.outcome = commit ? 'committed' : 'aborted'
      if (commit) {
        for (const [group, offsets] of t.offsets) {
          let store = this.committed.get(group)
          if (!store) this.committed.set(group, (store = new Map()))
          for (const [k, o] of offsets) store.set(k, o)
        }
      }
    }
    m.current = null
    m.lastProducerEpoch = m.producerEpoch
    if (m.nextProducerId !== NO_PRODUCER_ID) {
      m.previousProducerId = m.producerId
      m.producerId = m.nextProducerId
      m.producerEpoch = 0
      m.nextProducerId = NO_PRODUCER_ID
    }
  }

  /** CONCURRENT_TRANSACTIONS while the markers are written; the last such answer writes them. */
  private concurrent(m: Meta): number {
    if (--m.markersLeft <= 0) this.complete(m)
    return ErrorCode.CONCURRENT_TRANSACTIONS
  }

  /** UNKNOWN_TOPIC_OR_PARTITION (or the topic's authorization error) for a partition the metadata lacks. */
  private partitionError(topic: string, partition: number): number {
    const spec = this.cluster.topics.get(topic)
    if (spec?.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) return ErrorCode.TOPIC_AUTHORIZATION_FAILED
    const count =
      !spec || spec.errorCode
        ? 0
        : typeof spec.partitions === 'number'
          ? spec.partitions
          : spec.partitions.length
    return partition >= 0 && partition < count ? 0 : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
  }

  private recordsWhere(
    topic: string,
    partition: number,
    pick: (t: FakeTransaction) => boolean,
  ): DecodedRecord[] {
    return this.transactions
      .filter(pick)
      .flatMap((t) => t.records.filter((r) => r.topic === topic && r.partition === partition))
      .sort((a, b) => a.position - b.position)
      .map((r) => r.record)
  }
}

const preparing = (m: Meta): boolean => m.state === 'PrepareCommit' || m.state === 'PrepareAbort'

/** PRODUCER_FENCED is INVALID_PRODUCER_EPOCH for requests older than the error. */
function oldFenced(code: number, old: boolean): number {
  return old && code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code
}

function fencedAsOldEpoch(res: InitProducerIdResponse, old: boolean): void {
  res.errorCode = oldFenced(res.errorCode, old)
}

/** TxnOffsetCommit below v2: COORDINATOR_LOAD_IN_PROGRESS is COORDINATOR_NOT_AVAILABLE (KAFKA-7296). */
function oldLoading(code: number, v: number): number {
  return v < 2 && code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? ErrorCode.COORDINATOR_NOT_AVAILABLE : code
}

function initError(errorCode: number): InitProducerIdResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    producerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    ongoingTxnProducerId: NO_PRODUCER_ID,
    ongoingTxnProducerEpoch: NO_PRODUCER_EPOCH,
  }
}

function findCoordinatorError(
  v: number,
  r: FindCoordinatorRequest,
  errorCode: number,
): FindCoordinatorResponse {
  const none = { nodeId: -1, host: '', port: -1, errorCode, errorMessage: null }
  if (v < 4) return { throttleTimeMs: 0, ...none, coordinators: [] }
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    nodeId: 0,
    host: '',
    port: 0,
    coordinators: r.coordinatorKeys.map((k) => ({ key: k, ...none })),
  }
}

function addPartitionsResponse(
  parts: { topic: string; partition: number }[],
  codes: number[],
): AddPartitionsToTxnResponse {
  const byTopic = new Map<string, AddPartitionsToTxnResponse['resultsByTopicV3AndBelow'][number]>()
  parts.forEach((p, i) => {
    let t = byTopic.get(p.topic)
    if (!t) byTopic.set(p.topic, (t = { name: p.topic, resultsByPartition: [] }))
    t.resultsByPartition.push({ partitionIndex: p.partition, partitionErrorCode: codes[i]! })
  })
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    resultsByTransaction: [],
    resultsByTopicV3AndBelow: [...byTopic.values()],
  }
}

function addPartitionsError(
  v: number,
  r: AddPartitionsToTxnRequest,
  errorCode: number,
): AddPartitionsToTxnResponse {
  if (v >= 4) return { throttleTimeMs: 0, errorCode, resultsByTransaction: [], resultsByTopicV3AndBelow: [] }
  const parts = r.v3AndBelowTopics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p })))
  return addPartitionsResponse(
    parts,
    parts.map(() => oldFenced(errorCode, v < 2)),
  )
}

function txnOffsetCommitAll(
  r: TxnOffsetCommitRequest,
  errorCode: number,
  v: number,
): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: r.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: oldLoading(errorCode, v),
      })),
    })),
  }
}
