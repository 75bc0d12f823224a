// A Kafka "sink" for W5: a real TCP server that speaks just enough of the protocol for a producer,
// through our own codec (decodeRequestFrame / encodeResponseFrame, as test/helpers/fake-broker.ts
// does in memory). ApiVersions, Metadata (every topic asked for has `partitions` partitions, led by
// the sink itself), InitProducerId and Produce are answered with success; records are not decoded
// or stored, only counted. It shows what a client costs per record when the broker costs nothing.
import { createServer, type Server, type Socket } from 'node:net'
import {
  ApiVersionsApi,
  InitProducerIdApi,
  MetadataApi,
  ProduceApi,
  apiByKey,
  decodeRequestFrame,
  encodeResponseFrame,
  type AnyApiDefinition,
  type MetadataRequest,
  type MetadataResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../src/protocol/index.js'

const API_VERSIONS = [
  { apiKey: ProduceApi.apiKey, minVersion: 3, maxVersion: 13 },
  { apiKey: MetadataApi.apiKey, minVersion: 0, maxVersion: 13 },
  { apiKey: ApiVersionsApi.apiKey, minVersion: 0, maxVersion: 4 },
  { apiKey: InitProducerIdApi.apiKey, minVersion: 0, maxVersion: 5 },
]
const NODE_ID = 1
const lookup = (apiKey: number): AnyApiDefinition | undefined => apiByKey(apiKey)

export interface Sink {
  readonly bootstrapServers: string
  /** Produce requests and record-batch bytes received so far. */
  readonly stats: { produceRequests: number; bytes: number; connections: number }
  close(): Promise<void>
}

export async function startSink(opts: { partitions?: number; port?: number } = {}): Promise<Sink> {
  const partitions = opts.partitions ?? 6
  const stats = { produceRequests: 0, bytes: 0, connections: 0 }
  const offsets = new Map<string, bigint>()
  const sockets = new Set<Socket>()
  let port = 0
  let producerIds = 0

  const metadata = (req: MetadataRequest): MetadataResponse => ({
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: '127.0.0.1', port, rack: null }],
    clusterId: 'bench-sink',
    controllerId: NODE_ID,
    clusterAuthorizedOperations: -2147483648,
    errorCode: 0,
    topics: (req.topics ?? []).map((t) => ({
      errorCode: 0,
      name: t.name ?? '',
      topicId: Buffer.alloc(16, 1),
      isInternal: false,
      partitions: Array.from({ length: partitions }, (_, i) => ({
        errorCode: 0,
        partitionIndex: i,
        leaderId: NODE_ID,
        leaderEpoch: 0,
        replicaNodes: [NODE_ID],
        isrNodes: [NODE_ID],
        offlineReplicas: [],
      })),
      topicAuthorizedOperations: -2147483648,
    })),
  })

  const produce = (req: ProduceRequest): ProduceResponse => {
    stats.produceRequests++
    return {
      throttleTimeMs: 0,
      responses: req.topicData.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitionResponses: t.partitionData.map((p) => {
          const records = p.records
          stats.bytes += records?.length ?? 0
          // A RecordBatch stores lastOffsetDelta at byte 23: count = lastOffsetDelta + 1 per batch.
          let count = 0n
          for (let off = 0; records && off + 27 <= records.length;) {
            const batchLen = records.readInt32BE(off + 8)
            count += BigInt(records.readInt32BE(off + 23) + 1)
            off += 12 + batchLen
          }
          const k = `${t.name}/${p.index}`
          const base = offsets.get(k) ?? 0n
          offsets.set(k, base + count)
          return {
            index: p.index,
            errorCode: 0,
            baseOffset: base,
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
            recordErrors: [],
            errorMessage: null,
          }
        }),
      })),
    }
  }

  const onConnection = (socket: Socket): void => {
    stats.connections++
    sockets.add(socket)
    socket.setNoDelay(true)
    let buffered: Buffer = Buffer.alloc(0)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      const out: Buffer[] = []
      while (buffered.length >= 4) {
        const size = buffered.readInt32BE(0)
        if (buffered.length < 4 + size) break
        const req = decodeRequestFrame(buffered.subarray(4, 4 + size), lookup)
        buffered = buffered.subarray(4 + size)
        const { apiVersion: v, correlationId: id } = req
        if (req.apiKey === ApiVersionsApi.apiKey) {
          out.push(
            ...encodeResponseFrame(ApiVersionsApi, v, id, {
              errorCode: 0,
              apiKeys: API_VERSIONS,
              throttleTimeMs: 0,
            }),
          )
        } else if (req.apiKey === MetadataApi.apiKey) {
          out.push(...encodeResponseFrame(MetadataApi, v, id, metadata(req.body as MetadataRequest)))
        } else if (req.apiKey === InitProducerIdApi.apiKey) {
          out.push(
            ...encodeResponseFrame(InitProducerIdApi, v, id, {
              throttleTimeMs: 0,
              errorCode: 0,
              producerId: BigInt(5000 + producerIds++),
              producerEpoch: 0,
              ongoingTxnProducerId: -1n,
              ongoingTxnProducerEpoch: -1,
            }),
          )
        } else if (req.apiKey === ProduceApi.apiKey) {
          const body = req.body as ProduceRequest
          const res = produce(body)
          if (body.acks !== 0) out.push(...encodeResponseFrame(ProduceApi, v, id, res))
        } else {
          socket.destroy() // an API the sink does not speak
          return
        }
      }
      if (buffered.length > 0) buffered = Buffer.from(buffered) // do not pin the big chunk
      if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out))
    })
  }

  const server: Server = createServer(onConnection)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as { port: number }).port
  return {
    bootstrapServers: `127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
