import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import { EndTxnApi, InitProducerIdApi } from '../protocol/index.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import { COORDINATOR_TRANSACTION, Coordinators } from './coordinators.js'
import { MarkersPause } from './markers-pause.js'
import { CLASSIC_MAX, generationOf, V2_MAX, type TransactionGeneration } from './generation.js'
import { addOffsetsToTransaction, offsetTopics } from './offsets.js'
import { PartitionJoiner } from './partitions.js'
import { Cancelled, CoordinatorRequests, waitBounded } from './requests.js'
import { assertTransition, type TransactionState } from './states.js'
import type { ConsumerGroupMetadata, ProducerIdentity, TransactionOffset } from './types.js'

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
  /** The classic protocol's partitions of the open transaction (AddPartitionsToTxn). */
  private readonly partitions: PartitionJoiner
  /**
   * Whether the coordinator may have a transaction open for us: a request that adds partitions or
   * offsets was sent (classic), or a Produce or TxnOffsetCommit that adds them itself (v2). Without
   * it, an abort or an empty commit needs no EndTxn (which a classic coordinator would refuse).
   */
  private started = false
  /** A sequence broke in this transaction: the epoch must be bumped when it is aborted (KIP-360). */
  private bumpRequired = false
  /** The pause before the next transaction's first request, while markers are written. */
  private readonly markers: MarkersPause
  private initRun: Promise<void> | null = null
  private completion: { commit: boolean; run: Promise<void> } | null = null
  private offsetsRun: Promise<void> | null = null
  private closed = false
  private readonly coordinators: Coordinators
  /** Each coordinator request's send-judge-retry loop (requests.ts). */
  private readonly requests: CoordinatorRequests

  constructor(private readonly deps: TransactionManagerDeps) {
    this.coordinators = new Coordinators({ pool: deps.pool, metadata: deps.metadata })
    this.requests = new CoordinatorRequests({
      coordinators: this.coordinators,
      transactionalId: deps.transactionalId,
      clock: deps.clock,
      random: deps.random,
      retryBackoffMs: deps.retryBackoffMs,
      retryBackoffMaxMs: deps.retryBackoffMaxMs,
      isClosed: () => this.closed,
    })
    this.markers = new MarkersPause({
      connection: () => this.coordinators.connection(COORDINATOR_TRANSACTION, deps.transactionalId),
      transactionalId: deps.transactionalId,
      clock: deps.clock,
      isClosed: () => this.closed,
      wakeup: () => deps.wakeup(),
    })
    this.partitions = new PartitionJoiner({
      requests: this.requests,
      transactionalId: deps.transactionalId,
      clock: deps.clock,
      isOpen: () => !this.closed && (this.current === 'inTransaction' || this.current === 'committing'),
      heldUntil: (now) => this.firstRequestHeldUntil(now),
      releaseHold: () => {
        this.markers.release()
      },
      identity: () => this.identity(),
      onSending: () => {
        this.started = true
      },
      onAdded: () => this.deps.wakeup(),
      onFailed: (e) => {
        if (e.fatal) this.toFatal(e)
        else this.abortableError(e)
      },
    })
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
    return waitBounded(this.deps.clock, this.initRun, timeoutMs, 'initTransactions()')
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
    this.partitions.newTransaction()
    this.started = false
    this.bumpRequired = false
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
    if (this.gen !== 2) this.partitions.add(topic, partition)
  }

  /** Whether batches for `topic`/`partition` may be sent now (its partition is in the transaction). */
  isSendAllowed(topic: string, partition: number): boolean {
    return this.gen === 2 || this.partitions.has(topic, partition)
  }

  /** A Produce request with batches of this transaction is being sent (v2: it adds the partitions). */
  onProduceSent(): void {
    this.started = true
  }

  /**
   * Until when the transaction's first request waits for the previous transaction's markers (see
   * MarkersPause); 0 when it need not wait.
   */
  firstRequestHeldUntil(now: number): number {
    return this.started ? 0 : this.markers.heldUntil(now)
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
        await waitBounded(
          this.deps.clock,
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
    await waitBounded(
      this.deps.clock,
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
    this.partitions.dropPending()
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
    await waitBounded(
      this.deps.clock,
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
    const run = addOffsetsToTransaction(
      {
        requests: this.requests,
        transactionalId: this.deps.transactionalId,
        generation: () => this.gen,
        identity: () => this.identity(),
        onSending: () => {
          this.started = true
        },
        cancelled,
      },
      group,
      topics,
    )
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
    await waitBounded(
      this.deps.clock,
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
      const res = await this.requests.run(
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
      this.markers.afterEndTxn(sentAt, this.gen === 2)
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
    this.partitions.clear()
    this.bumpRequired = false
    this.enter('ready')
  }

  /** InitProducerId: a new identity (`bump` null) or, KIP-360, the next epoch of `bump`. */
  private async initProducerId(bump: ProducerIdentity | null): Promise<void> {
    const txnId = this.deps.transactionalId
    let generation: TransactionGeneration = this.gen
    const res = await this.requests.run(
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
}
