import { KafkaError } from '../errors/index.js'
import { AddPartitionsToTxnApi } from '../protocol/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { COORDINATOR_TRANSACTION } from './coordinators.js'
import { Cancelled, firstError, type CoordinatorRequests } from './requests.js'
import type { ProducerIdentity } from './types.js'

/** AddPartitionsToTxn v4+ is the brokers' batched form (KIP-890); clients speak v3 and below. */
const ADD_PARTITIONS_MAX_VERSION = 3

export interface PartitionJoinerDeps {
  requests: CoordinatorRequests
  transactionalId: string
  clock: Clock
  /** Whether partitions may be added now: a transaction is open (or committing), not closed. */
  isOpen: () => boolean
  /** Until when the transaction's first request waits for the previous markers; 0 for none. */
  heldUntil: (now: number) => number
  /** That wait is over (its timer fired). */
  releaseHold: () => void
  identity: () => ProducerIdentity
  /** An AddPartitionsToTxn is about to be sent: the coordinator may have a transaction open. */
  onSending: () => void
  /** Partitions were added: their batches may go. */
  onAdded: () => void
  /** AddPartitionsToTxn failed for good: an abortable or a fatal error. */
  onFailed: (err: KafkaError) => void
}

/**
 * The classic protocol's partitions of the open transaction (KIP-98): which the coordinator has, and
 * the AddPartitionsToTxn requests for the ones that got records since. One request at a time; more
 * partitions gather meanwhile and go in the next one, while their records keep batching.
 */
export class PartitionJoiner {
  /** Partitions the coordinator has in the open transaction. */
  private readonly added = new Set<string>()
  /** Partitions with records that still have to be added. */
  private readonly pending = new Map<string, { topic: string; partition: number }>()
  private adding = false
  /** Counts transactions begun: a request of an ended transaction must not go on into the next. */
  private transactionCount = 0
  private timer: TimerHandle | null = null

  constructor(private readonly deps: PartitionJoinerDeps) {}

  /** A transaction begins: nothing is added, and a request of the previous one stops. */
  newTransaction(): void {
    this.clear()
    this.transactionCount++
  }

  /** The transaction ended. */
  clear(): void {
    this.added.clear()
    this.pending.clear()
  }

  /** The transaction is being aborted: partitions not added yet never will be. */
  dropPending(): void {
    this.pending.clear()
  }

  has(topic: string, partition: number): boolean {
    return this.added.has(`${partition}\u0000${topic}`)
  }

  /** `topic`/`partition` got records in the open transaction: add it unless it is (being) added. */
  add(topic: string, partition: number): void {
    const key = `${partition}\u0000${topic}`
    if (this.added.has(key) || this.pending.has(key)) return
    this.pending.set(key, { topic, partition })
    this.pump()
  }

  /** Sends AddPartitionsToTxn for the partitions waiting to join, until none is left. */
  private pump(): void {
    if (this.adding || this.pending.size === 0 || !this.deps.isOpen()) return
    const heldUntil = this.deps.heldUntil(this.deps.clock.now())
    if (heldUntil > 0) {
      if (this.timer) return
      this.timer = this.deps.clock.setTimeout(() => {
        this.timer = null
        this.deps.releaseHold()
        this.pump()
      }, heldUntil - this.deps.clock.now())
      return
    }
    this.adding = true
    const batch = [...this.pending]
    const byTopic = new Map<string, number[]>()
    for (const [, { topic, partition }] of batch) {
      let list = byTopic.get(topic)
      if (!list) byTopic.set(topic, (list = []))
      list.push(partition)
    }
    const txnId = this.deps.transactionalId
    // Also once a new transaction began: an aborted one's AddPartitionsToTxn still waiting for its
    // retry would add its partitions to the next one, with the epoch before the abort's bump.
    const count = this.transactionCount
    const cancelled = (): boolean => count !== this.transactionCount || !this.deps.isOpen()
    let id: ProducerIdentity
    try {
      id = this.deps.identity()
    } catch (err) {
      this.adding = false
      this.deps.onFailed(KafkaError.wrap(err))
      return
    }
    this.deps.onSending()
    this.deps.requests
      .run(
        'AddPartitionsToTxn',
        COORDINATOR_TRANSACTION,
        txnId,
        (conn) =>
          conn.request(
            AddPartitionsToTxnApi,
            {
              transactions: [],
              v3AndBelowTransactionalId: txnId,
              v3AndBelowProducerId: id.producerId,
              v3AndBelowProducerEpoch: id.epoch,
              v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
            },
            { maxVersion: ADD_PARTITIONS_MAX_VERSION },
          ),
        (res) =>
          firstError(
            res.resultsByTopicV3AndBelow.flatMap((t) =>
              t.resultsByPartition.map((p) => p.partitionErrorCode),
            ),
            res.errorCode,
          ),
        cancelled,
      )
      .then(
        () => {
          this.adding = false
          for (const [key] of batch) {
            this.pending.delete(key)
            this.added.add(key)
          }
          this.deps.onAdded()
          this.pump()
        },
        (err: unknown) => {
          this.adding = false
          // The partitions of a newer transaction may have waited for this request to end.
          if (err instanceof Cancelled) return this.pump()
          this.deps.onFailed(KafkaError.wrap(err, '_TRANSPORT'))
        },
      )
  }
}
