// Transactions when the transaction coordinator crashes, on a real 3-node KRaft cluster (replication
// 3, min.insync.replicas 2, __transaction_state replicated the same way). One transactional producer
// runs numbered transactions over a 6-partition topic, and the node that Kafka's own
// TransactionsCommand names as the coordinator of its transactional.id is SIGKILLed:
//
//   (a) right after commitTransaction() was called, before it is awaited: once with records still on
//       their way (the SIGKILL comes before the EndTxn request is written), once with every record
//       delivered (the SIGKILL comes just after EndTxn was sent, while the coordinator handles it);
//   (b) in the middle of a long transaction, while its records are being produced; it is then
//       committed, and in a second round aborted.
//
// The application handles errors as docs/transactions.md says: commitTransaction() or
// abortTransaction() again after a retriable _TIMED_OUT, abortTransaction() after an error with
// txnRequiresAbort (the transaction then counts as aborted); a fatal error fails the test. Short
// transactions keep running while a killed node restarts and while the next coordinator is looked up.
// At the end Kafka's ConsoleConsumer reads the topic with read_committed: every transaction the
// application saw committed is visible with all its records exactly once (in order within each
// partition), no aborted transaction has a record visible, and no transaction is half visible.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { consoleConsumeRecords, runKafkaTool } from '../../scripts/kafka/tools.js'
import { Admin, KafkaError, Producer } from '../../src/index.js'
import { withPrivateKafka, type KafkaCluster } from '../helpers/kafka.js'
import { uniqueTopic } from '../helpers/topics.js'

const PARTITIONS = 6
/** The whole test, cluster start included: past this it fails instead of waiting on. */
const TEST_BOUND_MS = 120_000
/** Of that, kept for reading the topic back (two ConsoleConsumer JVMs side by side: ~8 s measured). */
const READ_RESERVE_MS = 25_000
/** node:test's own limit, a backstop should the bound above not end the test. */
const NODE_TEST_TIMEOUT_MS = TEST_BOUND_MS + 20_000
/** Short so that the retry of a commit after _TIMED_OUT happens whenever the coordinator is gone. */
const COMMIT_TIMEOUT_MS = 2_000
const ABORT_TIMEOUT_MS = 2_000
/**
 * How long the application keeps calling commitTransaction() (abortTransaction()) again after
 * _TIMED_OUT. A coordinator fails over in about broker.session.timeout.ms (4 s here); an outcome still
 * unknown after this long fails the test.
 */
const END_PATIENCE_MS = 40_000
/** Records of a short transaction (the traffic between the kills) and of the transaction killed in (a). */
const SHORT_RECORDS = 12
const COMMIT_KILL_RECORDS = 60
/** (b): records produced one every LONG_SPACING_MS; the coordinator dies at record LONG_KILL_AT. */
const LONG_RECORDS = 150
const LONG_SPACING_MS = 20
const LONG_KILL_AT = 50

type Outcome = 'committed' | 'aborted'

interface Txn {
  readonly id: number
  readonly records: number
  outcome: Outcome | null
  /** Why it was aborted: the application chose to, or an error with txnRequiresAbort. */
  abortReason: string | null
  /** Where each record's delivery report put it ("partition@offset"), by record index. */
  readonly written: (string | null)[]
  /** The message of each record's failed delivery report, by record index. */
  readonly failures: (string | null)[]
  /** Delivery reports with an error. */
  failedReports: number
}

interface Plan {
  records: number
  /** Called after each record is produced (a long transaction sleeps there, or kills a node). */
  afterRecord?: (i: number) => Promise<void>
  /** Wait until every record of the transaction is delivered before calling commitTransaction(). */
  flushBeforeCommit?: boolean
  /** Called right after commitTransaction() was called, before its promise is awaited. */
  afterCommitCalled?: (commit: Promise<void>) => Promise<void>
  /** End the transaction with abortTransaction() instead of committing it. */
  abort?: boolean
}

/** `p`, or a rejection naming `what` once `ms` have passed: a hang fails instead of hanging. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), Math.max(0, ms))
  })
  return Promise.race([p, limit]).finally(() => clearTimeout(timer))
}

/**
 * The node id of the transaction coordinator of `transactionalId`, as Kafka's TransactionsCommand
 * (`describe`) reports it: a table whose header starts with CoordinatorId, one row below it.
 */
async function coordinatorOf(bootstrapServers: string, transactionalId: string): Promise<number> {
  const out = await runKafkaTool('org.apache.kafka.tools.TransactionsCommand', [
    '--bootstrap-server',
    bootstrapServers,
    'describe',
    '--transactional-id',
    transactionalId,
  ])
  const lines = out.split('\n').filter((l) => l.trim().length > 0)
  const header = lines.findIndex((l) => l.trim().split(/\s+/)[0] === 'CoordinatorId')
  const id = Number(lines[header + 1]?.trim().split(/\s+/)[0])
  if (header < 0 || !Number.isInteger(id))
    throw new Error(`TransactionsCommand describe: unexpected output\n${out}`)
  return id
}

/**
 * Resolves once no partition of any topic (the internal ones included) is under-replicated, as
 * Kafka's TopicCommand reports it: a restarted node is back in every ISR, so the next kill leaves
 * two in-sync replicas everywhere.
 */
async function waitFullyReplicated(bootstrapServers: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const out = await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server',
      bootstrapServers,
      '--describe',
      '--under-replicated-partitions',
    ])
    if (out.trim().length === 0) return
    if (Date.now() >= deadline) throw new Error(`partitions still under-replicated:\n${out}`)
    await sleep(500)
  }
}

class Scenario {
  readonly topic = uniqueTopic('txn-kill')
  readonly transactionalId = uniqueTopic('txn-kill-producer')
  readonly txns: Txn[] = []
  commitRetries = 0
  abortRetries = 0
  /** Delivery reports with an error, by code (records of transactions that were then aborted). */
  readonly failedReports = new Map<string, number>()
  readonly log: string[] = []
  private producer: Producer | null = null
  private stopped = false
  private readonly t0 = Date.now()

  constructor(private readonly cluster: KafkaCluster) {}

  private note(line: string): void {
    const entry = `[${((Date.now() - this.t0) / 1000).toFixed(1)} s] ${line}`
    this.log.push(entry)
    console.log(`# ${entry}`)
  }

  private get p(): Producer {
    if (!this.producer || this.stopped) throw new Error('the scenario was stopped')
    return this.producer
  }

  /** Ends the run: stops the traffic loops and closes the producer (bounded), whatever state it is in. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.producer?.close(5_000).catch(() => undefined)
  }

  async run(): Promise<void> {
    const bootstrap = this.cluster.bootstrapServers
    const admin = new Admin({ bootstrapServers: bootstrap })
    try {
      await admin.createTopics(
        [
          {
            name: this.topic,
            numPartitions: PARTITIONS,
            replicationFactor: 3,
            configs: { 'min.insync.replicas': '2' },
          },
        ],
        { timeoutMs: 60_000 },
      )
    } finally {
      await admin.close()
    }
    this.producer = new Producer({
      'bootstrap.servers': bootstrap,
      'transactional.id': this.transactionalId,
      'transaction.timeout.ms': 20_000,
      'request.timeout.ms': 3_000,
      'delivery.timeout.ms': 20_000,
      'max.block.ms': 10_000,
      'linger.ms': 5,
    })
    await this.endCall('initTransactions()', () => this.p.initTransactions(5_000))
    this.note(`initTransactions() done, producer id ${this.p.producerId} epoch ${this.p.producerEpoch}`)

    // (a) The coordinator dies as the commit starts. First round: the SIGKILL is sent synchronously
    // after the call, before EndTxn is written to the coordinator's socket, while the transaction's
    // records may still be on their way. Second round: every record is delivered first, and the
    // SIGKILL comes one event-loop turn after the call, when EndTxn has been sent and the coordinator
    // is writing its decision (or has written it: then the commit must complete on the new one).
    // (b) A long transaction; the coordinator dies while its records are produced. Committed in the
    // first round, aborted in the second.
    const longTransaction =
      (abort: boolean) =>
      (kill: () => Promise<void>): Plan => ({
        records: LONG_RECORDS,
        abort,
        afterRecord: async (i) => {
          if (i === LONG_KILL_AT) await kill()
          await sleep(LONG_SPACING_MS)
        },
      })
    const rounds: [string, (kill: () => Promise<void>) => Plan][] = [
      [
        'a1: kill as commitTransaction() starts',
        (kill) => ({ records: COMMIT_KILL_RECORDS, afterCommitCalled: kill }),
      ],
      [
        'a2: kill after EndTxn was sent',
        (kill) => ({
          records: COMMIT_KILL_RECORDS,
          flushBeforeCommit: true,
          afterCommitCalled: async (commit) => {
            let answered = false
            commit.then(
              () => (answered = true),
              () => undefined,
            )
            await new Promise<void>((resolve) => setImmediate(resolve))
            const early = answered
            await kill()
            this.note(
              `a2: the commit had ${early ? 'already' : 'not yet'} completed when the SIGKILL was sent`,
            )
          },
        }),
      ],
      ['b1: kill during a long transaction, then commit', longTransaction(false)],
      ['b2: kill during a long transaction, then abort', longTransaction(true)],
    ]
    let coordinator = await this.whileTraffic(coordinatorOf(bootstrap, this.transactionalId))
    for (const [label, plan] of rounds) coordinator = await this.killRound(label, coordinator, plan)

    // A last few transactions with every node up.
    for (let i = 0; i < 5; i++) await this.transaction({ records: SHORT_RECORDS })
    assert.equal(this.p.fatal, null, 'the producer never had a fatal error')
    await this.p.close()
    this.note('producer closed')
  }

  /**
   * Runs the transaction `plan(kill)` describes, where `kill()` SIGKILLs the node `coordinatorId`.
   * Then, while short transactions go on, restarts the node, looks up the new coordinator (Kafka's
   * tool) and waits until every partition is fully replicated again; returns the new coordinator.
   */
  private async killRound(
    label: string,
    coordinatorId: number,
    plan: (kill: () => Promise<void>) => Plan,
  ): Promise<number> {
    const bootstrap = this.cluster.bootstrapServers
    const node = this.cluster.nodes.find((n) => n.id === coordinatorId)
    assert.ok(node?.running, `${label}: the coordinator, node ${coordinatorId}, is a running node`)
    let killed = false
    const kill = async (): Promise<void> => {
      if (killed) return
      killed = true
      await node.kill()
      this.note(`${label}: node ${node.id} (the coordinator) SIGKILLed`)
    }
    const retriesBefore = this.commitRetries + this.abortRetries
    const started = Date.now()
    const txn = await this.transaction(plan(kill))
    assert.ok(killed, `${label}: the coordinator was killed during the transaction`)
    this.note(
      `${label}: transaction ${txn.id} ${txn.outcome}${txn.abortReason ? ` (${txn.abortReason})` : ''} ` +
        `after ${this.commitRetries + this.abortRetries - retriesBefore} call(s) again on _TIMED_OUT, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
    // The transaction ended through the new coordinator, so the lookup finds that one.
    const restartStarted = Date.now()
    const [, next] = await this.whileTraffic(
      Promise.all([node.start(), coordinatorOf(bootstrap, this.transactionalId)]),
    )
    this.note(
      `node ${node.id} restarted in ${((Date.now() - restartStarted) / 1000).toFixed(1)} s; ` +
        `the coordinator is now node ${next}`,
    )
    await this.whileTraffic(waitFullyReplicated(bootstrap))
    return next
  }

  /** Runs short transactions back to back until `work` settles, and returns its result. */
  private async whileTraffic<T>(work: Promise<T>): Promise<T> {
    let settled = false
    const done = work.finally(() => {
      settled = true
    })
    done.catch(() => undefined) // awaited below
    while (!settled && !this.stopped) {
      await this.transaction({ records: SHORT_RECORDS })
      await sleep(20) // leave the two cores some room for the JVMs
    }
    return done
  }

  /** One transaction of the application, handled as docs/transactions.md recommends. */
  private async transaction(plan: Plan): Promise<Txn> {
    const txn: Txn = {
      id: this.txns.length,
      records: plan.records,
      outcome: null,
      abortReason: null,
      written: new Array<string | null>(plan.records).fill(null),
      failures: new Array<string | null>(plan.records).fill(null),
      failedReports: 0,
    }
    this.txns.push(txn)
    const p = this.p
    p.beginTransaction()
    try {
      for (let i = 0; i < plan.records; i++) {
        p.produce(
          { topic: this.topic, key: `t${txn.id}-${i}`, value: `${txn.id}:${i}:${plan.records}` },
          (err, rep) => {
            if (err) {
              txn.failures[i] = `${err.code}: ${err.message}`
              txn.failedReports++
              this.failedReports.set(err.code, (this.failedReports.get(err.code) ?? 0) + 1)
            } else txn.written[i] = `${rep.partition}@${rep.offset}`
          },
        )
        await plan.afterRecord?.(i)
      }
      if (plan.abort) {
        txn.abortReason = 'the application aborted it'
        await this.endCall('abortTransaction()', () => p.abortTransaction(ABORT_TIMEOUT_MS))
        txn.outcome = 'aborted'
        return txn
      }
      if (plan.flushBeforeCommit) await p.flush(10_000)
      const commit = p.commitTransaction(COMMIT_TIMEOUT_MS)
      commit.catch(() => undefined) // awaited below, after the hook
      await plan.afterCommitCalled?.(commit)
      await this.endCall('commitTransaction()', () => p.commitTransaction(COMMIT_TIMEOUT_MS), commit)
      txn.outcome = 'committed'
      return txn
    } catch (err) {
      if (!(err instanceof KafkaError) || err.fatal || !err.txnRequiresAbort || txn.abortReason) throw err
      // The transaction cannot commit: abort it; its records must stay invisible.
      txn.abortReason = `${err.code}: ${err.message}`
      await this.endCall('abortTransaction()', () => p.abortTransaction(ABORT_TIMEOUT_MS))
      txn.outcome = 'aborted'
      return txn
    }
  }

  /**
   * Awaits a call that may reject with a retriable _TIMED_OUT (its work going on), calling it again
   * each time, for END_PATIENCE_MS; `first` is the promise of the first call if it was made already.
   * Any other error, and a fatal one above all, goes to the caller.
   */
  private async endCall(what: string, call: () => Promise<void>, first?: Promise<void>): Promise<void> {
    const giveUpAt = Date.now() + END_PATIENCE_MS
    let pending = first ?? call()
    for (;;) {
      try {
        return await pending
      } catch (err) {
        if (err instanceof KafkaError && err.fatal) {
          throw new Error(`${what} failed with a fatal error ${err.code}: ${err.message}`, { cause: err })
        }
        if (!(err instanceof KafkaError) || err.code !== '_TIMED_OUT' || !err.retriable) throw err
        if (Date.now() >= giveUpAt || this.stopped) {
          throw new Error(`${what} still timing out after ${END_PATIENCE_MS} ms: its outcome is unknown`, {
            cause: err,
          })
        }
        if (what === 'commitTransaction()') this.commitRetries++
        else if (what === 'abortTransaction()') this.abortRetries++
        pending = call()
      }
    }
  }
}

test(
  'transaction coordinator SIGKILLed during commit and during a long transaction: read_committed sees committed transactions whole, aborted ones not at all',
  { timeout: NODE_TEST_TIMEOUT_MS },
  async () => {
    const started = Date.now()
    await withPrivateKafka({ nodes: 3 }, async (cluster) => {
      console.log(`# 3-node cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      const scenario = new Scenario(cluster)
      const run = scenario.run()
      run.catch(() => undefined) // raced below
      try {
        await within(
          run,
          TEST_BOUND_MS - READ_RESERVE_MS - (Date.now() - started),
          'the transactions with coordinator kills',
        )
      } finally {
        await scenario.stop()
      }

      const committed = scenario.txns.filter((t) => t.outcome === 'committed')
      const aborted = scenario.txns.filter((t) => t.outcome === 'aborted')
      assert.equal(
        committed.length + aborted.length,
        scenario.txns.length,
        'every transaction has an outcome',
      )
      const expected = committed.reduce((n, t) => n + t.records, 0)

      const readStarted = Date.now()
      const [records, logged] = await within(
        Promise.all([
          consoleConsumeRecords({
            bootstrapServers: cluster.bootstrapServers,
            topic: scenario.topic,
            isolationLevel: 'read_committed',
            idleTimeoutMs: 5_000,
          }),
          // Everything in the log, aborted records included: shows the aborts had records to hide.
          consoleConsumeRecords({
            bootstrapServers: cluster.bootstrapServers,
            topic: scenario.topic,
            isolationLevel: 'read_uncommitted',
            idleTimeoutMs: 5_000,
          }),
        ]),
        TEST_BOUND_MS - (Date.now() - started),
        'reading the topic back',
      )
      const readSeconds = (Date.now() - readStarted) / 1000

      // Visible records per transaction, and the order within each partition.
      const seen = new Map<number, number[]>()
      const malformed: string[] = []
      const outOfOrder: string[] = []
      const lastInPartition = new Map<number, [number, number]>()
      for (const r of records) {
        const m = /^(\d+):(\d+):(\d+)$/.exec(r.value ?? '')
        if (!m || r.key !== `t${m[1]}-${m[2]}`) {
          malformed.push(`${r.partition}@${r.offset} ${r.key}=${r.value}`)
          continue
        }
        const [txnId, index] = [Number(m[1]), Number(m[2])]
        let list = seen.get(txnId)
        if (!list) seen.set(txnId, (list = []))
        list.push(index)
        const last = lastInPartition.get(r.partition)
        if (last && (last[0] > txnId || (last[0] === txnId && last[1] >= index))) {
          outOfOrder.push(`partition ${r.partition}: ${txnId}:${index} after ${last[0]}:${last[1]}`)
        }
        lastInPartition.set(r.partition, [txnId, index])
      }
      const incomplete: string[] = []
      const visibleAborted: string[] = []
      const unknown: number[] = []
      for (const [txnId, indexes] of seen) {
        const txn = scenario.txns[txnId]
        if (!txn) unknown.push(txnId)
        else if (txn.outcome === 'aborted') visibleAborted.push(`${txnId} (${indexes.length} record(s))`)
      }
      for (const txn of committed) {
        const indexes = [...(seen.get(txn.id) ?? [])].sort((a, b) => a - b)
        const whole = indexes.length === txn.records && indexes.every((v, i) => v === i)
        if (!whole) incomplete.push(`${txn.id}: ${indexes.length} of ${txn.records} record(s) visible`)
      }
      // A committed transaction's delivery reports all succeeded, and said where the records are.
      const reportsOfCommitted = committed.filter((t) => t.failedReports > 0).map((t) => t.id)
      const misplaced: string[] = []
      for (const r of records) {
        const m = /^(\d+):(\d+):/.exec(r.value ?? '')
        const txn = m ? scenario.txns[Number(m[1])] : undefined
        if (!m || txn?.outcome !== 'committed') continue
        const reported = txn.written[Number(m[2])]
        if (reported !== `${r.partition}@${r.offset}`) {
          misplaced.push(`${r.value} read at ${r.partition}@${r.offset}, reported at ${reported}`)
        }
      }

      // The log also holds what read_committed skips: it must all be records of aborted transactions.
      const visible = new Set(records.map((r) => `${r.partition}@${r.offset}`))
      const hidden = logged.filter((r) => !visible.has(`${r.partition}@${r.offset}`))
      // A report that says the record was not sent (an abort purged it) must be true: the record is
      // not in the log. One that was sent before and awaited a retry may be, and must not say so.
      const reportOf = (r: { value: string | null }): string | null | undefined => {
        const m = /^(\d+):(\d+):/.exec(r.value ?? '')
        return m ? scenario.txns[Number(m[1])]?.failures[Number(m[2])] : undefined
      }
      const failedButLogged = logged.filter((r) => reportOf(r))
      const claimedUnsent = failedButLogged
        .filter((r) => /\bwas not sent\b/.test(reportOf(r)!))
        .map((r) => `${r.value} at ${r.partition}@${r.offset}: ${reportOf(r)}`)
      const hiddenNotAborted = hidden
        .filter((r) => scenario.txns[Number(/^(\d+):/.exec(r.value ?? '')?.[1])]?.outcome !== 'aborted')
        .map((r) => `${r.partition}@${r.offset} ${r.key}=${r.value}`)

      const abortedAfterError = aborted.filter((t) => t.abortReason !== 'the application aborted it')
      const reasons = new Map<string, number>()
      for (const t of abortedAfterError) {
        const code = t.abortReason!.split(':')[0]!
        reasons.set(code, (reasons.get(code) ?? 0) + 1)
      }
      console.log(
        `# ${scenario.txns.length} transactions: ${committed.length} committed, ${aborted.length} aborted ` +
          `(${aborted.length - abortedAfterError.length} by the application, ${abortedAfterError.length} after ` +
          `txnRequiresAbort${reasons.size ? `: ${[...reasons].map(([c, n]) => `${c} x${n}`).join(', ')}` : ''}); ` +
          `commitTransaction() called again ${scenario.commitRetries} time(s) and abortTransaction() ` +
          `${scenario.abortRetries} time(s) after _TIMED_OUT`,
      )
      console.log(
        `# read_committed: ${records.length} record(s) read (${expected} expected) in ${readSeconds.toFixed(1)} s; ` +
          `the log holds ${logged.length}, ${hidden.length} of them skipped by read_committed, ` +
          `${failedButLogged.length} with a failed delivery report; failed delivery reports: ` +
          `${scenario.failedReports.size ? [...scenario.failedReports].map(([c, n]) => `${c} x${n}`).join(', ') : 'none'}; ` +
          `whole test ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )

      assert.deepEqual(malformed, [], 'every record read is one the test produced')
      assert.deepEqual(unknown, [], 'no record of a transaction the application did not run')
      assert.deepEqual(incomplete, [], 'every committed transaction fully visible, each record once')
      assert.deepEqual(visibleAborted, [], 'no record of an aborted transaction visible')
      assert.deepEqual(outOfOrder, [], 'records in produce order within each partition')
      assert.deepEqual(hiddenNotAborted.slice(0, 20), [], 'read_committed skips only aborted records')
      assert.deepEqual(claimedUnsent.slice(0, 20), [], 'no record reported "not sent" is in the log')
      assert.deepEqual(reportsOfCommitted, [], 'no failed delivery report in a committed transaction')
      assert.deepEqual(misplaced.slice(0, 20), [], 'each committed record where its delivery report said')
      assert.equal(records.length, expected, 'nothing else visible')
      assert.ok(
        aborted.some((t) => t.abortReason === 'the application aborted it'),
        'the aborted long transaction is among the aborted',
      )
    })
  },
)
