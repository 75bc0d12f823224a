// The gauges of the statistics, as plain data the producer side builds when statistics are emitted
// (src/producer/statistics-probe.ts reads its parts). Defined here so that observability depends
// on nothing above it (scripts/check-layers.ts): the producer passes data down, never the reverse.
import type { BrokerState, IdempotenceStateName, TransactionStateName } from './types.js'

export interface BrokerSnapshot {
  readonly nodeId: number
  /** Known for brokers from metadata; for a bootstrap address the collector uses what it saw. */
  readonly host?: string
  readonly port?: number
  readonly state: BrokerState
  /** Requests written and not answered yet. */
  readonly inFlight: number
}

export interface PartitionSnapshot {
  readonly topic: string
  readonly partition: number
  readonly leader: number
  readonly leaderEpoch: number
  /** In the topic's metadata. */
  readonly known: boolean
  /** Records and bytes in the open batch. */
  readonly openCount: number
  readonly openBytes: number
  /** Records and bytes in closed batches not in flight. */
  readonly readyCount: number
  readonly readyBytes: number
  /** Records in batches in flight. */
  readonly inFlightCount: number
  /** The next sequence to be acknowledged (idempotence), else 0. */
  readonly nextAckSequence: number
}

export interface EosSnapshot {
  readonly idempState: IdempotenceStateName
  readonly txnState: TransactionStateName
  readonly txnMayEnqueue: boolean
  readonly producerId: number
  readonly producerEpoch: number
}

export interface StatisticsSnapshot {
  readonly msgCnt: number
  readonly msgSize: number
  readonly msgMax: number
  readonly msgSizeMax: number
  readonly metadataTopics: number
  readonly brokers: readonly BrokerSnapshot[]
  readonly partitions: readonly PartitionSnapshot[]
  /** null without enable.idempotence. */
  readonly eos: EosSnapshot | null
}

/** What the collector asks for at each emission; `nodeIds`: the brokers it has seen in events. */
export type StatisticsProbe = (nodeIds: readonly number[]) => StatisticsSnapshot
