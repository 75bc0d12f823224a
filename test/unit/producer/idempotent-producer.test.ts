import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { ProducerConfig } from '../../../src/config/index.js'
import { Producer } from '../../../src/producer/producer.js'
import { KafkaError } from '../../../src/errors/index.js'
import {
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '../../../src/protocol/index.js'
import type {
  FakeCluster,
  FakeClusterOptions,
  ProduceCall,
  ReceivedRequest,
} from '../../helpers/fake-broker.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { idempotenceOf } from '../../helpers/internals.js'
import {
  closeFakeProducers,
  closeIdle,
  fakeProducer,
  type FakeProducer,
} from '../../helpers/fake-producer.js'

const NOT_LEADER_OR_FOLLOWER = 6
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45
const DUPLICATE_SEQUENCE_NUMBER = 46
const UNKNOWN_PRODUCER_ID = 59
const PRODUCER_FENCED = 90
const CLUSTER_AUTHORIZATION_FAILED = 31
const COORDINATOR_LOAD_IN_PROGRESS = 14
const MESSAGE_TOO_LARGE = 10

afterEach(closeFakeProducers)

function setup(
  config: ProducerConfig | Record<string, unknown> = {},
  clusterOpts: FakeClusterOptions = { topics: { t: { partitions: 1 } } },
): FakeProducer & { d: Deliveries; errors: KafkaError[] } {
  const errors: KafkaError[] = []
  const rig = fakeProducer(
    { 'linger.ms': 0, error_cb: (e: KafkaError) => errors.push(e), ...config },
    clusterOpts,
  )
  return { ...rig, d: new Deliveries(), errors }
}

/** One sent batch as [producerId, epoch, baseSequence, record values]. */
type Stamp = [bigint, number, number, string[]]

/** Every batch sent for `partition` of `topic`, in arrival order (retries included). */
function stamps(calls: readonly ProduceCall[], partition = 0, topic = 't'): Stamp[] {
  return calls.flatMap((c) =>
    c.partitions
      .filter((p) => p.topic === topic && p.partition === partition)
      .flatMap((p) =>
        p.batches.map((b): Stamp => [
          b.producerId,
          b.producerEpoch,
          b.baseSequence,
          b.records.map((r) => r.value!.toString()),
        ]),
      ),
  )
}

function initRequests(cluster: FakeCluster): ReceivedRequest[] {
  return cluster.requests.filter((r) => r.apiKey === InitProducerIdApi.apiKey)
}

function initReply(
  over: Partial<Pick<InitProducerIdResponse, 'errorCode' | 'producerId' | 'producerEpoch'>>,
): InitProducerIdResponse {
  return {
    throttleTimeMs: 0,
    errorCode: over.errorCode ?? 0,
    producerId: over.producerId ?? (over.errorCode ? -1n : 1000n),
    producerEpoch: over.producerEpoch ?? (over.errorCode ? -1 : 0),
    ongoingTxnProducerId: -1n,
    ongoingTxnProducerEpoch: -1,
  }
}

/** The partition's log, without the warm-up records of {@link firstAck}. */
function values(cluster: FakeCluster, partition = 0): string[] {
  return cluster
    .log('t', partition)
    .map((r) => r.value!.toString())
    .filter((v) => v !== 'w')
}

/**
 * Gets one batch acknowledged on each of `partitions` (the record 'w', sequence 0): until the broker
 * has acknowledged one in the current epoch, a partition has one batch in flight at a time
 * (IdempotenceState.hasAcked). Then forgets those requests, so the test counts its own from 0.
 */
async function firstAck(
  cluster: FakeCluster,
  producer: Producer,
  pump: () => Promise<void>,
  partitions: number[] = [0],
): Promise<void> {
  const handler = cluster.produceHandler
  cluster.produceHandler = () => 'ok'
  const sent = partitions.map((partition) => producer.send({ topic: 't', partition, value: 'w' }))
  await pump()
  await Promise.all(sent)
  cluster.produceCalls.length = 0
  cluster.produceHandler = handler
}

/**
 * The broker's sequence check (ProducerStateManager, simplified): per partition it accepts the
 * next expected sequence of the current epoch, a higher epoch starting at 0, and answers
 * OUT_OF_ORDER_SEQUENCE_NUMBER otherwise. `reject` may fail a batch first (not written).
 */
function sequenceChecker(
  reject: (call: ProduceCall, partition: number) => number | undefined = () => undefined,
): (call: ProduceCall) => {
  partitions: (topic: string, partition: number) => { errorCode: number } | undefined
} {
  const state = new Map<string, { epoch: number; next: number }>()
  return (call) => {
    const codes = new Map<number, number>()
    for (const p of call.partitions) {
      const b = p.batches[0]!
      const rejected = reject(call, p.partition)
      if (rejected !== undefined) {
        codes.set(p.partition, rejected)
        continue
      }
      const key = `${p.topic}/${p.partition}`
      const s = state.get(key)
      const ok =
        s === undefined || b.producerEpoch > s.epoch
          ? b.baseSequence === 0
          : b.producerEpoch === s.epoch && b.baseSequence === s.next
      if (!ok) {
        codes.set(p.partition, OUT_OF_ORDER_SEQUENCE_NUMBER)
        continue
      }
      state.set(key, { epoch: b.producerEpoch, next: b.baseSequence + b.records.length })
      codes.set(p.partition, 0)
    }
    return { partitions: (_t, partition) => ({ errorCode: codes.get(partition) ?? 0 }) }
  }
}

describe('idempotent Producer (against the fake broker)', () => {
  it('is on by default: InitProducerId first, then per-partition sequences from 0', async () => {
    const { cluster, producer, d, pump } = setup(
      { 'batch.num.messages': 2 },
      { topics: { t: { partitions: 2 } } },
    )
    assert.ok(idempotenceOf(producer), 'enable.idempotence defaults to true with acks=all')
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', partition: 0, value: `a${i}` }, d.cb(`a${i}`))
    for (let i = 0; i < 3; i++) producer.produce({ topic: 't', partition: 1, value: `b${i}` }, d.cb(`b${i}`))
    await pump()

    const inits = initRequests(cluster)
    assert.equal(inits.length, 1)
    const body = inits[0]!.body as InitProducerIdRequest
    assert.equal(body.transactionalId, null)
    assert.equal(body.producerId, -1n)
    assert.equal(body.producerEpoch, -1)
    const firstProduce = cluster.requests.findIndex((r) => r.apiName === 'Produce')
    assert.ok(cluster.requests.indexOf(inits[0]!) < firstProduce, 'no Produce before the producer id')
    assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 0])

    assert.deepEqual(stamps(cluster.produceCalls, 0), [
      [1000n, 0, 0, ['a0', 'a1']],
      [1000n, 0, 2, ['a2', 'a3']],
      [1000n, 0, 4, ['a4']],
    ])
    assert.deepEqual(stamps(cluster.produceCalls, 1), [
      [1000n, 0, 0, ['b0', 'b1']],
      [1000n, 0, 2, ['b2']],
    ])
    for (const call of cluster.produceCalls) {
      for (const p of call.partitions) for (const b of p.batches) assert.equal(b.transactional, false)
    }

    // Later batches go on from where the partition stopped.
    producer.produce({ topic: 't', partition: 0, value: 'a5' }, d.cb('a5'))
    producer.produce({ topic: 't', partition: 1, value: 'b3' }, d.cb('b3'))
    await pump()
    assert.deepEqual(stamps(cluster.produceCalls, 0).at(-1), [1000n, 0, 5, ['a5']])
    assert.deepEqual(stamps(cluster.produceCalls, 1).at(-1), [1000n, 0, 3, ['b3']])
    assert.equal(initRequests(cluster).length, 1)
    assert.deepEqual(
      ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'].map((id) => d.one(id).report.offset),
      [0, 1, 2, 3, 4, 5],
    )
    for (const id of d.calls.keys()) assert.equal(d.one(id).err, null)
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  for (const [name, reply] of [
    ['NOT_LEADER_OR_FOLLOWER', { errorCode: NOT_LEADER_OR_FOLLOWER }],
    ['a dropped connection', 'close'],
  ] as const) {
    it(`a batch retried after ${name} is resent with the same producer id, epoch, sequence and bytes`, async () => {
      const { cluster, producer, d, pump } = setup({ 'batch.num.messages': 2 })
      producer.produce({ topic: 't', value: 'x0' }, d.cb('x0'))
      producer.produce({ topic: 't', value: 'x1' }, d.cb('x1'))
      await pump()
      assert.equal(d.one('x0').err, null)
      // The second batch (sequence 2) fails once, then goes through.
      cluster.produceHandler = (call) => (call.seq === 1 ? reply : 'ok')
      producer.produce({ topic: 't', value: 'y0' }, d.cb('y0'))
      producer.produce({ topic: 't', value: 'y1' }, d.cb('y1'))
      await pump()
      assert.equal(cluster.produceCalls.length, 2)
      assert.equal(d.calls.get('y0')!.length, 0, 'not reported while retrying')
      for (let i = 0; i < 5; i++) await pump(300)
      assert.equal(cluster.produceCalls.length, 3)
      const [, first, retry] = cluster.produceCalls
      assert.deepEqual(stamps([first!]), [[1000n, 0, 2, ['y0', 'y1']]])
      assert.deepEqual(stamps([retry!]), [[1000n, 0, 2, ['y0', 'y1']]])
      assert.ok(first!.partitions[0]!.raw.length > 61)
      assert.ok(first!.partitions[0]!.raw.equals(retry!.partitions[0]!.raw), 'the retry is byte-identical')
      assert.deepEqual([d.one('y0').err, d.one('y1').err, d.one('y0').report.offset], [null, null, 2])
      assert.deepEqual(values(cluster), ['x0', 'x1', 'y0', 'y1'])
      assert.equal(idempotenceOf(producer)!.bumps, 0)
      d.assertAllOnce()
      await closeIdle(producer, pump)
    })
  }

  it('DUPLICATE_SEQUENCE_NUMBER reports the records as delivered (offset unknown)', async () => {
    const { cluster, producer, d, errors, pump } = setup()
    cluster.produceHandler = () => ({ errorCode: DUPLICATE_SEQUENCE_NUMBER })
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
    await pump()
    await pump(5_000)
    assert.equal(cluster.produceCalls.length, 1, 'not retried')
    for (const id of ['a', 'b']) {
      const { err, report } = d.one(id)
      assert.equal(err, null)
      assert.equal(report.offset, -1)
    }
    // The sequence moves on past the duplicate.
    cluster.produceHandler = () => 'ok'
    producer.produce({ topic: 't', value: 'c' }, d.cb('c'))
    await pump()
    assert.deepEqual(stamps(cluster.produceCalls).at(-1), [1000n, 0, 2, ['c']])
    assert.equal(d.one('c').err, null)
    assert.equal(idempotenceOf(producer)!.bumps, 0)
    assert.deepEqual(errors, [])
    await closeIdle(producer, pump)
  })

  it('a partition has one batch in flight until the broker acknowledges one in the epoch', async () => {
    // A broker without state for this producer id accepts any first sequence: were b in flight
    // beside a, and a refused (say, as too large), b would be written ahead of it.
    const { cluster, producer, d, pump } = setup({ 'batch.num.messages': 1 })
    cluster.produceHandler = () => 'hold'
    for (const id of ['a', 'b', 'c']) producer.produce({ topic: 't', value: id }, d.cb(id))
    await pump()
    await pump(100)
    assert.deepEqual(stamps(cluster.produceCalls), [[1000n, 0, 0, ['a']]])
    cluster.produceCalls[0]!.release()
    await pump()
    assert.deepEqual(stamps(cluster.produceCalls).slice(1), [
      [1000n, 0, 1, ['b']],
      [1000n, 0, 2, ['c']],
    ])
    assert.equal(cluster.produceCalls.filter((c) => !c.answered).length, 2, 'then several at once')
    for (const c of cluster.produceCalls) c.release()
    await pump()
    assert.deepEqual(values(cluster), ['a', 'b', 'c'])
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  it('3 batches in flight: NOT_LEADER for the first, OUT_OF_ORDER for the others → all resent in order, no bump', async () => {
    const { cluster, producer, d, errors, pump } = setup({ 'batch.num.messages': 2 })
    await firstAck(cluster, producer, pump)
    cluster.produceHandler = () => 'hold'
    const ids = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']
    for (const id of ids) producer.produce({ topic: 't', value: id }, d.cb(id))
    await pump()
    assert.deepEqual(stamps(cluster.produceCalls), [
      [1000n, 0, 1, ['r0', 'r1']],
      [1000n, 0, 3, ['r2', 'r3']],
      [1000n, 0, 5, ['r4', 'r5']],
    ])
    assert.equal(cluster.produceCalls.length, 3, 'three requests in flight')
    const [c0, c1, c2] = cluster.produceCalls
    c0!.release({ errorCode: NOT_LEADER_OR_FOLLOWER })
    c1!.release({ errorCode: OUT_OF_ORDER_SEQUENCE_NUMBER })
    c2!.release({ errorCode: OUT_OF_ORDER_SEQUENCE_NUMBER })
    await pump()
    assert.equal(cluster.produceCalls.length, 3)
    assert.equal(d.total, 0)

    // Resends go one at a time, in sequence order: each waits for the answer of the one before.
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 4; i++) await pump(100)
      assert.equal(cluster.produceCalls.length, 4 + k, `resend ${k} and nothing after it`)
      assert.deepEqual(stamps([cluster.produceCalls[3 + k]!]), [
        [1000n, 0, 1 + 2 * k, [ids[2 * k]!, ids[2 * k + 1]!]],
      ])
      assert.ok(
        cluster.produceCalls[3 + k]!.partitions[0]!.raw.equals(cluster.produceCalls[k]!.partitions[0]!.raw),
      )
      cluster.produceCalls[3 + k]!.release()
      await pump()
    }
    await pump(1_000)
    assert.equal(cluster.produceCalls.length, 6)
    assert.deepEqual(values(cluster), ids)
    assert.deepEqual(d.order, ids)
    assert.deepEqual(
      ids.map((id) => [d.one(id).err, d.one(id).report.offset]),
      ids.map((_, i) => [null, i + 1]),
    )
    assert.equal(idempotenceOf(producer)!.bumps, 0)
    assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 0])
    assert.deepEqual(errors, [])
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  for (const [name, code] of [
    ['OUT_OF_ORDER_SEQUENCE_NUMBER for the next-in-line batch', OUT_OF_ORDER_SEQUENCE_NUMBER],
    ['UNKNOWN_PRODUCER_ID', UNKNOWN_PRODUCER_ID],
  ] as const) {
    it(`${name} bumps the epoch and resends the batch from sequence 0`, async () => {
      const { cluster, producer, d, errors, pump } = setup({ 'batch.num.messages': 2 })
      producer.produce({ topic: 't', value: 'a0' }, d.cb('a0'))
      producer.produce({ topic: 't', value: 'a1' }, d.cb('a1'))
      await pump()
      assert.equal(d.one('a0').err, null)
      cluster.produceHandler = (call) => (call.seq === 1 ? { errorCode: code } : 'ok')
      producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
      await pump()
      for (let i = 0; i < 5; i++) await pump(300)
      assert.deepEqual(stamps(cluster.produceCalls), [
        [1000n, 0, 0, ['a0', 'a1']],
        [1000n, 0, 2, ['b']],
        [1000n, 1, 0, ['b']],
      ])
      assert.equal(idempotenceOf(producer)!.bumps, 1)
      assert.deepEqual([producer.producerId, producer.producerEpoch], [1000n, 1])
      assert.equal(initRequests(cluster).length, 1, 'a bump is local: no new InitProducerId')
      const { err, report } = d.one('b')
      assert.equal(err, null)
      assert.equal(report.offset, 2)
      // The next batch continues the new epoch.
      producer.produce({ topic: 't', value: 'c' }, d.cb('c'))
      await pump()
      assert.deepEqual(stamps(cluster.produceCalls).at(-1), [1000n, 1, 1, ['c']])
      assert.equal(d.one('c').err, null)
      assert.deepEqual(values(cluster), ['a0', 'a1', 'b', 'c'])
      assert.deepEqual(errors, [])
      d.assertAllOnce()
      await closeIdle(producer, pump)
    })
  }

  it('a bump waits for every in-flight request, then restamps the unacknowledged batches in order', async () => {
    const { cluster, producer, d, pump } = setup({ 'batch.num.messages': 1 })
    await firstAck(cluster, producer, pump)
    cluster.produceHandler = () => 'hold'
    for (const id of ['a', 'b', 'c']) producer.produce({ topic: 't', value: id }, d.cb(id))
    await pump()
    assert.equal(cluster.produceCalls.length, 3)
    cluster.produceCalls[0]!.release({ errorCode: UNKNOWN_PRODUCER_ID })
    cluster.produceCalls[1]!.release({ errorCode: OUT_OF_ORDER_SEQUENCE_NUMBER })
    await pump()
    await pump(1_000)
    assert.equal(cluster.produceCalls.length, 3, 'no bump nor resend while c is in flight')
    assert.equal(idempotenceOf(producer)!.bumps, 0)
    cluster.produceCalls[2]!.release({ errorCode: OUT_OF_ORDER_SEQUENCE_NUMBER })
    cluster.produceHandler = () => 'ok'
    for (let i = 0; i < 5; i++) await pump(300)
    assert.deepEqual(stamps(cluster.produceCalls), [
      [1000n, 0, 1, ['a']],
      [1000n, 0, 2, ['b']],
      [1000n, 0, 3, ['c']],
      [1000n, 1, 0, ['a']],
      [1000n, 1, 1, ['b']],
      [1000n, 1, 2, ['c']],
    ])
    assert.equal(idempotenceOf(producer)!.bumps, 1)
    assert.deepEqual(values(cluster), ['a', 'b', 'c'])
    assert.deepEqual(d.order, ['a', 'b', 'c'])
    for (const id of ['a', 'b', 'c']) assert.equal(d.one(id).err, null)
    await closeIdle(producer, pump)
  })

  it('a stamped batch that expires fails once with _MSG_TIMED_OUT; the next batch starts a new epoch at 0', async () => {
    const { cluster, producer, d, pump } = setup({
      'request.timeout.ms': 3_000,
      'delivery.timeout.ms': 5_000,
    })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    // The request times out at T0 + 3000 (the connection is closed) and is resent unchanged.
    for (let i = 0; i < 9; i++) await pump(500) // T0 + 4500
    assert.equal(cluster.produceCalls.length, 2)
    assert.deepEqual(stamps(cluster.produceCalls), [
      [1000n, 0, 0, ['a']],
      [1000n, 0, 0, ['a']],
    ])
    assert.equal(d.calls.get('a')!.length, 0)
    await pump(500) // T0 + 5000: a's deadline
    const { err, report } = d.one('a')
    assert.equal(err!.code, '_MSG_TIMED_OUT')
    assert.equal(report.offset, -1)
    assert.equal(producer.pending, 0)

    producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
    await pump()
    await pump(100)
    assert.equal(cluster.produceCalls.length, 2, 'b waits until the request for a is answered')
    cluster.produceHandler = () => 'ok'
    cluster.produceCalls[1]!.release() // a late success for a: ignored
    await pump()
    await pump(100)
    assert.deepEqual(stamps(cluster.produceCalls).slice(2), [[1000n, 1, 0, ['b']]])
    assert.equal(idempotenceOf(producer)!.bumps, 1)
    assert.equal(d.one('b').err, null)
    assert.equal(d.one('a').err!.code, '_MSG_TIMED_OUT', 'still one callback for a')
    await pump(10_000)
    d.assertAllOnce()
    assert.equal(d.total, 2)
    await closeIdle(producer, pump)
  })

  it('a batch failed by a non-retriable error leaves a gap: the epoch is bumped, later batches are not stuck', async () => {
    const INVALID_RECORD = 87
    const { cluster, producer, d, pump } = setup({ 'delivery.timeout.ms': 60_000 })
    cluster.produceHandler = sequenceChecker((call) => (call.seq === 1 ? INVALID_RECORD : undefined))
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    await pump()
    assert.equal(d.one('a').err, null)
    producer.produce({ topic: 't', value: 'bad' }, d.cb('bad'))
    await pump()
    assert.equal(d.one('bad').err!.code, 'INVALID_RECORD')
    producer.produce({ topic: 't', value: 'c' }, d.cb('c'))
    for (let i = 0; i < 10; i++) await pump(300)
    // The broker never wrote sequence 1: sending c as sequence 2 of epoch 0 could never succeed.
    assert.equal(d.one('c').err, null, `c: ${d.calls.get('c')?.[0]?.err?.message ?? 'no report yet'}`)
    assert.deepEqual(stamps(cluster.produceCalls).at(-1), [1000n, 1, 0, ['c']])
    assert.equal(idempotenceOf(producer)!.bumps, 1)
    assert.deepEqual(values(cluster), ['a', 'c'])
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  it('with batches in flight behind a non-retriable failure, they are resent under a new epoch and delivered', async () => {
    const INVALID_RECORD = 87
    const { cluster, producer, d, pump } = setup({ 'batch.num.messages': 1, 'delivery.timeout.ms': 60_000 })
    await firstAck(cluster, producer, pump)
    const check = sequenceChecker((call) => (call.seq === 0 ? INVALID_RECORD : undefined))
    cluster.produceHandler = () => 'hold'
    for (const id of ['bad', 'b', 'c']) producer.produce({ topic: 't', value: id }, d.cb(id))
    await pump()
    assert.equal(cluster.produceCalls.length, 3)
    for (const c of cluster.produceCalls) c.release(check(c))
    cluster.produceHandler = check
    for (let i = 0; i < 10; i++) await pump(300)
    assert.equal(d.one('bad').err!.code, 'INVALID_RECORD')
    for (const id of ['b', 'c']) assert.equal(d.one(id).err, null, id)
    assert.deepEqual(stamps(cluster.produceCalls).slice(3), [
      [1000n, 1, 0, ['b']],
      [1000n, 1, 1, ['c']],
    ])
    assert.deepEqual(values(cluster), ['b', 'c'])
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  it('epoch exhaustion: a bump at epoch 32767 asks for a new producer id, which the resent batch carries', async () => {
    const { cluster, producer, d, pump } = setup()
    const ids = [initReply({ producerId: 500n, producerEpoch: 32767 }), initReply({ producerId: 501n })]
    cluster.initProducerIdHandler = () => ids.shift()
    cluster.produceHandler = (call) => (call.seq === 0 ? { errorCode: UNKNOWN_PRODUCER_ID } : 'ok')
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    await pump()
    for (let i = 0; i < 5; i++) await pump(300)
    assert.equal(initRequests(cluster).length, 2)
    assert.deepEqual(stamps(cluster.produceCalls), [
      [500n, 32767, 0, ['a']],
      [501n, 0, 0, ['a']],
    ])
    assert.deepEqual([producer.producerId, producer.producerEpoch], [501n, 0])
    assert.equal(idempotenceOf(producer)!.bumps, 1)
    assert.equal(d.one('a').err, null)
    await closeIdle(producer, pump)
  })

  it('never has more than 5 batches of one partition in flight', async () => {
    const { cluster, producer, d, pump } = setup({ 'batch.num.messages': 1 })
    await firstAck(cluster, producer, pump)
    cluster.produceHandler = () => 'hold'
    const n = 12
    for (let i = 0; i < n; i++) producer.produce({ topic: 't', value: `${i}` }, d.cb(`${i}`))
    await pump()
    await pump(1_000)
    assert.equal(cluster.produceCalls.length, 5)
    let maxUnanswered = 0
    for (let released = 0; released < n; released++) {
      const unanswered = cluster.produceCalls.filter((c) => !c.answered).length
      maxUnanswered = Math.max(maxUnanswered, unanswered)
      assert.ok(unanswered <= 5, `${unanswered} batches in flight`)
      cluster.produceCalls[released]!.release()
      await pump()
    }
    assert.equal(maxUnanswered, 5)
    assert.equal(cluster.produceCalls.length, n)
    assert.deepEqual(
      stamps(cluster.produceCalls).map((s) => s[2]),
      Array.from({ length: n }, (_, i) => i + 1),
    )
    d.assertAllOnce()
    assert.deepEqual(
      values(cluster),
      Array.from({ length: n }, (_, i) => `${i}`),
    )
    await closeIdle(producer, pump)
  })

  it('the 5-batch cap is per partition, not per connection: a new leader gets nothing while 5 are in flight', async () => {
    const brokers = [
      { nodeId: 1, host: 'broker1', port: 9092 },
      { nodeId: 2, host: 'broker2', port: 9093 },
    ]
    const { cluster, producer, d, pump } = setup(
      { 'batch.num.messages': 1, 'retry.backoff.ms': 100 },
      { brokers, topics: { t: { partitions: [{ leader: 1 }, { leader: 2 }] } } },
    )
    await firstAck(cluster, producer, pump, [0, 1])
    cluster.produceHandler = (call) => (call.nodeId === 1 ? 'hold' : 'ok')
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', partition: 0, value: `${i}` }, d.cb(`${i}`))
    await pump()
    assert.equal(cluster.produceCalls.length, 5)
    // Partition 0 moves to broker 2; an error on partition 1 makes the producer refresh metadata.
    cluster.setLeader('t', 0, 2)
    cluster.produceHandler = (call) =>
      call.nodeId === 1 || call.partitions.some((p) => p.partition === 0)
        ? 'hold'
        : call.seq === 5
          ? { errorCode: NOT_LEADER_OR_FOLLOWER }
          : 'ok'
    producer.produce({ topic: 't', partition: 1, value: 'p1' }, d.cb('p1'))
    for (let i = 0; i < 5; i++)
      producer.produce({ topic: 't', partition: 0, value: `${5 + i}` }, d.cb(`${5 + i}`))
    for (let i = 0; i < 6; i++) await pump(200)
    const metaAfter = cluster.metadataRequests().length
    assert.ok(metaAfter >= 2, 'metadata refreshed')
    assert.equal(d.one('p1').err, null)
    assert.deepEqual(
      cluster.produceCalls.filter((c) => c.nodeId === 2).flatMap((c) => c.partitions.map((p) => p.partition)),
      [1, 1],
      'partition 0 sends nothing to broker 2 while 5 of its batches are in flight on broker 1',
    )
    // One answer from broker 1 frees one slot: exactly one more batch of partition 0 goes out
    // (held by broker 2, so 4 + 1 are in flight again).
    cluster.produceCalls[0]!.release()
    await pump()
    await pump(10)
    await pump(500)
    const p0On2 = cluster.produceCalls.filter(
      (c) => c.nodeId === 2 && c.partitions.some((p) => p.partition === 0),
    )
    assert.equal(p0On2.length, 1)
    assert.deepEqual(stamps(p0On2), [[1000n, 0, 6, ['5']]])
    assert.equal(d.one('0').err, null)
    // Let everything finish.
    for (const c of cluster.produceCalls) if (!c.answered) c.release()
    for (let i = 0; i < 10; i++) await pump(200)
    for (const c of cluster.produceCalls) if (!c.answered) c.release()
    for (let i = 0; i < 10; i++) await pump(200)
    assert.equal(producer.pending, 0)
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  it('InitProducerId answered with CLUSTER_AUTHORIZATION_FAILED is fatal: every record fails once, new ones throw', async () => {
    const { cluster, producer, d, errors, pump } = setup()
    cluster.initProducerIdHandler = () => initReply({ errorCode: CLUSTER_AUTHORIZATION_FAILED })
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
    const sent = producer.send({ topic: 't', value: 'c' }).then(
      () => null,
      (e: unknown) => e as KafkaError,
    )
    await pump()
    const fatal = producer.fatal
    assert.ok(fatal instanceof KafkaError)
    assert.equal(fatal.code, 'CLUSTER_AUTHORIZATION_FAILED')
    assert.equal(fatal.kafkaCode, CLUSTER_AUTHORIZATION_FAILED)
    assert.equal(fatal.fatal, true)
    assert.equal(fatal.retriable, false)
    for (const id of ['a', 'b']) {
      const { err, report } = d.one(id)
      assert.equal(err, fatal)
      assert.equal(report.offset, -1)
    }
    assert.equal(await sent, fatal)
    assert.equal(producer.pending, 0)
    assert.equal(cluster.produceCalls.length, 0)
    assert.equal(initRequests(cluster).length, 1, 'not retried')
    assert.deepEqual(errors, [fatal])
    assert.throws(
      () => producer.produce({ topic: 't', value: 'd' }, d.cb('d')),
      (e: unknown) => e === fatal,
    )
    await assert.rejects(producer.send({ topic: 't', value: 'e' }), (e: unknown) => e === fatal)
    assert.equal(d.calls.get('d')!.length, 0, 'a refused record gets no callback')
    await pump(60_000)
    assert.equal(initRequests(cluster).length, 1)
    assert.equal(d.total, 2)
    const closed = producer.close()
    await pump()
    await closed
  })

  it('PRODUCER_FENCED on a Produce is fatal: in-flight and queued records fail once, late answers are ignored', async () => {
    const brokers = [
      { nodeId: 1, host: 'broker1', port: 9092 },
      { nodeId: 2, host: 'broker2', port: 9093 },
    ]
    const { cluster, producer, d, errors, pump } = setup(
      { 'batch.num.messages': 1 },
      { brokers, topics: { t: { partitions: [{ leader: 1 }, { leader: 2 }] } } },
    )
    await firstAck(cluster, producer, pump)
    cluster.produceHandler = () => 'hold'
    for (const id of ['a0', 'a1']) producer.produce({ topic: 't', partition: 0, value: id }, d.cb(id))
    producer.produce({ topic: 't', partition: 1, value: 'b0' }, d.cb('b0'))
    await pump()
    assert.equal(cluster.produceCalls.length, 3)
    const onNode1 = cluster.produceCalls.filter((c) => c.nodeId === 1)
    const onNode2 = cluster.produceCalls.filter((c) => c.nodeId === 2)
    assert.equal(onNode1.length, 2)
    assert.equal(onNode2.length, 1)
    onNode1[0]!.release({ errorCode: PRODUCER_FENCED })
    await pump()
    const fatal = producer.fatal
    assert.ok(fatal instanceof KafkaError)
    assert.equal(fatal.code, 'PRODUCER_FENCED')
    assert.equal(fatal.kafkaCode, PRODUCER_FENCED)
    assert.equal(fatal.fatal, true)
    for (const id of ['a0', 'a1', 'b0']) assert.equal(d.one(id).err, fatal, id)
    assert.equal(producer.pending, 0)
    assert.deepEqual(errors, [fatal])
    assert.throws(
      () => producer.produce({ topic: 't', partition: 0, value: 'x' }),
      (e: unknown) => e === fatal,
    )
    await assert.rejects(producer.send({ topic: 't', value: 'y' }), (e: unknown) => e === fatal)
    // The other answers arrive after all: nothing changes.
    onNode1[1]!.release({ errorCode: PRODUCER_FENCED })
    onNode2[0]!.release()
    await pump()
    await pump(60_000)
    d.assertAllOnce()
    assert.equal(d.total, 3)
    assert.equal(cluster.produceCalls.length, 3, 'nothing resent')
    assert.deepEqual(errors, [fatal])
    const closed = producer.close()
    await pump()
    await closed
  })

  it('InitProducerId answered with COORDINATOR_LOAD_IN_PROGRESS is retried after the backoff', async () => {
    const { cluster, clock, producer, d, errors, pump } = setup({
      'retry.backoff.ms': 200,
      'retry.backoff.max.ms': 1_000,
    })
    const times: number[] = []
    const replies = [
      initReply({ errorCode: COORDINATOR_LOAD_IN_PROGRESS }),
      initReply({ producerId: 77n, producerEpoch: 3 }),
    ]
    cluster.initProducerIdHandler = () => {
      times.push(clock.now())
      return replies.shift()
    }
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    await pump()
    assert.equal(initRequests(cluster).length, 1)
    await pump(159)
    assert.equal(initRequests(cluster).length, 1, 'not before retry.backoff.ms (-20 % jitter)')
    assert.equal(d.calls.get('a')!.length, 0)
    for (let i = 0; i < 5; i++) await pump(20)
    assert.equal(initRequests(cluster).length, 2)
    assert.ok(
      times[1]! - times[0]! >= 160 && times[1]! - times[0]! <= 240,
      `retried after ${times[1]! - times[0]!} ms`,
    )
    await pump()
    assert.deepEqual(stamps(cluster.produceCalls), [[77n, 3, 0, ['a']]])
    assert.equal(d.one('a').err, null)
    assert.equal(producer.fatal, null)
    assert.deepEqual(errors, [])
    await closeIdle(producer, pump)
  })

  it('a batch refused as MESSAGE_TOO_LARGE is split in order and keeps its sequence range; a lone record still too large fails once', async () => {
    const { cluster, producer, d, errors, pump } = setup({ 'linger.ms': 50, 'batch.size': 100_000 })
    const LIMIT = 5000 // the "broker's" max.message.bytes for this test
    cluster.produceHandler = sequenceChecker((call, partition) =>
      call.partitions.find((p) => p.partition === partition)!.bytes > LIMIT ? MESSAGE_TOO_LARGE : undefined,
    )
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const id = `r${String(i).padStart(2, '0')}`
      ids.push(id)
      // r25 alone is over the limit: it ends up in a batch of its own and fails.
      const size = i === 25 ? 6000 : 480
      producer.produce({ topic: 't', partition: 0, value: id + 'x'.repeat(size) }, d.cb(id))
    }
    const flushed = producer.flush(10_000)
    for (let k = 0; k < 10; k++) await pump(100)
    assert.equal(await flushed, 0)
    d.assertAllOnce()
    for (const id of ids) {
      const { err } = d.one(id)
      if (id === 'r25') {
        assert.equal(err?.code, 'MESSAGE_TOO_LARGE')
        assert.equal(err?.retriable, false)
      } else assert.equal(err, null, `${id}: ${err?.message}`)
    }
    // Everything else is in the log once, in produce order.
    assert.deepEqual(
      values(cluster).map((v) => v.slice(0, 3)),
      ids.filter((id) => id !== 'r25'),
    )
    // The first refused batch held all 40 records; the parts that were accepted before r25 failed
    // carry its sequence range, contiguous from 0.
    const sent = stamps(cluster.produceCalls)
    assert.equal(sent[0]![3].length, 40)
    const accepted = sent.filter((s) => s[3].reduce((n, v) => n + v.length, 0) < LIMIT && s[1] === 0)
    let seq = 0
    for (const [, , base, vals] of accepted.filter((s) => !s[3].some((v) => v.startsWith('r25')))) {
      if (vals[0]! > 'r25') break
      assert.equal(base, seq)
      seq += vals.length
    }
    assert.equal(seq, 25, 'r00..r24 delivered under the original epoch with contiguous sequences')
    assert.equal(producer.fatal, null)
    assert.deepEqual(errors, [])
    assert.equal(producer.pending, 0)
  })
})
