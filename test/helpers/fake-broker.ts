// An in-process scripted Kafka cluster for unit tests. It speaks real Kafka bytes through the project's
// own codec: the client side is an in-memory Duplex handed out by a TransportFactory, the broker side
// decodes request frames with decodeRequestFrame and answers with encodeResponseFrame. ApiVersions and
// Metadata are answered automatically; Produce requests are recorded (their record batches decoded) and
// answered as a per-test handler says: success, per-partition errors, held (for timeouts and late
// responses), or a closed connection. The transaction and group coordinator APIs are answered by
// `cluster.txn` (fake-txn-coordinator.ts), which also checks transactional Produce batches. No
// sockets, no real time: responses are pushed on process.nextTick.

import { Duplex } from 'node:stream'
import type { TransportFactory } from '../../src/network/transport.js'
import { ErrorCode } from '../../src/errors/index.js'
import {
  ApiVersionsApi,
  InitProducerIdApi,
  MetadataApi,
  ProduceApi,
  apiByKey,
  decodeRecordBatches,
  decodeRequestFrame,
  encodeResponseFrame,
  type AnyApiDefinition,
  type ApiVersionsResponse,
  type DecodedBatch,
  type DecodedRecord,
  type DecodedRequest,
  type InitProducerIdResponse,
  type MetadataRequest,
  type MetadataResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../../src/protocol/index.js'
import { FakeTxnCoordinator, type FakeTxnCoordinatorOptions } from './fake-txn-coordinator.js'

export interface FakeBrokerSpec {
  nodeId: number
  host: string
  port: number
}

export interface FakePartitionSpec {
  leader: number
  leaderEpoch?: number
  errorCode?: number
}

export interface FakeTopicSpec {
  /** A partition count (leaders spread over the brokers round-robin) or explicit partitions. */
  partitions: number | FakePartitionSpec[]
  /** A topic-level error (e.g. 29 TOPIC_AUTHORIZATION_FAILED) instead of partitions. */
  errorCode?: number
}

/** The outcome for one partition of a Produce request. */
export interface PartitionResult {
  errorCode?: number
  /** Defaults to the partition's log end offset (the fake keeps a log per partition). */
  baseOffset?: number
  logAppendTimeMs?: number
  errorMessage?: string | null
}

/**
 * What the broker does with a Produce request:
 * - `undefined` / `'ok'`: every partition succeeds (records appended to the fake log);
 * - `{ errorCode }`: every partition fails with that code;
 * - `{ partitions: (topic, partition) => PartitionResult | undefined }`: per partition;
 * - `'hold'`: no answer until `call.release()` (request timeouts, late responses);
 * - `'close'`: the broker closes the connection instead of answering.
 */
export type ProduceReply =
  | undefined
  | 'ok'
  | 'hold'
  | 'close'
  | { errorCode: number; errorMessage?: string }
  | { partitions: (topic: string, partition: number) => PartitionResult | undefined }

export interface ProducePartitionData {
  topic: string
  partition: number
  batches: DecodedBatch[]
  records: DecodedRecord[]
  /** Bytes of the record batches as sent. */
  bytes: number
  /** The record batches exactly as sent (a retry of an idempotent batch must be byte-identical). */
  raw: Buffer
}

export interface ProduceCall {
  /** Order of arrival over the whole cluster, from 0. */
  readonly seq: number
  readonly nodeId: number
  /** The connection it arrived on (a retry on a new connection has another one). */
  readonly connection: FakeConnection
  readonly apiVersion: number
  readonly correlationId: number
  readonly acks: number
  readonly timeoutMs: number
  readonly partitions: ProducePartitionData[]
  /** Answers a held request now (with `reply`, default success). No-op if already answered. */
  release(reply?: ProduceReply): void
  /** Whether an answer was sent (or the connection closed instead). */
  readonly answered: boolean
}

export type ProduceHandler = (call: ProduceCall) => ProduceReply

/** Every request the cluster received, in order (ApiVersions and Metadata included). */
export interface ReceivedRequest {
  nodeId: number
  apiKey: number
  apiName: string
  apiVersion: number
  correlationId: number
  clientId: string | null
  body: unknown
}

/** What the broker does with a request other than Produce (ApiVersions is always answered). */
export type RequestInterceptor = (
  req: ReceivedRequest,
  respond: () => void,
  conn: FakeConnection,
) => 'default' | 'hold' | 'close'

/** Realistic ranges of a Kafka 4.x broker for the APIs the producer uses. */
export const DEFAULT_API_VERSIONS: { apiKey: number; minVersion: number; maxVersion: number }[] = [
  { apiKey: 0, minVersion: 3, maxVersion: 13 }, // Produce
  { apiKey: 1, minVersion: 4, maxVersion: 17 }, // Fetch
  { apiKey: 2, minVersion: 1, maxVersion: 10 }, // ListOffsets
  { apiKey: 3, minVersion: 0, maxVersion: 13 }, // Metadata
  { apiKey: 10, minVersion: 0, maxVersion: 6 }, // FindCoordinator
  { apiKey: 18, minVersion: 0, maxVersion: 4 }, // ApiVersions
  { apiKey: 19, minVersion: 2, maxVersion: 7 }, // CreateTopics
  { apiKey: 22, minVersion: 0, maxVersion: 5 }, // InitProducerId
  { apiKey: 24, minVersion: 0, maxVersion: 5 }, // AddPartitionsToTxn
  { apiKey: 25, minVersion: 0, maxVersion: 4 }, // AddOffsetsToTxn
  { apiKey: 26, minVersion: 0, maxVersion: 5 }, // EndTxn
  { apiKey: 28, minVersion: 0, maxVersion: 5 }, // TxnOffsetCommit
]

/**
 * `transactionVersion`, `coordinatorNodeId`, `groupCoordinatorNodeId` and `transactionMaxTimeoutMs`
 * set up the coordinator (see FakeTxnCoordinatorOptions); they can be changed later on `cluster.txn`.
 */
export interface FakeClusterOptions extends FakeTxnCoordinatorOptions {
  /** Default: one broker, node 1 at broker1:9092. */
  brokers?: FakeBrokerSpec[]
  topics?: Record<string, FakeTopicSpec>
  apiVersions?: { apiKey: number; minVersion: number; maxVersion: number }[]
  clusterId?: string
}

/** The broker side of one client connection. */
export class FakeConnection {
  readonly socket: FakeSocket
  private buffered: Buffer = Buffer.alloc(0)
  closed = false

  constructor(
    readonly cluster: FakeCluster,
    readonly broker: FakeBrokerSpec,
  ) {
    this.socket = new FakeSocket(this)
  }

  /** Bytes written by the client. */
  receive(chunk: Buffer): void {
    if (this.closed) return
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0)
      if (this.buffered.length < 4 + size) break
      const frame = this.buffered.subarray(4, 4 + size)
      this.buffered = this.buffered.subarray(4 + size)
      this.cluster.handle(this, decodeRequestFrame(Buffer.from(frame), lookup))
    }
  }

  /** Sends a response frame to the client (on the next tick, never inside the client's write). */
  send<Res>(api: AnyApiDefinition, version: number, correlationId: number, body: Res): void {
    const frame = Buffer.concat(encodeResponseFrame(api, version, correlationId, body as unknown))
    process.nextTick(() => {
      if (!this.closed) this.socket.push(frame)
    })
  }

  /** Sends raw bytes to the client as they are (framing tests). */
  sendRaw(bytes: Buffer): void {
    process.nextTick(() => {
      if (!this.closed) this.socket.push(bytes)
    })
  }

  /** The broker closes the connection (the client sees 'close'). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
  }
}

/** The client's end: what Connection reads from and writes to. Already connected. */
export class FakeSocket extends Duplex {
  /** Connection resolves at once for a transport whose socket reports connecting === false. */
  connecting = false
  /** Bytes the client wrote, chunk by chunk. */
  readonly written: Buffer[] = []

  constructor(private readonly conn: FakeConnection) {
    super()
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.written.push(chunk)
    this.conn.receive(chunk)
    cb()
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.conn.closed = true
    cb(err)
  }
}

const lookup = (apiKey: number): AnyApiDefinition | undefined => apiByKey(apiKey)

export class FakeCluster {
  readonly brokers: FakeBrokerSpec[]
  readonly topics = new Map<string, FakeTopicSpec>()
  readonly apiVersions: { apiKey: number; minVersion: number; maxVersion: number }[]
  readonly clusterId: string
  /** Every connection ever opened, in order. */
  readonly connections: FakeConnection[] = []
  /** Every request received (all APIs), in order. */
  readonly requests: ReceivedRequest[] = []
  /** Every Produce request received, in order. */
  readonly produceCalls: ProduceCall[] = []
  /** Decides each Produce request's fate; default: success. */
  produceHandler: ProduceHandler = () => 'ok'
  /** Optional hook for other requests (Metadata...): hold them, close, or answer as usual. */
  interceptor: RequestInterceptor | null = null
  /** Overrides the Metadata answer (stale brokers, epochs); return undefined for the default. */
  metadataHandler: ((req: MetadataRequest, nodeId: number) => MetadataResponse | undefined) | null = null
  /**
   * Overrides the InitProducerId answer of idempotent producers (no transactional id; those go to
   * `txn`); default: ids 1000, 1001, … epoch 0.
   */
  initProducerIdHandler: ((nodeId: number) => InitProducerIdResponse | undefined) | null = null
  private producerIds = 0
  /** Addresses ("host:port") that refuse connections. */
  readonly down = new Set<string>()
  /** Connection attempts per address, refused ones included. */
  readonly connectAttempts = new Map<string, number>()
  private readonly logs = new Map<string, DecodedRecord[]>()
  /** The transaction and group coordinator: FindCoordinator, transactional InitProducerId, *Txn APIs. */
  readonly txn: FakeTxnCoordinator

  constructor(opts: FakeClusterOptions = {}) {
    this.brokers = opts.brokers ?? [{ nodeId: 1, host: 'broker1', port: 9092 }]
    for (const [name, spec] of Object.entries(opts.topics ?? {})) this.topics.set(name, spec)
    this.apiVersions = opts.apiVersions ?? DEFAULT_API_VERSIONS
    this.clusterId = opts.clusterId ?? 'fake-cluster'
    this.txn = new FakeTxnCoordinator(this, opts)
  }

  /** Producer ids come from one sequence for idempotent and transactional producers: 1000, 1001, … */
  nextProducerId(): bigint {
    return BigInt(1000 + this.producerIds++)
  }

  /** The ApiVersions answer at `version`: the API ranges, and the `transaction.version` feature. */
  apiVersionsResponse(version: number): ApiVersionsResponse {
    return { errorCode: 0, apiKeys: this.apiVersions, throttleTimeMs: 0, ...this.txn.features(version) }
  }

  /** bootstrap.servers for every broker of the cluster. */
  get bootstrap(): string {
    return this.brokers.map((b) => `${b.host}:${b.port}`).join(',')
  }

  /** The TransportFactory to hand to a Connection, ConnectionPool or Producer. */
  readonly transport: TransportFactory = ({ host, port }) => {
    const address = `${host}:${port}`
    this.connectAttempts.set(address, (this.connectAttempts.get(address) ?? 0) + 1)
    const broker = this.brokers.find((b) => b.host === host && b.port === port)
    if (!broker || this.down.has(address)) {
      // A socket that never connects and fails like a refused TCP connect.
      const s = new Duplex({ read() {}, write: (_c, _e, cb) => cb() })
      ;(s as Duplex & { connecting: boolean }).connecting = true
      process.nextTick(() =>
        s.destroy(Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' })),
      )
      return s
    }
    const conn = new FakeConnection(this, broker)
    this.connections.push(conn)
    return conn.socket
  }

  /** Connections currently open to `nodeId`. */
  openConnections(nodeId?: number): FakeConnection[] {
    return this.connections.filter((c) => !c.closed && (nodeId === undefined || c.broker.nodeId === nodeId))
  }

  /** Closes every open connection to `nodeId` (a broker restart as the client sees it). */
  dropConnections(nodeId: number): void {
    for (const c of this.openConnections(nodeId)) c.close()
  }

  /** Records appended to `topic`/`partition` by successful Produce requests. */
  log(topic: string, partition: number): DecodedRecord[] {
    return this.logs.get(`${topic}/${partition}`) ?? []
  }

  /** All Produce requests' records for `topic`/`partition`, in arrival order (retries included). */
  sent(topic: string, partition: number): DecodedRecord[] {
    return this.produceCalls.flatMap((c) =>
      c.partitions.filter((p) => p.topic === topic && p.partition === partition).flatMap((p) => p.records),
    )
  }

  metadataRequests(): ReceivedRequest[] {
    return this.requests.filter((r) => r.apiKey === MetadataApi.apiKey)
  }

  /** Moves a partition's leader (and bumps its epoch unless given). */
  setLeader(topic: string, partition: number, leader: number, leaderEpoch?: number): void {
    const spec = this.topics.get(topic)
    if (!spec) throw new Error(`no topic ${topic}`)
    const parts = this.partitionSpecs(spec)
    const old = parts[partition]!
    parts[partition] = { ...old, leader, leaderEpoch: leaderEpoch ?? (old.leaderEpoch ?? 0) + 1 }
    this.topics.set(topic, { ...spec, partitions: parts })
  }

  private partitionSpecs(spec: FakeTopicSpec): FakePartitionSpec[] {
    if (typeof spec.partitions !== 'number') return spec.partitions.map((p) => ({ ...p }))
    return Array.from({ length: spec.partitions }, (_, i) => ({
      leader: this.brokers[i % this.brokers.length]!.nodeId,
      leaderEpoch: 0,
    }))
  }

  /** The default Metadata answer for `req`. */
  metadataResponse(req: MetadataRequest): MetadataResponse {
    const names = req.topics === null ? [...this.topics.keys()] : req.topics.map((t) => t.name ?? '')
    return {
      throttleTimeMs: 0,
      brokers: this.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null })),
      clusterId: this.clusterId,
      controllerId: this.brokers[0]!.nodeId,
      clusterAuthorizedOperations: -2147483648,
      errorCode: 0,
      topics: names.map((name) => {
        const spec = this.topics.get(name)
        if (!spec || spec.errorCode) {
          return {
            errorCode: spec?.errorCode ?? 3, // UNKNOWN_TOPIC_OR_PARTITION
            name,
            topicId: Buffer.alloc(16),
            isInternal: false,
            partitions: [],
            topicAuthorizedOperations: -2147483648,
          }
        }
        return {
          errorCode: 0,
          name,
          topicId: Buffer.alloc(16, 1),
          isInternal: false,
          partitions: this.partitionSpecs(spec).map((p, i) => ({
            errorCode: p.errorCode ?? 0,
            partitionIndex: i,
            leaderId: p.leader,
            leaderEpoch: p.leaderEpoch ?? 0,
            replicaNodes: [p.leader],
            isrNodes: [p.leader],
            offlineReplicas: [],
          })),
          topicAuthorizedOperations: -2147483648,
        }
      }),
    }
  }

  /** Called by a FakeConnection for each decoded request frame. */
  handle(conn: FakeConnection, req: DecodedRequest): void {
    const received: ReceivedRequest = {
      nodeId: conn.broker.nodeId,
      apiKey: req.apiKey,
      apiName: req.api.name,
      apiVersion: req.apiVersion,
      correlationId: req.correlationId,
      clientId: req.clientId,
      body: req.body,
    }
    this.requests.push(received)
    const { apiVersion: v, correlationId: id } = req
    if (req.apiKey === ApiVersionsApi.apiKey) {
      conn.send(ApiVersionsApi, v, id, this.apiVersionsResponse(v))
      return
    }
    if (req.apiKey === ProduceApi.apiKey) {
      this.handleProduce(conn, received, req.body as ProduceRequest)
      return
    }
    let respond: () => void
    if (req.apiKey === MetadataApi.apiKey) {
      respond = () => {
        const body = req.body as MetadataRequest
        const res = this.metadataHandler?.(body, conn.broker.nodeId) ?? this.metadataResponse(body)
        conn.send(MetadataApi, v, id, res)
      }
    } else if (this.txn.answers(req.apiKey, req.body)) {
      respond = () => this.txn.respond(conn, received)
    } else if (req.apiKey === InitProducerIdApi.apiKey) {
      respond = () => {
        const res: InitProducerIdResponse = this.initProducerIdHandler?.(conn.broker.nodeId) ?? {
          throttleTimeMs: 0,
          errorCode: 0,
          producerId: this.nextProducerId(),
          producerEpoch: 0,
          ongoingTxnProducerId: -1n,
          ongoingTxnProducerEpoch: -1,
        }
        conn.send(InitProducerIdApi, v, id, res)
      }
    } else {
      respond = () => conn.close() // an API the fake does not implement
    }
    const action = this.interceptor?.(received, respond, conn) ?? 'default'
    if (action === 'close') conn.close()
    else if (action === 'default') respond()
  }

  private handleProduce(conn: FakeConnection, received: ReceivedRequest, body: ProduceRequest): void {
    const partitions: ProducePartitionData[] = []
    for (const t of body.topicData) {
      for (const p of t.partitionData) {
        const batches = p.records ? decodeRecordBatches(p.records) : []
        partitions.push({
          topic: t.name,
          partition: p.index,
          batches,
          records: batches.flatMap((b) => b.records),
          bytes: p.records?.length ?? 0,
          raw: p.records ? Buffer.from(p.records) : Buffer.alloc(0),
        })
      }
    }
    let answered = false
    const answer = (reply: ProduceReply): void => {
      if (answered) return
      answered = true
      if (reply === 'close') {
        conn.close()
        return
      }
      if (body.acks === 0) {
        // acks=0: the broker writes and never answers.
        if (reply === undefined || reply === 'ok')
          this.append(body, received.apiVersion, partitions, () => undefined)
        return
      }
      const perPartition =
        reply === undefined || reply === 'ok' || reply === 'hold'
          ? () => undefined
          : 'partitions' in reply
            ? reply.partitions
            : () => ({ errorCode: reply.errorCode, errorMessage: reply.errorMessage ?? null })
      const results = this.append(body, received.apiVersion, partitions, perPartition)
      const byTopic = new Map<string, ProduceResponse['responses'][number]>()
      partitions.forEach((p, i) => {
        let t = byTopic.get(p.topic)
        if (!t)
          byTopic.set(p.topic, (t = { name: p.topic, topicId: Buffer.alloc(16), partitionResponses: [] }))
        const r = results[i]!
        t.partitionResponses.push({
          index: p.partition,
          errorCode: r.errorCode,
          baseOffset: BigInt(r.baseOffset),
          logAppendTimeMs: BigInt(r.logAppendTimeMs),
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: r.errorMessage,
        })
      })
      conn.send(ProduceApi, received.apiVersion, received.correlationId, {
        responses: [...byTopic.values()],
        throttleTimeMs: 0,
      } satisfies ProduceResponse)
    }
    const call: ProduceCall = {
      seq: this.produceCalls.length,
      nodeId: conn.broker.nodeId,
      connection: conn,
      apiVersion: received.apiVersion,
      correlationId: received.correlationId,
      acks: body.acks,
      timeoutMs: body.timeoutMs,
      partitions,
      release: (reply) => answer(reply ?? 'ok'),
      get answered() {
        return answered
      },
    }
    this.produceCalls.push(call)
    const reply = this.produceHandler(call)
    if (reply !== 'hold') answer(reply)
  }

  /**
   * Appends what `result` lets through to the fake logs. A partition the test lets succeed still has
   * to pass the broker's transactional checks: transactional batches need the request's transactional
   * id, and the coordinator's verification (FakeTxnCoordinator.verifyProduce).
   */
  private append(
    request: ProduceRequest,
    apiVersion: number,
    partitions: ProducePartitionData[],
    result: (topic: string, partition: number) => PartitionResult | undefined,
  ): { errorCode: number; baseOffset: number; logAppendTimeMs: number; errorMessage: string | null }[] {
    const { transactionalId } = request
    // KafkaApis.handleProduceRequest: transactional records without a transactional id fail the
    // authorization of the whole request.
    const unauthorized =
      transactionalId === null && partitions.some((p) => p.batches.some((b) => b.transactional))
    return partitions.map((p) => {
      const r = result(p.topic, p.partition) ?? {}
      let errorCode = r.errorCode ?? 0
      let errorMessage = r.errorMessage ?? null
      if (errorCode === 0 && unauthorized) errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      if (errorCode === 0 && transactionalId !== null) {
        ;({ errorCode, errorMessage } = this.txn.verifyProduce(transactionalId, apiVersion, p))
      }
      const key = `${p.topic}/${p.partition}`
      let log = this.logs.get(key)
      if (!log) this.logs.set(key, (log = []))
      if (errorCode !== 0) {
        return { errorCode, baseOffset: -1, logAppendTimeMs: -1, errorMessage }
      }
      const position = log.length
      const baseOffset = r.baseOffset ?? position
      log.push(...p.records)
      this.txn.appended(transactionalId, p, position)
      return { errorCode: 0, baseOffset, logAppendTimeMs: r.logAppendTimeMs ?? -1, errorMessage: null }
    })
  }
}

/** Lets every pending setImmediate / nextTick / promise callback run, `n` rounds deep. */
export async function settle(n = 30): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
