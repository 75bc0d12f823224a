import type { Connection } from '../network/connection.js'
import { EndTxnApi, ProduceApi } from '../protocol/index.js'

/**
 * Which transaction protocol a transaction uses. 1: classic (KIP-98): partitions join through
 * AddPartitionsToTxn before their first batch, offsets through AddOffsetsToTxn. 2: KIP-890's
 * transactions v2: the partition leader adds a partition when its first batch arrives (Produce
 * v12), TxnOffsetCommit v5 adds the offsets, and EndTxn v5 bumps the epoch on every commit/abort.
 */
export type TransactionGeneration = 1 | 2

/** The newest version of each request of the classic protocol (Java caps them the same way). */
export const CLASSIC_MAX = { endTxn: 4, txnOffsetCommit: 4, produce: 11 } as const
/** KIP-890's: EndTxn v5 returns the bumped epoch; TxnOffsetCommit v5 adds the offsets itself. */
export const V2_MAX = { endTxn: 5, txnOffsetCommit: 5, produce: 12 } as const

/** Whether `conn`'s broker runs KIP-890's transactions (see TransactionManager.generationNow). */
export function generationOf(conn: Connection): TransactionGeneration {
  const level = conn.finalizedFeatures.get('transaction.version') ?? 0
  const endTxn = conn.apiVersions.get(EndTxnApi.apiKey)?.maxVersion ?? -1
  const produce = conn.apiVersions.get(ProduceApi.apiKey)?.maxVersion ?? -1
  return level >= 2 && endTxn >= V2_MAX.endTxn && produce >= V2_MAX.produce ? 2 : 1
}
