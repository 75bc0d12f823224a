import { KafkaError } from '../errors/index.js'
import type { TxnOffsetCommitRequestTopic } from '../protocol/index.js'
import type { TransactionOffset } from './types.js'

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
