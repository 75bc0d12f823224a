import type { Connection } from '../network/connection.js'
import { ErrorCode } from '../errors/index.js'
import { DescribeTransactionsApi } from '../protocol/index.js'
import type { Clock } from '../util/clock.js'

/**
 * The fixed pause's bounds: one EndTxn round trip after its answer, at least 2 ms and at most 10 ms.
 * Measured on Kafka 4.4 (W4's 50 records per transaction, 600 transactions each): no pause, a mean
 * of 9.5 ms per transaction (a tenth of them 20 ms late); 1 ms, 5.8 ms; 2 ms, 4.9 ms; 3 ms, 5.9 ms;
 * 4 ms, 6.5 ms.
 */
const GRACE_MIN_MS = 2
const GRACE_MAX_MS = 10
/**
 * The longest a first Produce waits for the coordinator to say the markers are written: the
 * broker's own hold (add.partitions.to.txn.retry.backoff.ms) is 20 ms, so waiting longer than that
 * would cost more than being held.
 */
const WATCH_MAX_MS = 20

/**
 * Coordinator states (TransactionState.java, as DescribeTransactions names them) in which the
 * previous transaction's markers are still being written into its partitions.
 */
const WRITING_MARKERS: ReadonlySet<string> = new Set(['PrepareCommit', 'PrepareAbort', 'PrepareEpochFence'])

export interface MarkersWatchDeps {
  /** The transaction coordinator's connection (looked up as for EndTxn). */
  connection: () => Promise<Connection>
  transactionalId: string
  clock: Clock
  /** The producer is closing: no more questions (and no new connection for them). */
  isClosed: () => boolean
}

/**
 * How a watch ended: markers written; still writing at the deadline; a lookup or request failed, or
 * the coordinator answered an error that may pass (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
 * ...); or the broker will not tell this producer: no DescribeTransactions, or
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED under an authorizer that grants WRITE without DESCRIBE.
 */
export type MarkersWatchEnd = 'written' | 'deadline' | 'failed' | 'unsupported'

/**
 * Asks the coordinator with DescribeTransactions (KIP-664, Kafka 3.0 and newer) until it has
 * written the markers of the transaction EndTxn just ended, or until `deadline`. Each question is
 * one round trip to the coordinator; they follow one another.
 */
export async function watchMarkers(deps: MarkersWatchDeps, deadline: number): Promise<MarkersWatchEnd> {
  for (;;) {
    if (deps.isClosed()) return 'failed'
    let conn: Connection
    try {
      conn = await deps.connection()
    } catch {
      return 'failed'
    }
    if (!conn.apiVersions.has(DescribeTransactionsApi.apiKey)) return 'unsupported'
    let state: string
    try {
      const res = await conn.request(DescribeTransactionsApi, { transactionalIds: [deps.transactionalId] })
      const t = res.transactionStates[0]
      if (t === undefined) return 'failed'
      if (t.errorCode === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) return 'unsupported'
      if (t.errorCode !== 0) return 'failed'
      state = t.transactionState
    } catch {
      return 'failed'
    }
    if (!WRITING_MARKERS.has(state)) return 'written'
    if (deps.clock.now() >= deadline) return 'deadline'
  }
}

export interface MarkersPauseDeps extends MarkersWatchDeps {
  /** The pause ended early: the sender should look again. */
  wakeup: () => void
}

/**
 * The pause between one transaction's EndTxn answer and the next transaction's first request.
 *
 * Why: EndTxn is answered once the coordinator has logged its decision; it writes the markers to
 * the partitions after that, and a request of the next transaction that arrives meanwhile meets
 * CONCURRENT_TRANSACTIONS: the classic AddPartitionsToTxn gets it back (retried after 20 ms), and a
 * KIP-890 Produce waits on the broker for add.partitions.to.txn.retry.backoff.ms (20 ms,
 * KAFKA-18654).
 *
 * - KIP-890, with a coordinator that answers DescribeTransactions: the pause lasts until the
 *   coordinator says the markers are written, at most 20 ms. Measured in W4 (Kafka 4.4, three
 *   alternating runs): 7,612 / 7,528 / 8,508 records/s and p99 30-32 ms with the fixed pause;
 *   9,114 / 10,920 / 11,965 records/s and p99 16-24 ms asking.
 * - Otherwise (classic protocol, whose AddPartitionsToTxn waits on its own timer in partitions.ts;
 *   older brokers; a failed question): a fixed pause of one EndTxn round trip, 2 to 10 ms, as
 *   writing the markers takes about as long as logging the decision did.
 */
export class MarkersPause {
  private until = 0
  /** Off once the coordinator could not answer DescribeTransactions: not asked again. */
  private ask = true

  constructor(private readonly deps: MarkersPauseDeps) {}

  /** EndTxn, sent at `sentAt`, was answered now. `kip890`: the transaction used the KIP-890 protocol. */
  afterEndTxn(sentAt: number, kip890: boolean): void {
    const now = this.deps.clock.now()
    const graceAt = now + Math.min(GRACE_MAX_MS, Math.max(GRACE_MIN_MS, now - sentAt))
    if (!kip890 || !this.ask) {
      this.until = graceAt
      return
    }
    const capAt = now + WATCH_MAX_MS
    this.until = capAt
    void watchMarkers(this.deps, capAt).then((end) => {
      if (end === 'unsupported') this.ask = false
      // Only the pause this watch was started for: a later EndTxn (or release) set its own.
      if (this.until !== capAt || end === 'deadline') return
      this.until = end === 'written' ? 0 : graceAt
      this.deps.wakeup()
    })
  }

  /** Until when the next transaction's first request waits; 0 when it need not. */
  heldUntil(now: number): number {
    return this.until > now ? this.until : 0
  }

  /** The pause is over (the classic protocol's timer ran out): requests go without asking again. */
  release(): void {
    this.until = 0
  }
}
