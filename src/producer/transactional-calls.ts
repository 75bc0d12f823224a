import { KafkaError } from '../errors/index.js'
import type { TimedCall } from '../observability/metrics/index.js'
import type { Clock } from '../util/clock.js'
import type { ConsumerGroupMetadata, TransactionManager, TransactionOffset } from '../transactions/index.js'

/**
 * What the transactional calls need of the producer they belong to. The producer's public
 * transactional methods (initTransactions() … abortTransaction()) keep their documentation and
 * delegate here, so that producer.ts stays the facade and this file holds how each call is checked,
 * bounded and kept alive.
 */
export interface TransactionalHost {
  /** The transaction manager; null without transactional.id. */
  readonly txn: TransactionManager | null
  /** The default bound of a transactional call (max.block.ms). */
  readonly maxBlockMs: number
  /** Whether the producer is closing or closed (the word used in messages), else null. */
  closing(): 'closing' | 'closed' | null
  /** Throws the fatal error, or `_STATE` once closed: beginTransaction() refuses then. */
  checkOpen(): void
  /** A caller's timeoutMs, validated (`_INVALID_ARG` for a bad one). */
  validTimeout(timeoutMs: number): number
  /** flush() bounded by `ms`: commit and abort deliver the transaction's records first. */
  flush(ms: number): Promise<number>
  /** Fails with `err` every record not sent yet (aborting a transaction drops them). */
  purgeUnsent(err: KafkaError): number
  /** A transactional call started or ended: the producer re-decides whether to keep Node alive. */
  keepAliveChanged(): void
  readonly clock: Clock
  /** Each call's time, for Java's txn-*-time-ns-total metrics (KafkaProducerMetrics). */
  recordTime(call: TimedCall, ms: number): void
}

export class TransactionalCalls {
  private running = 0

  constructor(private readonly host: TransactionalHost) {}

  /** Whether a call is waiting: Node is kept alive meanwhile (timers and sockets are unref'd). */
  get active(): boolean {
    return this.running > 0
  }

  initTransactions(timeoutMs: number | undefined): Promise<void> {
    const txn = this.manager('initTransactions()')
    return this.run('txnInit', () => txn.initTransactions(this.bound(timeoutMs)))
  }

  beginTransaction(): void {
    this.host.checkOpen()
    const started = this.host.clock.now()
    this.manager('beginTransaction()').beginTransaction()
    this.host.recordTime('txnBegin', this.host.clock.now() - started)
  }

  sendOffsets(
    offsets: readonly TransactionOffset[],
    group: ConsumerGroupMetadata,
    timeoutMs: number | undefined,
  ): Promise<void> {
    const txn = this.manager('sendOffsetsToTransaction()')
    if (typeof group?.groupId !== 'string' || group.groupId.length === 0) {
      return Promise.reject(
        new KafkaError(
          '_INVALID_ARG',
          'sendOffsetsToTransaction(): group.groupId must be a non-empty string',
        ),
      )
    }
    return this.run('txnSendOffsets', () => txn.sendOffsets(offsets, group, this.bound(timeoutMs)))
  }

  commit(timeoutMs: number | undefined): Promise<void> {
    const txn = this.manager('commitTransaction()')
    return this.run('txnCommit', () => txn.commit(this.bound(timeoutMs), (ms) => this.host.flush(ms)))
  }

  abort(timeoutMs: number | undefined): Promise<void> {
    const txn = this.manager('abortTransaction()')
    return this.run('txnAbort', () =>
      txn.abort(
        this.bound(timeoutMs),
        () => this.purge(),
        (ms) => this.host.flush(ms),
      ),
    )
  }

  /** close() of a producer with an open transaction aborts it first, within close()'s bound. */
  async abortOpen(timeoutMs: number | undefined): Promise<void> {
    const txn = this.host.txn
    const s = txn?.state
    if (s !== 'inTransaction' && s !== 'abortableError' && s !== 'aborting') return
    await txn!
      .abort(
        timeoutMs ?? this.host.maxBlockMs,
        () => this.purge(),
        (ms) => this.host.flush(ms),
      )
      .catch(() => undefined)
  }

  private manager(call: string): TransactionManager {
    const txn = this.host.txn
    if (!txn) {
      throw new KafkaError(
        '_STATE',
        `${call} needs a transactional producer: set transactional.id in its config`,
      )
    }
    const closing = this.host.closing()
    if (closing) throw new KafkaError('_STATE', `${call}: the producer is ${closing}`)
    return txn
  }

  private async run(call: TimedCall, fn: () => Promise<void>): Promise<void> {
    const started = this.host.clock.now()
    this.running++
    this.host.keepAliveChanged()
    try {
      await fn()
    } finally {
      this.running--
      this.host.keepAliveChanged()
      this.host.recordTime(call, this.host.clock.now() - started)
    }
  }

  private bound(timeoutMs: number | undefined): number {
    return timeoutMs === undefined ? this.host.maxBlockMs : this.host.validTimeout(timeoutMs)
  }

  /** The aborted transaction's records that were not sent fail now (librdkafka's _PURGE_QUEUE). */
  private purge(): void {
    this.host.purgeUnsent(
      new KafkaError('_PURGE_QUEUE', 'the record was not sent: its transaction was aborted'),
    )
  }
}
