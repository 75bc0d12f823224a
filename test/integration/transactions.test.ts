// Transactions against real brokers, read back by Kafka's own ConsoleConsumer (read_committed) and
// ConsumerGroupCommand: all or nothing across partitions and topics, order, zombie fencing, offsets
// committed with a transaction, and the errors a broker really sends (docs/transactions.md).
//
// The same cases run on three brokers, one per protocol generation and release:
//   - the shared Kafka 4.4 broker, transaction.version=2: KIP-890 ("transactions v2");
//   - a private Kafka 4.4 broker formatted with transaction.version=1: the classic protocol (KIP-98)
//     on a current broker;
//   - a private Kafka 3.9.1 broker: the classic protocol as most deployed clusters speak it.
// Each private broker is started once and hosts all its cases. Which generation the producer used is
// checked from the requests it sent (its instrumentation's request.sent events).
//
// Reading back with maxMessages (no idle wait at the end) is exact here because every case ends
// with a committed record in each partition it checks: ConsoleConsumer prints each partition in
// offset order, so a record that should not be visible (an aborted one) is read before that last
// record of its partition, and reading exactly the expected count would then miss an expected one.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  consoleConsumeRecords,
  consumerGroupOffsets,
  type CommittedOffset,
  type ConsoleRecord,
} from '../../scripts/kafka/tools.js'
import { KafkaError, Producer, type ProducerConfig } from '../../src/index.js'
import { sharedBootstrapServers, withPrivateKafka } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const TXNS = 2_000
const PER_TXN = 50
/** Transaction t is aborted when t % ABORT_EVERY === ABORT_EVERY - 1: every 7th. */
const ABORT_EVERY = 7
const PARTITIONS = 3

interface Target {
  name: string
  bootstrap: string
  /** The generation the producer must pick on this broker; null when the run's broker is not known. */
  generation: 1 | 2 | null
}

const isAborted = (t: number): boolean => t % ABORT_EVERY === ABORT_EVERY - 1

function transactionalConfig(target: Target, name: string, more: ProducerConfig = {}): ProducerConfig {
  return { 'bootstrap.servers': target.bootstrap, 'transactional.id': uniqueTopic(name), ...more }
}

/** The versions of each request the producer sent, by API name. */
type RequestLog = Map<string, Set<number>>

function logRequests(producer: Producer): RequestLog {
  const sent: RequestLog = new Map()
  producer.instrumentation.on('request.sent', (e) => {
    let versions = sent.get(e.apiName)
    if (!versions) sent.set(e.apiName, (versions = new Set()))
    versions.add(e.apiVersion)
  })
  return sent
}

function versions(log: RequestLog, api: string): number[] {
  return [...(log.get(api) ?? [])].sort((a, b) => a - b)
}

function describeRequests(log: RequestLog): string {
  return ['Produce', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn']
    .filter((api) => log.has(api))
    .map((api) => `${api} v${versions(log, api).join('/')}`)
    .join(', ')
}

/**
 * Asserts the protocol generation from the requests sent. Classic: partitions join with
 * AddPartitionsToTxn, offsets with AddOffsetsToTxn, Produce up to v11, EndTxn up to v4. KIP-890:
 * none of the Add*ToTxn requests, Produce v12 (the leader adds the partition), EndTxn v5.
 */
function assertGeneration(target: Target, log: RequestLog, offsets: boolean): void {
  if (target.generation === null) return
  const produce = versions(log, 'Produce')
  const endTxn = versions(log, 'EndTxn')
  assert.ok(produce.length > 0 && endTxn.length > 0, `Produce and EndTxn were sent: ${describeRequests(log)}`)
  if (target.generation === 2) {
    assert.equal(log.has('AddPartitionsToTxn'), false, 'v2: no AddPartitionsToTxn')
    assert.equal(log.has('AddOffsetsToTxn'), false, 'v2: no AddOffsetsToTxn')
    assert.deepEqual(produce, [12], 'v2: every Produce is v12')
    assert.deepEqual(endTxn, [5], 'v2: EndTxn v5')
    if (offsets) assert.deepEqual(versions(log, 'TxnOffsetCommit'), [5], 'v2: TxnOffsetCommit v5')
  } else {
    assert.ok(log.has('AddPartitionsToTxn'), 'classic: partitions join with AddPartitionsToTxn')
    assert.ok(Math.max(...produce) <= 11, `classic: Produce v11 at most, not v${produce.join('/')}`)
    assert.ok(Math.max(...endTxn) <= 4, `classic: EndTxn v4 at most, not v${endTxn.join('/')}`)
    if (offsets) {
      assert.ok(log.has('AddOffsetsToTxn'), 'classic: offsets join with AddOffsetsToTxn')
      assert.ok(Math.max(...versions(log, 'TxnOffsetCommit')) <= 4, 'classic: TxnOffsetCommit v4 at most')
    }
  }
}

function readCommitted(target: Target, topic: string, maxMessages: number): Promise<ConsoleRecord[]> {
  return consoleConsumeRecords({
    bootstrapServers: target.bootstrap,
    topic,
    isolationLevel: 'read_committed',
    maxMessages,
    idleTimeoutMs: 10_000,
  })
}

/** The first few items of a list of problems, and how many there are: a short failure message. */
function firstOf(problems: string[]): string[] {
  return problems.length <= 10 ? problems : [...problems.slice(0, 10), `... ${problems.length} in all`]
}

// --- 1. Many transactions, every 7th aborted --------------------------------------------------------

async function manyTransactions(target: Target): Promise<void> {
  const topics = [uniqueTopic('txn-many-a'), uniqueTopic('txn-many-b')]
  await Promise.all(topics.map((name) => createTopic(target.bootstrap, { name, numPartitions: PARTITIONS })))
  const producer = new Producer(transactionalConfig(target, 'txn-many'))
  const log = logRequests(producer)
  const N = TXNS * PER_TXN
  const calls = new Uint8Array(N)
  const partitionOf = new Int8Array(N).fill(-1)
  const offsetOf = new Float64Array(N).fill(-1)
  const problems: string[] = []
  let abortedWritten = 0
  let abortedPurged = 0
  let committedTxns = 0
  let abortedTxns = 0
  const started = Date.now()
  let epochs: [number | null, number | null]
  try {
    await producer.initTransactions()
    const firstEpoch = producer.producerEpoch
    for (let t = 0; t < TXNS; t++) {
      const aborted = isAborted(t)
      // Half of the aborted transactions wait until their first record was written before aborting,
      // so the log surely holds records of aborted transactions; the others abort at once, and
      // records not sent yet are purged.
      const waitForFirst = aborted && Math.floor(t / ABORT_EVERY) % 2 === 1
      let firstDone: () => void = () => undefined
      const first = new Promise<void>((resolve) => (firstDone = resolve))
      producer.beginTransaction()
      for (let i = 0; i < PER_TXN; i++) {
        const n = t * PER_TXN + i
        producer.produce({ topic: topics[i % 2]!, key: `t${t}-r${i}`, value: `${t}:${i}` }, (err, report) => {
          calls[n]!++
          if (i === 0) firstDone()
          if (err) {
            if (aborted && err.code === '_PURGE_QUEUE') abortedPurged++
            else problems.push(`txn ${t} record ${i}: ${err.code} ${err.message}`)
          } else {
            partitionOf[n] = report.partition
            offsetOf[n] = report.offset
            if (aborted) abortedWritten++
          }
        })
      }
      if (aborted) {
        if (waitForFirst) await first
        await producer.abortTransaction()
        abortedTxns++
      } else {
        await producer.commitTransaction()
        committedTxns++
      }
    }
    // A last committed transaction with a record in every partition (see the top of the file).
    producer.beginTransaction()
    for (const topic of topics) {
      for (let p = 0; p < PARTITIONS; p++)
        producer.produce({ topic, partition: p, key: 'end', value: `end:${p}` })
    }
    await producer.commitTransaction()
    epochs = [firstEpoch, producer.producerEpoch]
  } finally {
    await producer.close()
  }
  const produceSeconds = (Date.now() - started) / 1000

  const calledOnce = calls.every((c) => c === 1)
  assert.ok(
    calledOnce,
    `every record got one delivery callback: ${calls.filter((c) => c !== 1).length} did not`,
  )
  assert.deepEqual(firstOf(problems), [], 'committed records delivered; aborted ones delivered or purged')

  const readStarted = Date.now()
  // Records i of a transaction go to topics[i % 2]: half of each committed transaction per topic.
  const expectedPerTopic = (committedTxns * PER_TXN) / 2 + PARTITIONS
  const consumed = await Promise.all(topics.map((topic) => readCommitted(target, topic, expectedPerTopic)))
  const readSeconds = (Date.now() - readStarted) / 1000

  const seen = new Uint8Array(N)
  topics.forEach((topic, k) => {
    const records = consumed[k]!
    const last = new Map<number, [number, number]>()
    const ends = new Set<number>()
    for (const r of records) {
      if (r.value?.startsWith('end:')) {
        ends.add(r.partition)
        continue
      }
      if (ends.has(r.partition))
        problems.push(`${topic}[${r.partition}]@${r.offset}: after the last transaction`)
      const m = /^(\d+):(\d+)$/.exec(r.value ?? '')
      if (!m) {
        problems.push(`${topic}[${r.partition}]@${r.offset}: unexpected value ${JSON.stringify(r.value)}`)
        continue
      }
      const t = Number(m[1])
      const i = Number(m[2])
      const n = t * PER_TXN + i
      if (isAborted(t)) problems.push(`${topic}[${r.partition}]@${r.offset}: ${r.value} of aborted txn ${t}`)
      if (i % 2 !== k || r.key !== `t${t}-r${i}`) problems.push(`${topic}: ${r.value} with key ${r.key}`)
      if (partitionOf[n] !== r.partition || offsetOf[n] !== r.offset) {
        problems.push(
          `${r.value} read at ${r.partition}@${r.offset}, reported ${partitionOf[n]}@${offsetOf[n]}`,
        )
      }
      seen[n]!++
      const prev = last.get(r.partition)
      if (prev && (prev[0] > t || (prev[0] === t && prev[1] >= i))) {
        problems.push(`${topic}[${r.partition}]: ${r.value} after ${prev.join(':')}`)
      }
      last.set(r.partition, [t, i])
    }
    assert.equal(ends.size, PARTITIONS, `${topic}: the last transaction's record in every partition`)
  })
  for (let n = 0; n < N; n++) {
    const t = Math.floor(n / PER_TXN)
    const want = isAborted(t) ? 0 : 1
    if (seen[n] !== want) problems.push(`${t}:${n % PER_TXN} read ${seen[n]} time(s), expected ${want}`)
  }
  const committedRecords = committedTxns * PER_TXN
  console.log(
    `# ${target.name}: ${TXNS} transactions of ${PER_TXN} records in ${produceSeconds.toFixed(1)} s: ` +
      `${committedTxns} committed (${committedRecords} records), ${abortedTxns} aborted ` +
      `(${abortedWritten} of their records written to the log, ${abortedPurged} purged unsent); ` +
      `read_committed read ${consumed[0]!.length - PARTITIONS} + ${consumed[1]!.length - PARTITIONS} ` +
      `records (+${2 * PARTITIONS} of the last transaction) in ${readSeconds.toFixed(1)} s; ` +
      `epoch ${epochs[0]} -> ${epochs[1]}; ${describeRequests(log)}`,
  )
  assert.deepEqual(firstOf(problems), [], 'read_committed: committed records once each, in order')
  assert.equal(consumed[0]!.length + consumed[1]!.length - 2 * PARTITIONS, committedRecords)
  assert.equal(committedTxns, TXNS - Math.floor(TXNS / ABORT_EVERY))
  assert.ok(abortedWritten > 0, 'some records of aborted transactions reached the log')
  assertGeneration(target, log, false)
  // KIP-890 bumps the epoch at every EndTxn; the classic protocol keeps it.
  if (target.generation === 2) assert.notEqual(epochs[1], epochs[0], 'v2: the epoch moved with each EndTxn')
  if (target.generation === 1) assert.equal(epochs[1], epochs[0], 'classic: the epoch stays')
}

// --- 2. Zombie fencing ------------------------------------------------------------------------------

/**
 * `lateRecords`: how many records A produces after it was fenced and before its commit. 0: the commit
 * goes straight to the coordinator (EndTxn), which refuses it: fatal at once. More: the commit first
 * delivers them, and their partition leader refuses A's epoch with INVALID_PRODUCER_EPOCH, which
 * fails the transaction only (KIP-588, docs/transactions.md); the abort then meets the fence.
 */
async function zombieFencing(target: Target, lateRecords: number): Promise<void> {
  const topic = uniqueTopic('txn-zombie')
  await createTopic(target.bootstrap, { name: topic, numPartitions: 2 })
  const config = transactionalConfig(target, 'txn-zombie-id')
  const a = new Producer(config)
  const b = new Producer(config)
  try {
    await a.initTransactions()
    a.beginTransaction()
    // Written into A's open transaction (their delivery reports say so) on both partitions.
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => a.send({ topic, partition: i % 2, key: 'a', value: `a-${i}` })),
    )
    await b.initTransactions() // a new epoch for the id: fences A and aborts its open transaction
    // A does not know yet: it accepts more records, which its commit will try to deliver.
    const late: (KafkaError | null)[] = []
    for (let i = 0; i < lateRecords; i++) {
      a.produce({ topic, partition: i % 2, key: 'a', value: `a-late-${i}` }, (err) => late.push(err))
    }
    const outcome = (p: Promise<void>): Promise<unknown> =>
      p.then(
        () => null,
        (err: unknown) => err,
      )
    let fenced = await outcome(a.commitTransaction())
    assert.ok(fenced instanceof KafkaError, `A's commit rejects with a KafkaError, not ${String(fenced)}`)
    console.log(
      `# ${target.name}: the fenced producer's commit (${lateRecords} late records): ${fenced.code}: ${fenced.message}`,
    )
    if (lateRecords > 0 && !fenced.fatal) {
      // docs/transactions.md (KIP-588): the partition leader's INVALID_PRODUCER_EPOCH fails only the
      // transaction; the abort asks the coordinator, which says the producer was fenced.
      assert.equal(fenced.code, 'INVALID_PRODUCER_EPOCH')
      assert.equal(fenced.txnRequiresAbort, true)
      assert.equal(a.transactionState, 'abortableError')
      fenced = await outcome(a.abortTransaction())
      assert.ok(fenced instanceof KafkaError, `A's abort rejects with a KafkaError, not ${String(fenced)}`)
      console.log(`# ${target.name}: then its abort: ${fenced.code}: ${fenced.message}`)
    }
    assert.ok(fenced.fatal, 'fatal')
    assert.ok(
      fenced.code === 'PRODUCER_FENCED' || fenced.code === 'INVALID_PRODUCER_EPOCH',
      `PRODUCER_FENCED or INVALID_PRODUCER_EPOCH, not ${fenced.code}`,
    )
    assert.equal(a.transactionState, 'fatalError')
    assert.equal(a.fatal?.code, fenced.code)
    assert.equal(late.length, lateRecords, 'each late record got its callback')
    assert.ok(
      late.every((err) => err !== null),
      'no late record of A was delivered',
    )

    // Every later call of A throws (or rejects with) the same fatal error.
    const same = (err: unknown): boolean => {
      assert.ok(err instanceof KafkaError, String(err))
      assert.equal(err.code, fenced.code)
      assert.equal(err.fatal, true)
      return true
    }
    assert.throws(() => a.beginTransaction(), same)
    assert.throws(() => a.produce({ topic, value: 'x' }), same)
    await assert.rejects(a.send({ topic, value: 'x' }), same)
    await assert.rejects(a.commitTransaction(), same)
    await assert.rejects(a.abortTransaction(), same)
    await assert.rejects(
      a.sendOffsetsToTransaction([{ topic, partition: 0, offset: 1 }], { groupId: 'g' }),
      same,
    )
    await assert.rejects(a.initTransactions(), same)
    assert.equal(a.transactionState, 'fatalError')

    // B works, and read_committed sees B's transaction only.
    b.beginTransaction()
    for (let i = 0; i < 6; i++) b.produce({ topic, partition: i % 2, key: 'b', value: `b-${i}` })
    await b.commitTransaction()
    const records = await readCommitted(target, topic, 6)
    assert.deepEqual(
      records.map((r) => r.value),
      ['b-0', 'b-2', 'b-4', 'b-1', 'b-3', 'b-5'],
      "B's records only, none of A's",
    )
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

// --- 3. sendOffsetsToTransaction --------------------------------------------------------------------

async function offsetsWithTransactions(target: Target): Promise<void> {
  const input = uniqueTopic('txn-offsets-in')
  const output = uniqueTopic('txn-offsets-out')
  const group = uniqueTopic('txn-offsets-group')
  await Promise.all([
    createTopic(target.bootstrap, { name: input, numPartitions: 2 }),
    createTopic(target.bootstrap, { name: output, numPartitions: 1 }),
  ])
  // Something to have consumed: 20 records per input partition.
  const plain = new Producer({ 'bootstrap.servers': target.bootstrap })
  for (let i = 0; i < 40; i++) plain.produce({ topic: input, partition: i % 2, value: `in-${i}` })
  assert.equal(await plain.flush(30_000), 0)
  await plain.close()

  const committed = (): Promise<CommittedOffset[]> =>
    consumerGroupOffsets({ bootstrapServers: target.bootstrap, group })
  // EndTxn is answered before the coordinator writes the commit marker that makes the offsets the
  // group's: a read in between still shows the previous ones, so a commit's offsets are waited for
  // (a few reads at most). Offsets that must not move are read once: the pending offsets of an
  // aborted transaction are never shown, whatever the timing.
  const committedEventually = async (want: CommittedOffset[]): Promise<CommittedOffset[]> => {
    const deadline = Date.now() + 15_000
    for (;;) {
      const got = await committed()
      if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > deadline) return got
      await sleep(200)
    }
  }
  const offsetsOf = (p0: number, p1: number): CommittedOffset[] => [
    { topic: input, partition: 0, committedOffset: p0 },
    { topic: input, partition: 1, committedOffset: p1 },
  ]
  const producer = new Producer(transactionalConfig(target, 'txn-offsets'))
  const log = logRequests(producer)
  try {
    await producer.initTransactions()

    // Output and offsets, committed: the group's offsets are the ones sent.
    producer.beginTransaction()
    producer.produce({ topic: output, value: 'out-1' })
    await producer.sendOffsetsToTransaction(
      [
        { topic: input, partition: 0, offset: 5 },
        { topic: input, partition: 1, offset: 7 },
      ],
      { groupId: group },
    )
    await producer.commitTransaction()
    assert.deepEqual(await committedEventually(offsetsOf(5, 7)), offsetsOf(5, 7), 'offsets of the commit')

    // Other offsets, aborted: the group's offsets do not move.
    producer.beginTransaction()
    producer.produce({ topic: output, value: 'out-2 (aborted)' })
    await producer.sendOffsetsToTransaction(
      [
        { topic: input, partition: 0, offset: 20 },
        { topic: input, partition: 1, offset: 20 },
      ],
      { groupId: group },
    )
    await producer.abortTransaction()
    assert.deepEqual(await committed(), offsetsOf(5, 7), 'unchanged after the aborted transaction')

    // Offsets alone, committed, for one partition: only that one moves.
    producer.beginTransaction()
    await producer.sendOffsetsToTransaction([{ topic: input, partition: 0, offset: 9 }], { groupId: group })
    await producer.commitTransaction()
    assert.deepEqual(
      await committedEventually(offsetsOf(9, 7)),
      offsetsOf(9, 7),
      'an offsets-only transaction',
    )

    producer.beginTransaction()
    producer.produce({ topic: output, value: 'out-4' })
    await producer.commitTransaction()
  } finally {
    await producer.close()
  }
  const records = await readCommitted(target, output, 2)
  assert.deepEqual(
    records.map((r) => r.value),
    ['out-1', 'out-4'],
  )
  console.log(`# ${target.name}: offsets committed with transactions: ${describeRequests(log)}`)
  assertGeneration(target, log, true)
}

// --- 4. transaction.timeout.ms above the broker's transaction.max.timeout.ms -------------------------

async function timeoutAboveBrokerMax(target: Target): Promise<void> {
  // The broker's default transaction.max.timeout.ms is 900000 (15 minutes).
  const producer = new Producer(
    transactionalConfig(target, 'txn-timeout', { 'transaction.timeout.ms': 900_001 }),
  )
  try {
    const err = await producer.initTransactions().then(
      () => null,
      (e: unknown) => e,
    )
    assert.ok(err instanceof KafkaError, `initTransactions() rejects with a KafkaError, not ${String(err)}`)
    console.log(`# ${target.name}: transaction.timeout.ms 900001: ${err.code}: ${err.message}`)
    assert.equal(err.code, 'INVALID_TRANSACTION_TIMEOUT')
    assert.equal(err.fatal, true)
    assert.match(err.message, /transaction\.timeout\.ms/)
    assert.match(err.message, /transaction\.max\.timeout\.ms/)
    assert.equal(producer.transactionState, 'fatalError')
    assert.throws(
      () => producer.beginTransaction(),
      (e: unknown) => e instanceof KafkaError && e.code === 'INVALID_TRANSACTION_TIMEOUT',
    )
  } finally {
    await producer.close()
  }
}

// --- 5. An abortable error from a real broker: a record above the topic's max.message.bytes ---------

async function recordTooLargeAborts(target: Target): Promise<void> {
  const small = uniqueTopic('txn-small-max')
  const other = uniqueTopic('txn-other')
  await Promise.all([
    createTopic(target.bootstrap, {
      name: small,
      numPartitions: 1,
      configs: { 'max.message.bytes': '1024' },
    }),
    createTopic(target.bootstrap, { name: other, numPartitions: 1 }),
  ])
  const producer = new Producer(transactionalConfig(target, 'txn-too-large'))
  const outcomes = new Map<string, (KafkaError | null)[]>()
  const produce = (topic: string, value: string): void => {
    outcomes.set(value, [])
    producer.produce({ topic, value }, (err) => outcomes.get(value)!.push(err))
  }
  const big = `big-${'x'.repeat(4_000)}`
  try {
    await producer.initTransactions()
    producer.beginTransaction()
    for (let i = 0; i < 3; i++) produce(other, `first-other-${i}`)
    for (let i = 0; i < 3; i++) produce(small, `first-small-${i}`)
    produce(small, big) // above the topic's 1024 bytes, far below the producer's message.max.bytes
    for (let i = 3; i < 5; i++) produce(small, `first-small-${i}`)
    const err = await producer.commitTransaction().then(
      () => null,
      (e: unknown) => e,
    )
    assert.ok(err instanceof KafkaError, `commitTransaction() rejects with a KafkaError, not ${String(err)}`)
    console.log(`# ${target.name}: commit with a record too large for its topic: ${err.code}: ${err.message}`)
    assert.equal(err.txnRequiresAbort, true)
    assert.equal(err.fatal, false)
    assert.equal(producer.transactionState, 'abortableError')
    for (const [value, got] of outcomes) assert.equal(got.length, 1, `${value.slice(0, 20)}: one callback`)
    const bigErr = outcomes.get(big)![0]
    assert.equal(bigErr?.code, 'MESSAGE_TOO_LARGE')

    await producer.abortTransaction()
    assert.equal(producer.transactionState, 'ready')

    producer.beginTransaction()
    for (let i = 0; i < 3; i++) producer.produce({ topic: small, value: `second-small-${i}` })
    for (let i = 0; i < 3; i++) producer.produce({ topic: other, value: `second-other-${i}` })
    await producer.commitTransaction()
  } finally {
    await producer.close()
  }
  const [smallRead, otherRead] = await Promise.all([
    readCommitted(target, small, 3),
    readCommitted(target, other, 3),
  ])
  assert.deepEqual(
    smallRead.map((r) => r.value),
    ['second-small-0', 'second-small-1', 'second-small-2'],
  )
  assert.deepEqual(
    otherRead.map((r) => r.value),
    ['second-other-0', 'second-other-1', 'second-other-2'],
  )
}

// --- The brokers ------------------------------------------------------------------------------------

async function commonCases(t: TestContext, target: Target): Promise<void> {
  await t.test(
    `${TXNS} transactions of ${PER_TXN} records over 2 topics, every ${ABORT_EVERY}th aborted`,
    () => manyTransactions(target),
  )
  await t.test('a second producer with the same transactional.id fences the first (commit at once)', () =>
    zombieFencing(target, 0),
  )
  await t.test('a second producer with the same transactional.id fences the first (records after it)', () =>
    zombieFencing(target, 4),
  )
  await t.test('sendOffsetsToTransaction: offsets move with a commit, not with an abort', () =>
    offsetsWithTransactions(target),
  )
  await t.test('a record above the topic max.message.bytes makes the transaction abortable', () =>
    recordTooLargeAborts(target),
  )
}

test('shared Kafka broker (4.4: transaction.version=2, KIP-890)', async (t) => {
  const target: Target = {
    name: 'shared broker',
    bootstrap: sharedBootstrapServers(),
    // The runner's default broker is 4.4 with transaction.version=2; --kafka-version may pick another.
    generation: process.env['KAFKA_VERSION'] === undefined ? 2 : null,
  }
  await commonCases(t, target)
  await t.test('transaction.timeout.ms above transaction.max.timeout.ms: INVALID_TRANSACTION_TIMEOUT', () =>
    timeoutAboveBrokerMax(target),
  )
})

test('private Kafka 4.4 formatted with transaction.version=1 (classic protocol)', async (t) => {
  const started = Date.now()
  await withPrivateKafka({ features: { 'transaction.version': 1 } }, async (cluster) => {
    console.log(`# Kafka 4.4 (transaction.version=1) started in ${Date.now() - started} ms`)
    await commonCases(t, {
      name: 'Kafka 4.4, transaction.version=1',
      bootstrap: cluster.bootstrapServers,
      generation: 1,
    })
  })
})

test('private Kafka 3.9.1 (classic protocol)', async (t) => {
  const started = Date.now()
  await withPrivateKafka({ version: '3.9.1' }, async (cluster) => {
    console.log(`# Kafka 3.9.1 started in ${Date.now() - started} ms`)
    await commonCases(t, { name: 'Kafka 3.9.1', bootstrap: cluster.bootstrapServers, generation: 1 })
  })
})
