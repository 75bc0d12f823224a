import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import type { Connection } from '../network/connection.js'
import { InitProducerIdApi, ProduceApi } from '../protocol/index.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { ProducerBatch } from './batch.js'
import type { IdempotenceState } from './idempotence.js'

/**
 * Where the producer's identity is (KIP-98, KIP-360). The transactions issue grows this into
 * Java's TransactionManager states (inTransaction, committing, aborting, abortableError).
 *
 * - `uninitialized`: no producer id (at start, after a retriable InitProducerId failure, or when the
 *   epoch is exhausted); one is asked for once the retry backoff allows.
 * - `initializing`: an InitProducerId request is out.
 * - `ready`: batches may be stamped and sent.
 * - `bumpPending`: a sequence can no longer be trusted; the epoch is bumped once no Produce request
 *   is outstanding (a bump while requests are in flight could resend a batch the broker already
 *   wrote under a new epoch, where it would not be recognised as a duplicate).
 * - `fatal`: the producer cannot go on (fenced, not authorized, no InitProducerId on the broker).
 */
export type ProducerIdState = 'uninitialized' | 'initializing' | 'ready' | 'bumpPending' | 'fatal'

/** The legal changes of state; anything else is a bug and throws. */
export const PRODUCER_ID_TRANSITIONS: Readonly<Record<ProducerIdState, readonly ProducerIdState[]>> = {
  uninitialized: ['initializing', 'fatal'],
  // Got an id; a retriable failure (backoff, then again); a fatal one.
  initializing: ['ready', 'uninitialized', 'fatal'],
  // A batch's sequence broke (expired after sending, OUT_OF_ORDER, UNKNOWN_PRODUCER_ID...).
  ready: ['bumpPending', 'fatal'],
  // Bumped locally; or the epoch was exhausted and a new id is needed.
  bumpPending: ['ready', 'uninitialized', 'fatal'],
  fatal: [],
}

/** InitProducerId v6 is marked unstable in Kafka's definitions (2PC, KIP-939). */
const INIT_PRODUCER_ID_MAX_VERSION = 5
/** InitProducerId errors after which asking again may succeed. */
const INIT_RETRIABLE = new Set<number>([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.CONCURRENT_TRANSACTIONS,
])

export interface ProducerIdManagerDeps {
  /** The sequence bookkeeping (pure, no I/O); this manager drives its lifecycle. */
  idempotence: IdempotenceState
  pool: Pick<ConnectionPool, 'get' | 'ready'>
  metadata: Pick<Metadata, 'brokers' | 'requestUpdate'>
  clock: Clock
  random: RandomSource
  retryBackoffMs: number
  retryBackoffMaxMs: number
  /** Sent with InitProducerId (only meaningful for transactional producers). */
  transactionTimeoutMs: number
  /** Called once when the producer can no longer continue. */
  onFatal: (err: KafkaError) => void
  /** Something changed (an id arrived, a backoff ended): the sender should look again. */
  wakeup: () => void
  /** Hears every change of state, after it happened (Producer.connect() waits for 'ready'). */
  onStateChange?: (state: ProducerIdState) => void
}

/**
 * Gets and keeps the producer id and epoch an idempotent producer stamps on its batches: the
 * InitProducerId client, the epoch bump after a broken sequence, and the fatal stop. The sender
 * asks {@link maySend} before every round of sending; the response handler only flags what it
 * saw (IdempotenceState.requestBump / setFatal), and the next {@link maySend} acts on it.
 */
export class ProducerIdManager {
  private current: ProducerIdState = 'uninitialized'
  private attempts = 0
  private retryAt = 0
  private fatalReported = false
  private lastFailure: KafkaError | null = null

  constructor(private readonly deps: ProducerIdManagerDeps) {}

  get state(): ProducerIdState {
    return this.current
  }

  /** Why the last InitProducerId attempt failed, or null once an id arrived (or before any attempt). */
  get lastError(): KafkaError | null {
    return this.lastFailure
  }

  /** When a producer id may be asked for again (0 when not waiting for a backoff). */
  get nextAttemptAt(): number {
    return this.current === 'uninitialized' ? this.retryAt : 0
  }

  /**
   * Whether batches may be stamped and sent now. Carries out what is due: reports a fatal error,
   * bumps the epoch once `outstandingRequests` is 0 (restamping `queued()` batches), asks for a
   * producer id when there is none and the backoff allows.
   */
  maySend(now: number, outstandingRequests: number, queued: () => Iterable<ProducerBatch>): boolean {
    const idem = this.deps.idempotence
    if (idem.fatal) {
      this.enterFatal(idem.fatal)
      return false
    }
    if (this.current === 'ready' && idem.ready) return true
    if (this.current === 'ready') this.enter('bumpPending')
    if (this.current === 'bumpPending') {
      if (outstandingRequests > 0) return false
      idem.bumpEpoch(queued())
      if (idem.ready) {
        this.enter('ready')
        return true
      }
      this.enter('uninitialized') // epoch exhausted: a new producer id
    }
    if (this.current === 'uninitialized' && this.retryAt <= now && outstandingRequests === 0) {
      this.initProducerId()
    }
    return false
  }

  private enter(next: ProducerIdState): void {
    if (!PRODUCER_ID_TRANSITIONS[this.current].includes(next)) {
      throw new Error(`producer id: illegal state change ${this.current} → ${next}`)
    }
    this.current = next
    this.deps.onStateChange?.(next)
  }

  private enterFatal(err: KafkaError): void {
    if (this.current !== 'fatal') this.enter('fatal')
    if (this.fatalReported) return
    this.fatalReported = true
    this.deps.onFatal(err)
  }

  /** InitProducerId (KIP-98) to any broker: a non-transactional producer needs no coordinator. */
  private initProducerId(): void {
    const { metadata, pool, idempotence: idem } = this.deps
    const brokers = [...metadata.brokers.values()]
    if (brokers.length === 0) {
      metadata.requestUpdate(true)
      return
    }
    const broker = brokers.find((b) => pool.ready(b.nodeId)) ?? brokers[this.attempts % brokers.length]!
    this.enter('initializing')
    this.attempts++
    const retryLater = (err: KafkaError): void => {
      this.lastFailure = err
      this.enter('uninitialized')
      this.retryAt =
        this.deps.clock.now() +
        backoffMs(this.attempts, this.deps.retryBackoffMs, this.deps.retryBackoffMaxMs, this.deps.random)
      this.deps.wakeup()
    }
    // Reported by the next maySend(), from the sender's pass, like a fatal Produce answer.
    const fail = (err: KafkaError): void => {
      idem.setFatal(err)
      this.deps.wakeup()
    }
    pool
      .get(broker)
      .then((conn) => {
        // A broker without InitProducerId will not have it on the next attempt either: fatal now,
        // instead of asking again until every record has timed out.
        try {
          conn.versionFor(InitProducerIdApi, INIT_PRODUCER_ID_MAX_VERSION)
        } catch (err) {
          throw idempotenceUnsupported(conn, err)
        }
        return conn.request(
          InitProducerIdApi,
          {
            transactionalId: null,
            transactionTimeoutMs: this.deps.transactionTimeoutMs,
            producerId: -1n,
            producerEpoch: -1,
            enable2Pc: false,
            keepPreparedTxn: false,
          },
          { maxVersion: INIT_PRODUCER_ID_MAX_VERSION },
        )
      })
      .then(
        (res) => {
          if (this.current !== 'initializing') return // failed meanwhile (fatal error)
          if (res.errorCode === 0) {
            this.attempts = 0
            this.lastFailure = null
            idem.setProducerId({ producerId: res.producerId, epoch: res.producerEpoch })
            this.enter('ready')
            this.deps.wakeup()
            return
          }
          const err = KafkaError.fromKafkaCode(res.errorCode)
          if (INIT_RETRIABLE.has(res.errorCode) || err.retriable) {
            retryLater(err)
            return
          }
          // KIP-679: Kafka 3.0+ lets a principal write idempotently when it may Write on some topic;
          // older brokers want IdempotentWrite on the cluster.
          const advice =
            err.code === 'CLUSTER_AUTHORIZATION_FAILED'
              ? ': the principal needs Write on a topic (Kafka 3.0+) or IdempotentWrite on the cluster, ' +
                "or set 'enable.idempotence: false'"
              : ''
          fail(
            new KafkaError(
              err.code,
              `cannot get a producer id for idempotence: InitProducerId answered ${err.code} ` +
                `(${err.message})${advice}`,
              { kafkaCode: res.errorCode, fatal: true },
            ),
          )
        },
        (err: unknown) => {
          if (this.current !== 'initializing') return
          const e = KafkaError.wrap(err, '_TRANSPORT')
          if (e.fatal) fail(e)
          else retryLater(e)
        },
      )
  }
}

/**
 * The fatal error for a broker that cannot give an idempotent producer its id (Kafka before 0.11, or a
 * Kafka-compatible service without idempotent producers). As in Java, idempotence left at its default
 * (on) fails the same way as idempotence set explicitly: it is never dropped silently.
 */
function idempotenceUnsupported(conn: Connection, cause: unknown): KafkaError {
  const initRange = conn.apiVersions.get(InitProducerIdApi.apiKey)
  const produce = conn.apiVersions.get(ProduceApi.apiKey)
  const situation = initRange
    ? `supports InitProducerId (apiKey ${InitProducerIdApi.apiKey}) only in versions ` +
      `${initRange.minVersion}-${initRange.maxVersion}, none of which this client speaks`
    : `does not support InitProducerId (apiKey ${InitProducerIdApi.apiKey}), so it is older than Kafka 0.11 ` +
      `(or a Kafka-compatible service without idempotent producers)`
  // Produce v3 (RecordBatch v2) came with 0.11 too: such a broker takes no records from this client.
  const advice =
    produce !== undefined && produce.maxVersion < ProduceApi.minVersion
      ? `Upgrade the broker to Kafka 0.11 or newer: it accepts Produce only up to v${produce.maxVersion} and ` +
        `this client needs v${ProduceApi.minVersion} to send any record, so 'enable.idempotence: false' ` +
        `would not help`
      : `Set 'enable.idempotence: false' to produce without idempotence (a retried batch may then be ` +
        `written twice), or upgrade the broker to Kafka 0.11 or newer`
  return new KafkaError(
    '_UNSUPPORTED_FEATURE',
    `cannot get a producer id for idempotence (enable.idempotence, on by default): broker ${conn.address} ` +
      `${situation}. ${advice}`,
    { fatal: true, cause },
  )
}
