// The data a transactional producer's API takes and hands out (public types).

/** The producer id and epoch a transactional producer stamps on its batches (KIP-98). */
export interface ProducerIdentity {
  readonly producerId: bigint
  readonly epoch: number
}

/** One consumer position to commit with the transaction: the next offset to read (last + 1). */
export interface TransactionOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number | bigint
  /** The leader epoch of the last record consumed, if the consumer knows it (KIP-320). */
  readonly leaderEpoch?: number
  readonly metadata?: string | null
}

/**
 * The consumer group the offsets belong to. Plain data, so any consumer library's metadata fits.
 * With `generationId` and `memberId` the group coordinator refuses offsets of a consumer that lost
 * its partitions in a rebalance (KIP-447 zombie fencing); with `groupId` alone it cannot.
 */
export interface ConsumerGroupMetadata {
  readonly groupId: string
  readonly generationId?: number
  readonly memberId?: string
  readonly groupInstanceId?: string | null
}
