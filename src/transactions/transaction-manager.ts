import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import type { Connection } from '../network/connection.js'
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  EndTxnApi,
  InitProducerIdApi,
  ProduceApi,
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequestTopic,
} from '../protocol/index.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import {
  COORDINATOR_GROUP,
  COORDINATOR_TRANSACTION,
  Coordinators,
  type CoordinatorKeyType,
} from './coordinators.js'
import { assertTransition, type TransactionState } from './states.js'
import { errorFor, verdictFor, type CoordinatorRequest, type Verdict } from './verdicts.js'

/** The producer id and epoch a transactional producer stamps on its batches (KIP-98). */
export interface ProducerIdentity {
  readonly producerId: bigint
  readonly epoch: number
}

/**
 * Which transaction protocol a transaction uses. 1: classic (KIP-98): partitions join through
 * AddPartitionsToTxn before their first batch, offsets through AddOffsetsToTxn. 2: KIP-890's
 * transactions v2: the partition leader adds a partition when its first batch arrives (Produce
 * v12), TxnOffsetCommit v5 adds the offsets, and EndTxn v5 bumps the epoch on every commit/abort.
 */
export type TransactionGeneration = 1 | 2

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

export interface TransactionManagerDeps {
  transactionalId: string
  transactionTimeoutMs: number
  pool: Pick<ConnectionPool, 'get' | 'ready'>
  metadata: Pick<Metadata, 'brokers' | 'refresh'>
  clock: Clock
  random: RandomSource
  retryBackoffMs: number
  retryBackoffMaxMs: number
  /** Makes `id` the identity new batches are stamped with (and restarts the sequences). */
  setProducerId: (id: ProducerIdentity) => void
  /** The identity batches are stamped with now (null before the first InitProducerId). */
  producerId: () => ProducerIdentity | null
  /**
   * Whether a sequence is unresolved (a record that may have reached the broker was given up on):
   * aborting then bumps the epoch (KIP-360), so the next transaction's sequences start clean.
   */
  needsEpochBump: () => boolean
  /** Partitions were added or the state changed: the sender should look again. */
  wakeup: () => void
  /** The producer cannot continue: fail everything, make every call throw `err`. */
  onFatal: (err: KafkaError) => void
  /** Hears every change of state, after it happened. */
  onStateChange?: (state: TransactionState) => void
}

/** InitProducerId v6 is unstable (KIP-939). v3 is the first to bump an epoch (KIP-360). */
const INIT_PRODUCER_ID_MAX_VERSION = 5
const INIT_PRODUCER_ID_BUMP_MIN_VERSION = 3
/** AddPartitionsToTxn v4+ is the brokers' batched form (KIP-890); clients speak v3 and below. */
const ADD_PARTITIONS_MAX_VERSION = 3
/** The newest version of each request of the classic protocol (Java caps them the same way). */
const CLASSIC_MAX = { endTxn: 4, txnOffsetCommit: 4, produce: 11 } as const
/** KIP-890's: EndTxn v5 returns the bumped epoch; TxnOffsetCommit v5 adds the offsets itself. */
const V2_MAX = { endTxn: 5, txnOffsetCommit: 5, produce: 12 } as const
/** First wait after CONCURRENT_TRANSACTIONS (see Verdict 'retrySoon'); doubles up to retry.backoff.ms. */
export const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 20
/** Bounds of the pause before a transaction's first request after EndTxn (see markersDoneAt). */
const MARKER_GRACE_MIN_MS = 2
const MARKER_GRACE_MAX_MS = 10

/** Thrown inside a coordinator loop whose caller no longer wants the answer. */
class Cancelled extends Error {}

/**
 * The transactional producer's coordinator side (Java's TransactionManager): the state machine of
 * states.ts, InitProducerId with the transactional id (fencing older instances), the partitions and
 * offsets added to the open transaction, and EndTxn. The sender asks {@link isSendAllowed} before
 * draining a partition; the producer facade calls the transitions.
 *
 * Requests to the coordinator run one loop each: send, judge the answer (verdicts.ts), retry after a
 * backoff, look the coordinator up again when it moved. The caller's wait is bounded by its timeout;
 * commit and abort loops go on in the background after a timeout, so that calling again waits for
 * the same outcome (Java's semantics) instead of racing a second EndTxn.
 */
export class TransactionManager {
  private current: TransactionState = 'uninitialized'
  private lastErr: KafkaError | null = null
  private gen: TransactionGeneration = 1
  /** Partitions the coordinator has in the open transaction (classic protocol). */
  private readonly added = new Set<string>()
  /** Partitions with records that still have to be added (classic protocol). */
  private readonly pending = new Map<string, { topic: string; partition: number }>()
  private addingPartitions = false
  /** Counts transactions begun: a request of an ended transaction must not go on into the next. */
  private transactionCount = 0
  private pumpTimer: TimerHandle | null = null
  /**
   * Whether the coordinator may have a transaction open for us: a request that adds partitions or
   * offsets was sent (classic), or a Produce or TxnOffsetCommit that adds them itself (v2). Without
   * it, an abort or an empty commit needs no EndTxn (which a classic coordinator would refuse).
   */
  private started = false
  /** A sequence broke in this transaction: the epoch must be bumped when it is aborted (KIP-360). */
  private bumpRequired = false
  /**
   * When the previous transaction's markers are probably written. EndTxn is answered once the
   * coordinator has logged its decision; it writes the markers to the partitions after that, and a
   * request for the next transaction that arrives meanwhile meets CONCURRENT_TRANSACTIONS: classic
   * AddPartitionsToTxn gets it back (retried after 20 ms), and a KIP-890 Produce waits on the broker
   * for add.partitions.to.txn.retry.backoff.ms (20 ms, KAFKA-18654). Writing the markers takes
   * about as long as logging the decision did, so the first request of the next transaction waits
   * one EndTxn round trip after the answer, at least 2 ms and at most 10 ms. Measured on Kafka 4.4
   * (W4's 50 records per transaction, 600 transactions each): no wait, a mean of 9.5 ms per
   * transaction (a tenth of them 20 ms late); 1 ms, 5.8 ms; 2 ms, 4.9 ms; 3 ms, 5.9 ms; 4 ms, 6.5 ms.
   */
  private markersDoneAt = 0
  private initRun: Promise<void> | null = null
  private completion: { commit: boolean; run: Promise<void> } | null = null
  private offsetsRun: Promise<void> | null = null
  private closed = false
  private readonly coordinators: Coordinators

  constructor(private readonly deps: TransactionManagerDeps) {
    this.coordinators = new Coordinators({ pool: deps.pool, metadata: deps.metadata })
  }

  get state(): TransactionState {
    return this.current
  }

  /** The protocol of the open (or last) transaction. */
  get generation(): TransactionGeneration {
    return this.gen
  }

  /** The error that put the producer in `abortableError` or `fatalError` (null otherwise). */
  get lastError(): KafkaError | null {
    return this.lastErr
  }

  /** Newest Produce version for this transaction's batches (v12 means "add the partition yourself"). */
  get produceMaxVersion(): number {
    return this.gen === 2 ? V2_MAX.produce : CLASSIC_MAX.produce
  }

  // --- Transitions the producer calls ------------------------------------------------------------

  /**
   * InitProducerId with the transactional id: the coordinator fences older instances (bumps the
   * epoch) and aborts or finishes what they left open. Resolves once the producer is `ready`; a
   * second call while the first runs waits for the same run; rejects `_TIMED_OUT` (retriable) when
   * `timeoutMs` passes first, the run going on, so that calling again picks it up.
   */
  initTransactions(timeoutMs: number): Promise<void> {
    this.throwIfFatal()
    if (this.current === 'ready' && this.initRun === null) {
      return Promise.reject(
        new KafkaError('_STATE', 'initTransactions() was already called: the producer is ready'),
      )
    }
    if (this.current !== 'uninitialized' && this.current !== 'initializing') {
      return Promise.reject(
        new KafkaError('_STATE', `initTransactions() cannot be called in state ${this.current}`),
      )
    }
    if (!this.initRun) {
      this.enter('initializing')
      const run = this.initProducerId(null).then(
        () => {
          this.initRun = null
          this.enter('ready')
        },
        (err: unknown) => {
          this.initRun = null
          const e = KafkaError.wrap(err, '_TRANSPORT')
          if (e.fatal) this.toFatal(e)
          else if (this.current === 'initializing') this.enter('uninitialized')
          throw e
        },
      )
      run.catch(() => undefined) // the caller's wait reports it
      this.initRun = run
    }
    return this.waitBounded(this.initRun, timeoutMs, 'initTransactions()')
  }

  /** Opens a transaction (no request: the coordinator learns of it with the first partition). */
  beginTransaction(): void {
    this.throwIfFatal()
    if (this.current !== 'ready') {
      const hint =
        this.current === 'uninitialized' || this.current === 'initializing'
          ? 'call initTransactions() first'
          : this.current === 'inTransaction'
            ? 'a transaction is open already; commit or abort it first'
            : `the producer is ${this.current}`
      throw new KafkaError('_STATE', `beginTransaction(): ${hint}`)
    }
    this.gen = this.generationNow()
    this.added.clear()
    this.pending.clear()
    this.started = false
    this.bumpRequired = false
    this.transactionCount++
    this.enter('inTransaction')
  }

  /**
   * Throws unless a record may be produced now: only inside a transaction. After a failure the
   * error says the transaction must be aborted.
   */
  checkProduce(): void {
    switch (this.current) {
      case 'inTransaction':
        return
      case 'abortableError':
        throw this.mustAbort('cannot produce')
      case 'fatalError':
        throw this.lastErr!
      default:
        throw new KafkaError(
          '_STATE',
          `a transactional producer accepts records only inside a transaction (beginTransaction()); ` +
            `it is ${this.current}`,
        )
    }
  }

  /**
   * A record of the open transaction goes to `topic`/`partition` (called for each new batch). The
   * classic protocol adds the partition with AddPartitionsToTxn, several at once, while the
   * records keep batching (no wait on the produce path); its batches are held until it is added.
   */
  addPartition(topic: string, partition: number): void {
    if (this.gen === 2) return
    const key = `${partition}\u0000${topic}`
    if (this.added.has(key) || this.pending.has(key)) return
    this.pending.set(key, { topic, partition })
    this.pumpPartitions()
  }

  /** Whether batches for `topic`/`partition` may be sent now (its partition is in the transaction). */
  isSendAllowed(topic: string, partition: number): boolean {
    return this.gen === 2 || this.added.has(`${partition}\u0000${topic}`)
  }

  /** A Produce request with batches of this transaction is being sent (v2: it adds the partitions). */
  onProduceSent(): void {
    this.started = true
  }

  /**
   * Until when the transaction's first request waits for the previous transaction's markers (see
   * markersDoneAt); 0 when it need not wait.
   */
  firstRequestHeldUntil(now: number): number {
    return !this.started && this.markersDoneAt > now ? this.markersDoneAt : 0
  }

  /**
   * A record or request of the open transaction failed: only abortTransaction() leads on. `bump`:
   * the failure broke a sequence, so the epoch must be bumped after the abort (KIP-360).
   */
  abortableError(err: KafkaError, bump = false): void {
    if (bump) this.bumpRequired = true
    if (this.current !== 'inTransaction' && this.current !== 'committing') return
    this.lastErr = err
    this.enter('abortableError')
  }

  /** The producer cannot continue (fenced, not authorized). */
  fatalError(err: KafkaError): void {
    this.toFatal(err)
  }

  /**
   * Commits the open transaction: `flush(deadline)` must deliver every record first (it resolves
   * with how many are left); then EndTxn(commit). After a timeout the state stays `committing` and
   * calling again picks up where it stopped.
   */
  async commit(timeoutMs: number, flush: (timeoutMs: number) => Promise<number>): Promise<void> {
    const deadline = this.deps.clock.now() + timeoutMs
    this.throwIfFatal()
    if (this.completion && !this.completion.commit) {
      throw new KafkaError('_STATE', 'commitTransaction(): the transaction is being aborted')
    }
    if (this.current === 'abortableError') throw this.mustAbort('cannot commit')
    if (this.current !== 'inTransaction' && this.current !== 'committing') {
      throw new KafkaError(
        '_STATE',
        `commitTransaction(): no transaction is open (the producer is ${this.current})`,
      )
    }
    if (this.current === 'inTransaction') this.enter('committing')
    if (!this.completion) {
      // Offsets being added belong to this transaction: commit only after they are (within this
      // call's time; calling again waits on).
      if (this.offsetsRun) {
        await this.waitBounded(
          this.offsetsRun.catch(() => undefined),
          Math.max(0, deadline - this.deps.clock.now()),
          'commitTransaction()',
        )
      }
      const left = await flush(Math.max(0, deadline - this.deps.clock.now()))
      // A record failed while flushing: the transaction can only be aborted.
      if ((this.current as TransactionState) === 'abortableError') throw this.mustAbort('cannot commit')
      this.throwIfFatal()
      if (left > 0) {
        throw new KafkaError(
          '_TIMED_OUT',
          `commitTransaction() timed out after ${timeoutMs} ms with ${left} record(s) of the transaction ` +
            `still being delivered; call commitTransaction() again to keep waiting (a commit that began ` +
            `cannot be aborted)`,
          { retriable: true },
        )
      }
      // A second call made while this one flushed waited for the same records: one EndTxn for both.
      if (!this.completion) this.startCompletion(true)
    }
    await this.waitBounded(
      this.completion!.run,
      Math.max(0, deadline - this.deps.clock.now()),
      'commitTransaction()',
    )
  }

  /**
   * Aborts the open transaction: `purge()` fails the records not sent yet, `flush(deadline)` waits
   * for the ones in flight, then EndTxn(abort) and, if a sequence broke, an epoch bump (KIP-360).
   */
  async abort(
    timeoutMs: number,
    purge: () => void,
    flush: (timeoutMs: number) => Promise<number>,
  ): Promise<void> {
    const deadline = this.deps.clock.now() + timeoutMs
    this.throwIfFatal()
    if (this.completion?.commit || this.current === 'committing') {
      throw new KafkaError(
        '_STATE',
        'abortTransaction(): the transaction is being committed; call commitTransaction() again to wait for it',
      )
    }
    const s = this.current
    if (s !== 'inTransaction' && s !== 'abortableError' && s !== 'aborting') {
      throw new KafkaError('_STATE', `abortTransaction(): no transaction is open (the producer is ${s})`)
    }
    if (s !== 'aborting') this.enter('aborting')
    this.pending.clear()
    if (!this.completion) {
      purge()
      const left = await flush(Math.max(0, deadline - this.deps.clock.now()))
      this.throwIfFatal()
      if (left > 0) {
        throw new KafkaError(
          '_TIMED_OUT',
          `abortTransaction() timed out after ${timeoutMs} ms with ${left} record(s) still in flight; call ` +
            `abortTransaction() again to keep waiting`,
          { retriable: true },
        )
      }
      if (this.offsetsRun) await this.offsetsRun.catch(() => undefined)
      // A second call made while this one flushed waited for the same records: one EndTxn for both.
      if (!this.completion) this.startCompletion(false)
    }
    await this.waitBounded(
      this.completion!.run,
      Math.max(0, deadline - this.deps.clock.now()),
      'abortTransaction()',
    )
  }

  /**
   * Adds the consumer's positions to the open transaction: committed with it, dropped if it aborts
   * (consume-transform-produce). Classic: AddOffsetsToTxn, then TxnOffsetCommit to the group's
   * coordinator; v2: TxnOffsetCommit v5 alone.
   */
  async sendOffsets(
    offsets: readonly TransactionOffset[],
    group: ConsumerGroupMetadata,
    timeoutMs: number,
  ): Promise<void> {
    if (this.current === 'abortableError') throw this.mustAbort('cannot add offsets')
    this.throwIfFatal()
    if (this.current !== 'inTransaction') {
      throw new KafkaError(
        '_STATE',
        `sendOffsetsToTransaction() needs an open transaction (beginTransaction()); the producer is ${this.current}`,
      )
    }
    if (this.offsetsRun) await this.offsetsRun.catch(() => undefined)
    const topics = offsetTopics(offsets)
    if (topics.length === 0) return
    const deadline = this.deps.clock.now() + timeoutMs
    // A commit called meanwhile waits for these offsets: only an abort (or this call's timeout)
    // stops adding them.
    // Not cancelled by this call's timeout: as in Java, the offsets keep being added, and a commit
    // waits for them, so a commit after a timed-out call never goes through without them.
    const cancelled = (): boolean => this.current !== 'inTransaction' && this.current !== 'committing'
    const run = (async () => {
      const txnId = this.deps.transactionalId
      if (this.gen === 1) {
        const id = this.identity()
        this.started = true
        await this.coordinatorLoop(
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
          cancelled,
        )
      }
      const id = this.identity()
      this.started = true
      const maxVersion = this.gen === 2 ? V2_MAX.txnOffsetCommit : CLASSIC_MAX.txnOffsetCommit
      await this.coordinatorLoop(
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
        cancelled,
      )
    })()
    const judged = run.catch((err: unknown) => {
      const e = KafkaError.wrap(err, '_TRANSPORT')
      if (e.fatal) this.toFatal(e)
      else if (e.txnRequiresAbort) this.abortableError(e)
      throw err instanceof Cancelled ? err : e
    })
    this.offsetsRun = judged.finally(() => {
      this.offsetsRun = null
    })
    this.offsetsRun.catch(() => undefined)
    await this.waitBounded(
      judged,
      Math.max(0, deadline - this.deps.clock.now()),
      'sendOffsetsToTransaction()',
    )
  }

  /** Stops every loop (the producer is closing); their waits end with `_DESTROY`. */
  close(): void {
    this.closed = true
  }

  // --- Internals ---------------------------------------------------------------------------------

  private enter(next: TransactionState): void {
    assertTransition(this.current, next)
    this.current = next
    this.deps.onStateChange?.(next)
    this.deps.wakeup()
  }

  private toFatal(err: KafkaError): void {
    if (this.current === 'fatalError') return
    this.lastErr = err
    this.enter('fatalError')
    this.deps.onFatal(err)
  }

  private throwIfFatal(): void {
    if (this.current === 'fatalError') throw this.lastErr!
  }

  /** The abortable error, restated for a call that cannot go on until the transaction is aborted. */
  private mustAbort(what: string): KafkaError {
    const last = this.lastErr!
    return new KafkaError(
      last.code,
      `${what}: the transaction failed and must be aborted first (abortTransaction()): ${last.message}`,
      { kafkaCode: last.kafkaCode, txnRequiresAbort: true, cause: last },
    )
  }

  private identity(): ProducerIdentity {
    const id = this.deps.producerId()
    if (!id) throw new KafkaError('_STATE', 'the transactional producer has no producer id')
    return id
  }

  /**
   * The generation for the next transaction, from the finalized feature `transaction.version` the
   * coordinator's broker reported in its last handshake (re-read after every reconnect): 2 needs
   * level 2 and the versions that carry it (EndTxn v5, Produce v12). Java decides the same way.
   */
  private generationNow(): TransactionGeneration {
    const address = this.coordinators.cached(COORDINATOR_TRANSACTION, this.deps.transactionalId)
    const conn = address ? this.deps.pool.ready(address.nodeId) : null
    if (!conn) return this.gen
    return generationOf(conn)
  }

  private startCompletion(commit: boolean): void {
    const run = this.endTransaction(commit).then(
      () => {
        this.completion = null
      },
      (err: unknown) => {
        this.completion = null
        const e = KafkaError.wrap(err, '_TRANSPORT')
        if (e.fatal) this.toFatal(e)
        else if (e.txnRequiresAbort && commit) this.abortableError(e)
        throw e
      },
    )
    run.catch(() => undefined)
    this.completion = { commit, run }
  }

  private async endTransaction(commit: boolean): Promise<void> {
    const txnId = this.deps.transactionalId
    if (this.started) {
      const sentAt = this.deps.clock.now()
      const id = this.identity()
      const maxVersion = this.gen === 2 ? V2_MAX.endTxn : CLASSIC_MAX.endTxn
      const res = await this.coordinatorLoop(
        commit ? 'EndTxn(commit)' : 'EndTxn(abort)',
        COORDINATOR_TRANSACTION,
        txnId,
        (conn) =>
          conn.request(
            EndTxnApi,
            { transactionalId: txnId, producerId: id.producerId, producerEpoch: id.epoch, committed: commit },
            { maxVersion },
          ),
        // An abort the coordinator answers INVALID_TXN_STATE has nothing to abort: the classic
        // coordinator has no open transaction (every AddPartitionsToTxn sent was refused, e.g.
        // TOPIC_AUTHORIZATION_FAILED, so nothing was ever added). Nothing of it can become
        // visible; failing the producer for it would turn an abortable error into a fatal one.
        (r) => (!commit && r.errorCode === ErrorCode.INVALID_TXN_STATE ? 0 : r.errorCode),
        () => false,
      )
      const now = this.deps.clock.now()
      this.markersDoneAt = now + Math.min(MARKER_GRACE_MAX_MS, Math.max(MARKER_GRACE_MIN_MS, now - sentAt))
      // v5 (KIP-890): the coordinator bumped the epoch (or, when it ran out, gave a new producer id).
      if (this.gen === 2 && res.producerId >= 0n && res.producerEpoch >= 0) {
        this.deps.setProducerId({ producerId: res.producerId, epoch: res.producerEpoch })
        this.bumpRequired = false
      }
    }
    if (!commit && (this.bumpRequired || this.deps.needsEpochBump())) {
      // KIP-360: a broken sequence is repaired by a new epoch from the coordinator, only possible
      // once the transaction is aborted.
      this.enter('initializing')
      try {
        await this.initProducerId(this.identity())
      } catch (err) {
        const e = KafkaError.wrap(err, '_TRANSPORT')
        throw new KafkaError(e.code, e.message, { kafkaCode: e.kafkaCode, fatal: true, cause: e })
      }
    }
    this.added.clear()
    this.pending.clear()
    this.bumpRequired = false
    this.enter('ready')
  }

  /** InitProducerId: a new identity (`bump` null) or, KIP-360, the next epoch of `bump`. */
  private async initProducerId(bump: ProducerIdentity | null): Promise<void> {
    const txnId = this.deps.transactionalId
    let generation: TransactionGeneration = this.gen
    const res = await this.coordinatorLoop(
      'InitProducerId',
      COORDINATOR_TRANSACTION,
      txnId,
      (conn) => {
        const version = conn.versionFor(InitProducerIdApi, INIT_PRODUCER_ID_MAX_VERSION)
        if (bump && version < INIT_PRODUCER_ID_BUMP_MIN_VERSION) {
          throw new KafkaError(
            '_UNSUPPORTED_FEATURE',
            `the transaction coordinator ${conn.address} speaks InitProducerId only up to v${version}, and an ` +
              `epoch bump after a broken sequence needs v${INIT_PRODUCER_ID_BUMP_MIN_VERSION} (Kafka 2.5)`,
            { fatal: true },
          )
        }
        generation = generationOf(conn)
        return conn.request(
          InitProducerIdApi,
          {
            transactionalId: txnId,
            transactionTimeoutMs: this.deps.transactionTimeoutMs,
            producerId: bump ? bump.producerId : -1n,
            producerEpoch: bump ? bump.epoch : -1,
            enable2Pc: false,
            keepPreparedTxn: false,
          },
          { maxVersion: INIT_PRODUCER_ID_MAX_VERSION },
        )
      },
      (r) => r.errorCode,
      () => false,
    )
    if (res.producerId < 0n || res.producerEpoch < 0) {
      throw new KafkaError(
        '_BAD_MSG',
        `InitProducerId answered without an error but with producer id ${res.producerId} epoch ${res.producerEpoch}`,
        { fatal: true },
      )
    }
    this.gen = generation
    this.deps.setProducerId({ producerId: res.producerId, epoch: res.producerEpoch })
  }

  /**
   * Sends AddPartitionsToTxn for the partitions waiting to join, one request at a time (more
   * partitions gather meanwhile and go in the next one), until none is left.
   */
  private pumpPartitions(): void {
    if (this.addingPartitions || this.pending.size === 0 || this.closed) return
    if (this.current !== 'inTransaction' && this.current !== 'committing') return
    const heldUntil = this.firstRequestHeldUntil(this.deps.clock.now())
    if (heldUntil > 0) {
      if (this.pumpTimer) return
      this.pumpTimer = this.deps.clock.setTimeout(() => {
        this.pumpTimer = null
        this.markersDoneAt = 0
        this.pumpPartitions()
      }, heldUntil - this.deps.clock.now())
      return
    }
    this.addingPartitions = true
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
    const cancelled = (): boolean =>
      count !== this.transactionCount || (this.current !== 'inTransaction' && this.current !== 'committing')
    let id: ProducerIdentity
    try {
      id = this.identity()
    } catch (err) {
      this.addingPartitions = false
      this.abortableError(KafkaError.wrap(err))
      return
    }
    this.started = true
    this.coordinatorLoop(
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
          res.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((p) => p.partitionErrorCode)),
          res.errorCode,
        ),
      cancelled,
    ).then(
      () => {
        this.addingPartitions = false
        for (const [key] of batch) {
          this.pending.delete(key)
          this.added.add(key)
        }
        this.deps.wakeup()
        this.pumpPartitions()
      },
      (err: unknown) => {
        this.addingPartitions = false
        // The partitions of a newer transaction may have waited for this request to end.
        if (err instanceof Cancelled) return this.pumpPartitions()
        const e = KafkaError.wrap(err, '_TRANSPORT')
        if (e.fatal) this.toFatal(e)
        else this.abortableError(e)
      },
    )
  }

  /**
   * One coordinator request until it succeeds: judge each answer's error code, retry after a
   * backoff, look the coordinator up again when it moved or its connection failed. Rejects with
   * the error for an abortable or fatal answer, with `_DESTROY` once closed, and with
   * {@link Cancelled} once `cancelled()` says the answer is no longer wanted.
   */
  private async coordinatorLoop<Res>(
    request: CoordinatorRequest,
    keyType: CoordinatorKeyType,
    key: string,
    send: (conn: Connection) => Promise<Res>,
    errorCode: (res: Res) => number,
    cancelled: () => boolean,
  ): Promise<Res> {
    const { clock, random, retryBackoffMs, retryBackoffMaxMs } = this.deps
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new KafkaError('_DESTROY', `producer closed during ${request}`)
      if (cancelled()) throw new Cancelled()
      let verdict: Verdict
      try {
        const conn = await this.coordinators.connection(keyType, key)
        const res = await send(conn)
        const code = errorCode(res)
        if (code === 0) return res
        verdict = verdictFor(request, code)
        if (verdict === 'abortable' || verdict === 'fatal') {
          throw errorFor(request, code, verdict, this.deps.transactionalId)
        }
      } catch (err) {
        if (err instanceof Cancelled) throw err
        const e = KafkaError.wrap(err, '_TRANSPORT')
        if (e.fatal || e.txnRequiresAbort || !e.retriable) throw e
        // A lost connection or a timeout: the coordinator may have moved with it.
        verdict = 'refind'
      }
      if (verdict === 'refind') this.coordinators.invalidate(keyType, key)
      const wait =
        verdict === 'retrySoon'
          ? backoffMs(attempt, CONCURRENT_TRANSACTIONS_BACKOFF_MS, retryBackoffMs, random)
          : backoffMs(attempt, retryBackoffMs, retryBackoffMaxMs, random)
      await new Promise<void>((resolve) => clock.setTimeout(resolve, wait))
    }
  }

  /** Waits for `run` at most `timeoutMs`; on timeout rejects `_TIMED_OUT` (retriable) and leaves `run` going. */
  private waitBounded(run: Promise<void>, timeoutMs: number, call: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => {
        reject(
          new KafkaError(
            '_TIMED_OUT',
            `${call} did not complete within ${timeoutMs} ms (the coordinator did not answer in time); ` +
              `call it again to keep waiting`,
            { retriable: true },
          ),
        )
      }, timeoutMs)
      run.then(
        () => {
          this.deps.clock.clearTimeout(timer)
          resolve()
        },
        (err: unknown) => {
          this.deps.clock.clearTimeout(timer)
          reject(err instanceof Cancelled ? new KafkaError('_STATE', `${call} was superseded`) : err)
        },
      )
    })
  }
}

/** Whether `conn`'s broker runs KIP-890's transactions (see TransactionManager.generationNow). */
function generationOf(conn: Connection): TransactionGeneration {
  const level = conn.finalizedFeatures.get('transaction.version') ?? 0
  const endTxn = conn.apiVersions.get(EndTxnApi.apiKey)?.maxVersion ?? -1
  const produce = conn.apiVersions.get(ProduceApi.apiKey)?.maxVersion ?? -1
  return level >= 2 && endTxn >= V2_MAX.endTxn && produce >= V2_MAX.produce ? 2 : 1
}

/**
 * The code that decides a per-partition answer: a request-level one first, then the first partition
 * error that is not OPERATION_NOT_ATTEMPTED (which only says another partition's error stopped this
 * one: the cause decides whether to retry), or 0.
 */
function firstError(codes: readonly number[], top = 0): number {
  if (top !== 0) return top
  let notAttempted = 0
  for (const c of codes) {
    if (c === ErrorCode.OPERATION_NOT_ATTEMPTED) notAttempted = c
    else if (c !== 0) return c
  }
  return notAttempted
}

/** Offsets grouped by topic for TxnOffsetCommit, validated (they come from application code). */
function offsetTopics(offsets: readonly TransactionOffset[]): TxnOffsetCommitRequestTopic[] {
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
