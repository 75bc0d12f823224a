// Reads the producer's parts into the plain-data snapshot the statistics collector asks for at each
// emission (src/observability/statistics/snapshot.ts): queue sizes from the accumulator, buffer use,
// brokers' connection states, leaders, idempotence and transaction state. Only read, never changed;
// it runs once per statistics.interval.ms, so walking the queues here costs nothing per record.
import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import type {
  BrokerSnapshot,
  EosSnapshot,
  IdempotenceStateName,
  PartitionSnapshot,
  StatisticsProbe,
  TransactionStateName,
} from '../observability/statistics/index.js'
import type { TransactionState } from '../transactions/index.js'
import type { Accumulator } from './accumulator.js'
import type { BufferLimits } from './buffer-limits.js'
import type { IdempotenceState } from './idempotence.js'
import type { MetadataWaitQueue } from './metadata-wait.js'

export interface StatisticsProbeParts {
  readonly accumulator: Accumulator
  readonly limits: BufferLimits
  readonly metadata: Metadata
  readonly pool: ConnectionPool
  readonly waiting: MetadataWaitQueue
  readonly idempotence: IdempotenceState | null
  /** queue.buffering.max.messages and buffer.memory. */
  readonly msgMax: number
  readonly msgSizeMax: number
  /** The transactional producer's state, null without transactional.id. */
  readonly transactionState: () => TransactionState | null
  readonly closed: () => boolean
}

/** librdkafka's names for our transaction states (rd_kafka_txn_state2str). */
const TXN_STATE: Readonly<Record<TransactionState, TransactionStateName>> = {
  uninitialized: 'Init',
  initializing: 'WaitPID',
  ready: 'Ready',
  inTransaction: 'InTransaction',
  committing: 'CommittingTransaction',
  aborting: 'AbortingTransaction',
  abortableError: 'AbortableError',
  fatalError: 'FatalError',
}

export function createStatisticsProbe(parts: StatisticsProbeParts): StatisticsProbe {
  return (nodeIds) => ({
    msgCnt: parts.limits.count,
    msgSize: parts.limits.bytes,
    msgMax: parts.msgMax,
    msgSizeMax: parts.msgSizeMax,
    metadataTopics: parts.metadata.topicCount,
    brokers: brokers(parts, nodeIds),
    partitions: partitions(parts),
    eos: eos(parts),
  })
}

function brokers(parts: StatisticsProbeParts, nodeIds: readonly number[]): BrokerSnapshot[] {
  const { pool, metadata } = parts
  const ids = new Set<number>([...metadata.brokers.keys(), ...nodeIds])
  const out: BrokerSnapshot[] = []
  for (const nodeId of [...ids].sort((a, b) => a - b)) {
    const address = metadata.broker(nodeId)
    const state = pool.ready(nodeId) ? 'UP' : pool.isConnecting(nodeId) ? 'CONNECT' : 'DOWN'
    out.push({
      nodeId,
      ...(address ? { host: address.host, port: address.port } : {}),
      state,
      inFlight: pool.inFlight(nodeId),
    })
  }
  return out
}

function partitions(parts: StatisticsProbeParts): PartitionSnapshot[] {
  const { accumulator, metadata, idempotence, waiting } = parts
  const byKey = new Map<string, PartitionSnapshot>()
  const topics = new Set<string>(waiting.topics)
  for (const q of accumulator.queues) topics.add(q.topic)
  for (const topic of topics) {
    const info = metadata.topic(topic)
    // librdkafka's partition -1 ("UA"): records not given a partition yet (waiting for metadata).
    const w = waiting.waitingFor(topic)
    byKey.set(`${topic}\u0000-1`, {
      ...empty(topic, -1, -1, -1, true),
      openCount: w.count,
      openBytes: w.bytes,
    })
    for (const p of info?.partitions ?? []) {
      byKey.set(`${topic}\u0000${p.partition}`, empty(topic, p.partition, p.leader, p.leaderEpoch, true))
    }
  }
  for (const q of accumulator.queues) {
    const key = `${q.topic}\u0000${q.partition}`
    const base = byKey.get(key) ?? empty(q.topic, q.partition, -1, -1, false)
    let openCount = 0
    let openBytes = 0
    let readyCount = 0
    let readyBytes = 0
    let inFlightCount = 0
    for (const b of q.batches) {
      if (b.state === 'open') {
        openCount += b.count
        openBytes += b.reservedBytes
      } else if (b.state === 'inFlight') {
        inFlightCount += b.count
      } else if (b.state !== 'done') {
        readyCount += b.count
        readyBytes += b.reservedBytes
      }
    }
    byKey.set(key, {
      ...base,
      openCount,
      openBytes,
      readyCount,
      readyBytes,
      inFlightCount,
      nextAckSequence: idempotence?.nextAckSequence(q.topic, q.partition) ?? 0,
    })
  }
  return [...byKey.values()]
}

function empty(
  topic: string,
  partition: number,
  leader: number,
  leaderEpoch: number,
  known: boolean,
): PartitionSnapshot {
  return {
    topic,
    partition,
    leader,
    leaderEpoch,
    known,
    openCount: 0,
    openBytes: 0,
    readyCount: 0,
    readyBytes: 0,
    inFlightCount: 0,
    nextAckSequence: 0,
  }
}

function eos(parts: StatisticsProbeParts): EosSnapshot | null {
  const idem = parts.idempotence
  if (idem === null) return null
  const txn = parts.transactionState()
  const id = idem.producerId
  return {
    idempState: idempotenceState(parts, idem, txn),
    txnState: txn === null ? 'Init' : TXN_STATE[txn],
    txnMayEnqueue: txn === 'inTransaction',
    producerId: id === null ? -1 : Number(id.producerId),
    producerEpoch: id === null ? -1 : id.epoch,
  }
}

/** librdkafka's idempotence states (rd_kafka_idemp_state2str) for ours. */
function idempotenceState(
  parts: StatisticsProbeParts,
  idem: IdempotenceState,
  txn: TransactionState | null,
): IdempotenceStateName {
  if (parts.closed()) return 'Terminate'
  if (idem.fatal !== null) return 'FatalError'
  // A transactional producer asks for its id only in initTransactions().
  if (idem.producerId === null && txn === 'uninitialized') return 'Init'
  if (idem.needsProducerId) return 'RequestPID'
  if (idem.needsBump) return 'DrainBump'
  return 'Assigned'
}
