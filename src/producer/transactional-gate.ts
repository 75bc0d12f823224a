import { KafkaError } from '../errors/index.js'
import type { TransactionManager } from '../transactions/index.js'
import type { IdempotenceState } from './idempotence.js'

/**
 * What the sender asks a transactional producer before it sends (the transactional counterpart of
 * ProducerIdManager.maySend): whether batches may go, which partitions may be drained (classic
 * transactions add a partition before its first batch), and which Produce version and
 * transactional id the requests carry.
 */
export class TransactionalGate {
  constructor(
    private readonly txn: TransactionManager,
    private readonly idem: IdempotenceState,
    readonly transactionalId: string,
  ) {}

  /** Produce v12 lets the partition leader add the partition itself (KIP-890); classic stops at v11. */
  get produceMaxVersion(): number {
    return this.txn.produceMaxVersion
  }

  /**
   * Whether batches may be stamped and sent now; carries out what is due first. A fatal Produce
   * answer (fenced) ends the producer. A broken sequence (an expired in-flight batch,
   * OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID) cannot be repaired by a local epoch bump as
   * an idempotent producer does: the coordinator owns a transactional producer's epoch, so the
   * transaction becomes abortable and its abort bumps the epoch (KIP-360). Once the transaction
   * cannot commit, records that were not sent are failed at once (`purge`) instead of being sent
   * into a transaction that will be aborted (Java: abortUndrainedBatches).
   */
  maySend(now: number, purge: (err: KafkaError) => void): boolean {
    const idem = this.idem
    if (idem.fatal) {
      this.txn.fatalError(idem.fatal)
      return false
    }
    let state = this.txn.state
    if ((state === 'inTransaction' || state === 'committing') && idem.needsBump) {
      this.txn.abortableError(
        new KafkaError(
          idem.bumpReason?.code ?? 'OUT_OF_ORDER_SEQUENCE_NUMBER',
          `a batch of the transaction could not keep its sequence (${idem.bumpReason?.message ?? 'unknown reason'}); ` +
            'the transaction must be aborted, which also gives the producer a new epoch',
          { txnRequiresAbort: true, ...(idem.bumpReason ? { cause: idem.bumpReason } : {}) },
        ),
        true,
      )
      state = this.txn.state
    }
    if (state === 'abortableError' || state === 'aborting') {
      const last = this.txn.lastError
      purge(
        new KafkaError(
          '_PURGE_QUEUE',
          state === 'aborting'
            ? 'the record was not sent: its transaction is being aborted'
            : `the record was not sent: its transaction failed and must be aborted (${last?.code}: ${last?.message})`,
          { txnRequiresAbort: state !== 'aborting', ...(last ? { cause: last } : {}) },
        ),
      )
      return false
    }
    if (this.txn.generation === 2 && this.txn.firstRequestHeldUntil(now) > 0) return false
    return (state === 'inTransaction' || state === 'committing') && idem.ready
  }

  /** When a held first Produce may go (see TransactionManager.firstRequestHeldUntil), or 0. */
  heldUntil(now: number): number {
    return this.txn.generation === 2 ? this.txn.firstRequestHeldUntil(now) : 0
  }

  isSendAllowed(topic: string, partition: number): boolean {
    return this.txn.isSendAllowed(topic, partition)
  }

  onProduceSent(): void {
    this.txn.onProduceSent()
  }
}
