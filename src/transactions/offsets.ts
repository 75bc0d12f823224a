import { KafkaError } from '../errors/index.js'
import {
  AddOffsetsToTxnApi,
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequestTopic,
} from '../protocol/index.js'
import { COORDINATOR_GROUP, COORDINATOR_TRANSACTION } from './coordinators.js'
import { CLASSIC_MAX, V2_MAX, type TransactionGeneration } from './generation.js'
import { firstError, type CoordinatorRequests } from './requests.js'
import type { ConsumerGroupMetadata, ProducerIdentity, TransactionOffset } from './types.js'

/** Offsets grouped by topic for TxnOffsetCommit, validated (they come from application code). */
export function offsetTopics(offsets: readonly TransactionOffset[]): TxnOffsetCommitRequestTopic[] {
  if (!Array.isArray(offsets)) {
    throw new KafkaError('_INVALID_ARG', 'sendOffsetsToTransaction(): offsets must be an array')
  }
  const byTopic = new Map<string, TxnOffsetCommitRequestTopic>()
  for (const o of offsets) {
    if (typeof o?.topic !== 'string' || o.topic.length === 0) {
      throw new KafkaError('_INVALID_ARG', `sendOffsetsToTransaction(): each offset needs a topic name`)
    }
    if (!Number.isInteger(o.partition) || o.partition < 0) {
      throw new KafkaError(
        '_INVALID_ARG',
        `sendOffsetsToTransaction(): bad partition ${String(o.partition)} for ${o.topic}`,
      )
    }
    const offset =
      typeof o.offset === 'bigint' ? o.offset : Number.isSafeInteger(o.offset) ? BigInt(o.offset) : -1n
    if (offset < 0n) {
      throw new KafkaError(
        '_INVALID_ARG',
        `sendOffsetsToTransaction(): offset for ${o.topic}[${o.partition}] must be an integer >= 0 (the next ` +
          `offset to consume), not ${String(o.offset)}`,
      )
    }
    let t = byTopic.get(o.topic)
    if (!t) byTopic.set(o.topic, (t = { name: o.topic, partitions: [] }))
    t.partitions.push({
      partitionIndex: o.partition,
      committedOffset: offset,
      committedLeaderEpoch: o.leaderEpoch ?? -1,
      committedMetadata: o.metadata ?? '',
    })
  }
  return [...byTopic.values()]
}

export interface OffsetRequestsOptions {
  requests: CoordinatorRequests
  transactionalId: string
  /** The open transaction's protocol, read when each request is built. */
  generation: () => TransactionGeneration
  identity: () => ProducerIdentity
  /** A request that adds to the transaction is about to go: the coordinator may have it open now. */
  onSending: () => void
  /** Stops the retries: the transaction is no longer open or committing. */
  cancelled: () => boolean
}

/**
 * Adds `group`'s offsets (`topics`, from {@link offsetTopics}) to the open transaction. Classic
 * (generation 1): AddOffsetsToTxn to the transaction coordinator, then TxnOffsetCommit to the group's
 * coordinator. Generation 2 (KIP-890): TxnOffsetCommit v5 alone, which adds them itself.
 */
export async function addOffsetsToTransaction(
  o: OffsetRequestsOptions,
  group: ConsumerGroupMetadata,
  topics: TxnOffsetCommitRequestTopic[],
): Promise<void> {
  const txnId = o.transactionalId
  if (o.generation() === 1) {
    const id = o.identity()
    o.onSending()
    await o.requests.run(
      'AddOffsetsToTxn',
      COORDINATOR_TRANSACTION,
      txnId,
      (conn) =>
        conn.request(AddOffsetsToTxnApi, {
          transactionalId: txnId,
          producerId: id.producerId,
          producerEpoch: id.epoch,
          groupId: group.groupId,
        }),
      (res) => res.errorCode,
      o.cancelled,
    )
  }
  const id = o.identity()
  o.onSending()
  const maxVersion = o.generation() === 2 ? V2_MAX.txnOffsetCommit : CLASSIC_MAX.txnOffsetCommit
  await o.requests.run(
    'TxnOffsetCommit',
    COORDINATOR_GROUP,
    group.groupId,
    (conn) =>
      conn.request(
        TxnOffsetCommitApi,
        {
          transactionalId: txnId,
          groupId: group.groupId,
          producerId: id.producerId,
          producerEpoch: id.epoch,
          generationIdOrMemberEpoch: group.generationId ?? -1,
          memberId: group.memberId ?? '',
          groupInstanceId: group.groupInstanceId ?? null,
          topics,
        },
        { maxVersion },
      ),
    (res) => firstError(res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))),
    o.cancelled,
  )
}
