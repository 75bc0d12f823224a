import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { DeliveryReport } from '../../../src/producer/record.js'
import { KafkaError } from '../../../src/errors/index.js'
import { RecordBatchBuilder } from '../../../src/protocol/index.js'
import { T0, closeFakeProducers, closeIdle, eagerProducer } from '../../helpers/fake-producer.js'
import { plainReport } from '../../helpers/deliveries.js'

afterEach(closeFakeProducers)

const setup = eagerProducer

describe('Producer (against the fake broker)', () => {
  it('holds a batch until linger.ms passes, and flush() sends at once', async () => {
    const { cluster, producer, d, pump } = setup({ 'linger.ms': 100 })
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    await pump()
    assert.equal(cluster.produceCalls.length, 0, 'metadata known, batch lingering')
    await pump(99)
    assert.equal(cluster.produceCalls.length, 0)
    await pump(1)
    assert.equal(cluster.produceCalls.length, 1)
    assert.deepEqual(
      cluster.produceCalls[0]!.partitions[0]!.records.map((r) => r.value!.toString()),
      ['a'],
    )
    assert.equal(d.one('a').err, null)

    producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
    producer.produce({ topic: 't', value: 'c' }, d.cb('c'))
    await pump(50)
    assert.equal(cluster.produceCalls.length, 1, 'still lingering')
    const remaining = producer.flush()
    await pump()
    assert.equal(await remaining, 0)
    assert.equal(cluster.produceCalls.length, 2)
    const call = cluster.produceCalls[1]!
    assert.equal(call.partitions[0]!.batches.length, 1)
    assert.deepEqual(
      call.partitions[0]!.records.map((r) => r.value!.toString()),
      ['b', 'c'],
    )
    assert.deepEqual([d.one('b').report.offset, d.one('c').report.offset], [1, 2])
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  it('delivery reports carry topic, partition, offset (baseOffset + index), timestamp, key, value, headers', async () => {
    const { cluster, producer, d, pump } = setup({}, { topics: { t: { partitions: 3 } } })
    cluster.produceHandler = () => ({ partitions: () => ({ baseOffset: 42 }) })
    producer.produce(
      {
        topic: 't',
        partition: 2,
        key: 'k1',
        value: 'v1',
        headers: [
          ['h', 'x'],
          ['h', 'y'],
          ['n', null],
        ],
      },
      d.cb('r1'),
    )
    producer.produce(
      {
        topic: 't',
        partition: 2,
        key: Buffer.from([1, 2]),
        value: null,
        headers: { trace: 'abc' },
        timestamp: 12345,
      },
      d.cb('r2'),
    )
    producer.produce({ topic: 't', partition: 2, value: new Uint8Array([9, 8, 7]) }, d.cb('r3'))
    const flushed = producer.flush()
    await pump()
    assert.equal(await flushed, 0)
    const r1 = d.one('r1')
    assert.equal(r1.err, null)
    assert.deepEqual(plainReport(r1.report), {
      topic: 't',
      partition: 2,
      offset: 42,
      timestamp: T0,
      key: Buffer.from('k1'),
      value: Buffer.from('v1'),
      headers: [
        ['h', Buffer.from('x')],
        ['h', Buffer.from('y')],
        ['n', null],
      ],
    })
    assert.deepEqual(plainReport(d.one('r2').report), {
      topic: 't',
      partition: 2,
      offset: 43,
      timestamp: 12345,
      key: Buffer.from([1, 2]),
      value: null,
      headers: [['trace', Buffer.from('abc')]],
    })
    assert.equal(d.one('r3').report.offset, 44)
    assert.deepEqual(d.one('r3').report.value, Buffer.from([9, 8, 7]))
    assert.deepEqual(d.one('r3').report.headers, [])
    // What went over the wire: one batch of three records, in order, with the same fields.
    assert.equal(cluster.produceCalls.length, 1)
    const [part] = cluster.produceCalls[0]!.partitions
    assert.deepEqual([part!.topic, part!.partition, part!.batches.length], ['t', 2, 1])
    assert.deepEqual(
      part!.records.map((r) => [r.key, r.value, r.headers, r.timestamp]),
      [
        [
          Buffer.from('k1'),
          Buffer.from('v1'),
          [
            ['h', Buffer.from('x')],
            ['h', Buffer.from('y')],
            ['n', null],
          ],
          T0,
        ],
        [Buffer.from([1, 2]), null, [['trace', Buffer.from('abc')]], 12345],
        [null, Buffer.from([9, 8, 7]), [], T0],
      ],
    )
    assert.equal(cluster.produceCalls[0]!.acks, -1)
    assert.equal(
      cluster.produceCalls[0]!.apiVersion,
      12,
      'Produce capped at v12 (v13 addresses topics by id)',
    )
    d.assertAllOnce()
    await closeIdle(producer, pump)
  })

  it('dr_msg_cb gets the same report as produce()’s callback, key, value and headers included', async () => {
    const reports: DeliveryReport[] = []
    // Not annotated: the parameters take their types from ProducerConfig['dr_msg_cb'].
    const { producer, pump } = setup({
      dr_msg_cb: (err, report) => {
        if (err === null) reports.push(report)
      },
    })
    producer.produce({ topic: 't', key: 'k', value: 'v', headers: { h: 'x' } })
    await pump()
    assert.equal(reports.length, 1)
    assert.deepEqual(
      [reports[0]!.key, reports[0]!.value, reports[0]!.headers],
      [Buffer.from('k'), Buffer.from('v'), [['h', Buffer.from('x')]]],
    )
    await closeIdle(producer, pump)
  })

  it('reports the broker log-append time when the topic uses it', async () => {
    const { cluster, producer, d, pump } = setup()
    cluster.produceHandler = () => ({ partitions: () => ({ logAppendTimeMs: 1_600_000_000_000 }) })
    const all = Promise.all([producer.send({ topic: 't', value: 'x', timestamp: 5 }), producer.flush()])
    await pump()
    const report = await all
    assert.equal(report[0].timestamp, 1_600_000_000_000)
    assert.equal(report[0].offset, 0)
    assert.equal(d.total, 0)
    await closeIdle(producer, pump)
  })

  it('retries NOT_LEADER_OR_FOLLOWER after retry.backoff.ms, refreshing metadata, on the new leader', async () => {
    const brokers = [
      { nodeId: 1, host: 'broker1', port: 9092 },
      { nodeId: 2, host: 'broker2', port: 9093 },
    ]
    const { cluster, clock, producer, d, pump } = setup(
      { 'retry.backoff.ms': 100, 'retry.backoff.max.ms': 1000 },
      { brokers, topics: { t: { partitions: [{ leader: 1 }] } } },
    )
    const times: number[] = []
    let first = true
    cluster.produceHandler = (call) => {
      times.push(clock.now())
      if (first) {
        first = false
        // The leader moves to broker 2 and broker 1 says so.
        cluster.setLeader('t', 0, 2)
        return { errorCode: 6 }
      }
      return call.nodeId === 2 ? 'ok' : { errorCode: 6 }
    }
    producer.produce({ topic: 't', partition: 0, value: 'v' }, d.cb('v'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    const metadataBefore = cluster.metadataRequests().length
    await pump(79)
    assert.equal(cluster.produceCalls.length, 1, 'no retry before the backoff (100 ms - 20 % jitter)')
    assert.equal(d.calls.get('v')!.length, 0)
    for (let i = 0; i < 20; i++) await pump(50)
    assert.ok(cluster.metadataRequests().length > metadataBefore, 'the error triggered a metadata refresh')
    const last = cluster.produceCalls.at(-1)!
    assert.equal(last.nodeId, 2)
    assert.ok(times[1]! - times[0]! >= 80, `retried ${times[1]! - times[0]!} ms later`)
    for (const c of cluster.produceCalls) {
      assert.deepEqual(
        c.partitions[0]!.records.map((r) => r.value!.toString()),
        ['v'],
        'every attempt resends the same batch',
      )
    }
    const { err, report } = d.one('v')
    assert.equal(err, null)
    assert.equal(report.offset, 0)
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString()),
      ['v'],
    )
    await closeIdle(producer, pump)
  })

  it('fails every record of a batch once on a non-retriable error (INVALID_RECORD), without retrying', async () => {
    const { cluster, producer, d, pump } = setup()
    cluster.produceHandler = () => ({ errorCode: 87, errorMessage: 'bad record' })
    for (const id of ['a', 'b', 'c']) producer.produce({ topic: 't', value: id }, d.cb(id))
    await pump()
    await pump(60_000)
    assert.equal(cluster.produceCalls.length, 1)
    assert.equal(cluster.produceCalls[0]!.partitions[0]!.records.length, 3)
    for (const id of ['a', 'b', 'c']) {
      const { err, report } = d.one(id)
      assert.ok(err instanceof KafkaError)
      assert.equal(err.code, 'INVALID_RECORD')
      assert.equal(err.kafkaCode, 87)
      assert.equal(err.retriable, false)
      assert.match(err.message, /produce to t\[0\]: bad record/)
      assert.equal(report.offset, -1)
      assert.equal(report.partition, 0)
      assert.deepEqual(report.value, Buffer.from(id))
    }
    assert.equal(producer.pending, 0)
    await closeIdle(producer, pump)
  })

  it('stops retrying a retriable error after `retries` attempts', async () => {
    const { cluster, producer, d, pump } = setup({
      retries: 2,
      'retry.backoff.ms': 10,
      'retry.backoff.max.ms': 10,
    })
    cluster.produceHandler = () => ({ errorCode: 19 }) // NOT_ENOUGH_REPLICAS, retriable
    producer.produce({ topic: 't', value: 'x' }, d.cb('x'))
    for (let i = 0; i < 10; i++) await pump(20)
    assert.equal(cluster.produceCalls.length, 3, '1 attempt + 2 retries')
    assert.equal(d.one('x').err!.code, 'NOT_ENOUGH_REPLICAS')
    await closeIdle(producer, pump)
  })

  it('delivery.timeout.ms fails an in-flight batch with _MSG_TIMED_OUT once, ignoring the late response', async () => {
    const { cluster, producer, d, pump } = setup({
      'max.in.flight.requests.per.connection': 1,
      'request.timeout.ms': 10_000,
      'delivery.timeout.ms': 12_000,
    })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'A' }, d.cb('A'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    await pump(1)
    producer.produce({ topic: 't', value: 'B' }, d.cb('B')) // created at T0 + 1, waits behind A
    await pump(4_999)
    assert.equal(cluster.produceCalls.length, 1, 'max.in.flight=1: B waits')
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(d.one('A').err, null)
    assert.equal(cluster.produceCalls.length, 2, 'B sent at T0 + 5000, its request times out at T0 + 15000')
    await pump(7_000) // T0 + 12000: B's deadline is T0 + 12001
    assert.equal(d.calls.get('B')!.length, 0)
    await pump(1)
    const { err, report } = d.one('B')
    assert.equal(err!.code, '_MSG_TIMED_OUT')
    assert.equal(err!.retriable, false)
    assert.equal(report.offset, -1)
    assert.equal(producer.pending, 0)
    // The broker answers after all: nothing changes for the application.
    cluster.produceCalls[1]!.release()
    await pump()
    await pump(20_000)
    d.assertAllOnce()
    assert.equal(d.total, 2)
    await closeIdle(producer, pump)
  })

  it('delivery.timeout.ms fails a batch that never left the queue (leader unreachable)', async () => {
    const brokers = [
      { nodeId: 1, host: 'broker1', port: 9092 },
      { nodeId: 2, host: 'broker2', port: 9093 },
    ]
    const { cluster, producer, d, pump } = setup(
      { 'request.timeout.ms': 1_000, 'delivery.timeout.ms': 5_000 },
      { brokers, topics: { t: { partitions: [{ leader: 2 }] } } },
    )
    cluster.down.add('broker2:9093')
    producer.produce({ topic: 't', value: 'x' }, d.cb('x'))
    producer.produce({ topic: 't', value: 'y' }, d.cb('y'))
    for (let t = 0; t < 4_999; t += 500) await pump(t === 0 ? 0 : 500)
    assert.equal(d.total, 0)
    assert.ok((cluster.connectAttempts.get('broker2:9093') ?? 0) >= 2, 'the leader was tried again')
    await pump(1_000)
    for (const id of ['x', 'y']) {
      const { err } = d.one(id)
      assert.equal(err!.code, '_MSG_TIMED_OUT')
      assert.match(err!.message, /not delivered within delivery.timeout.ms/)
    }
    assert.equal(cluster.produceCalls.length, 0)
    await pump(10_000)
    assert.equal(d.total, 2)
    await closeIdle(producer, pump)
  })

  it('a request timeout retries the same batch on a new connection', async () => {
    const { cluster, producer, d, pump } = setup({
      'request.timeout.ms': 1_000,
      'delivery.timeout.ms': 10_000,
    })
    cluster.produceHandler = (call) => (call.seq === 0 ? 'hold' : 'ok')
    producer.produce({ topic: 't', value: 'x' }, d.cb('x'))
    await pump()
    await pump(1_000)
    await pump(1_000)
    assert.equal(cluster.produceCalls.length, 2)
    const [first, retry] = cluster.produceCalls
    assert.equal(first!.connection.closed, true, 'the connection of the timed-out request is closed')
    assert.notEqual(retry!.connection, first!.connection, 'the retry goes out on another connection')
    assert.ok(retry!.partitions[0]!.raw.equals(first!.partitions[0]!.raw), 'the same batch, byte for byte')
    assert.deepEqual(
      retry!.partitions[0]!.records.map((r) => r.value!.toString()),
      ['x'],
    )
    assert.equal(d.one('x').err, null)
    await closeIdle(producer, pump)
  })

  it('acks=0: records are reported as soon as written, with offset -1', async () => {
    const { cluster, producer, d, pump } = setup({ acks: 0 })
    producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
    producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    assert.equal(cluster.produceCalls[0]!.acks, 0)
    for (const id of ['a', 'b']) {
      const { err, report } = d.one(id)
      assert.equal(err, null)
      assert.equal(report.offset, -1)
    }
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString()),
      ['a', 'b'],
    )
    await closeIdle(producer, pump)
  })

  it('produce() throws _QUEUE_FULL when buffer.memory is used up, while send() waits its turn', async () => {
    const { cluster, producer, d, pump } = setup({ 'buffer.memory': 1024 })
    cluster.produceHandler = () => 'hold'
    const big = 'x'.repeat(400)
    const bound = RecordBatchBuilder.recordSizeUpperBound(null, Buffer.from(big), null)
    assert.ok(2 * bound <= 1024 && 3 * bound > 1024, `bound ${bound}`)
    producer.produce({ topic: 't', value: big }, d.cb('1'))
    producer.produce({ topic: 't', value: big }, d.cb('2'))
    await pump()
    assert.throws(
      () => producer.produce({ topic: 't', value: big }),
      (e: unknown) => e instanceof KafkaError && e.code === '_QUEUE_FULL' && e.retriable,
    )
    let sent: DeliveryReport | null = null
    const waiting = producer.send({ topic: 't', value: big }).then((r) => (sent = r))
    await pump()
    // Bytes for a small record are there, but produce() must not overtake the waiting send().
    assert.throws(() => producer.produce({ topic: 't', value: 's' }), { code: '_QUEUE_FULL' })
    assert.equal(producer.pending, 2)
    for (const c of cluster.produceCalls) c.release()
    cluster.produceHandler = () => 'ok'
    await pump()
    await pump()
    await waiting
    assert.equal(d.one('1').err, null)
    assert.equal(d.one('2').err, null)
    assert.ok(sent)
    assert.equal((sent as DeliveryReport).offset, 2)
    // Nothing of the refused records reached the broker.
    assert.equal(cluster.log('t', 0).length, 3)
    assert.equal(producer.pending, 0)
    await closeIdle(producer, pump)
  })

  it('send() rejects with _QUEUE_FULL after max.block.ms and the record is not accepted', async () => {
    const { cluster, producer, d, pump } = setup({ 'buffer.memory': 1024, 'max.block.ms': 500 })
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'x'.repeat(900) }, d.cb('big'))
    await pump()
    const p = producer.send({ topic: 't', value: 'x'.repeat(400) }).catch((e: unknown) => e as KafkaError)
    await pump(499)
    assert.equal(producer.pending, 1)
    await pump(1)
    const e = (await p) as KafkaError
    assert.equal(e.code, '_QUEUE_FULL')
    assert.equal(producer.pending, 1)
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(d.one('big').err, null)
    assert.equal(cluster.log('t', 0).length, 1)
    await closeIdle(producer, pump)
  })

  it('a batch refused as MESSAGE_TOO_LARGE is split and resent in order, not counted as a retry', async () => {
    const { cluster, producer, d, pump } = setup({
      'enable.idempotence': false,
      retries: 0,
      'linger.ms': 50,
      'batch.size': 100_000,
    })
    const LIMIT = 4000
    cluster.produceHandler = (call) => ({
      partitions: (_t, partition) =>
        call.partitions.find((p) => p.partition === partition)!.bytes > LIMIT ? { errorCode: 10 } : undefined,
    })
    const ids = Array.from({ length: 30 }, (_, i) => `v${String(i).padStart(2, '0')}`)
    for (const id of ids) producer.produce({ topic: 't', value: id + 'y'.repeat(500) }, d.cb(id))
    const flushed = producer.flush(10_000)
    for (let k = 0; k < 6; k++) await pump(60)
    assert.equal(await flushed, 0)
    for (const id of ids) assert.equal(d.one(id).err, null)
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString().slice(0, 3)),
      ids,
    )
    // Offsets follow the log: each part reports its own base offset.
    assert.deepEqual(
      ids.map((id) => d.one(id).report.offset),
      ids.map((_, i) => i),
    )
    assert.ok(cluster.produceCalls.length >= 4, 'split at least twice (30 x ~540 B against 4,000 B)')
  })

  it('max.in.flight=1 keeps the order across a retry', async () => {
    const { cluster, producer, d, pump } = setup({
      'max.in.flight.requests.per.connection': 1,
      'batch.num.messages': 1,
      'retry.backoff.ms': 50,
      'retry.backoff.max.ms': 50,
    })
    cluster.produceHandler = (call) => (call.seq === 0 ? { errorCode: 19 } : 'ok')
    for (const id of ['1', '2', '3']) producer.produce({ topic: 't', value: id }, d.cb(id))
    for (let i = 0; i < 6; i++) await pump(60)
    const sent = cluster.produceCalls.map((c) =>
      c.partitions.flatMap((p) => p.records.map((r) => r.value!.toString())),
    )
    assert.deepEqual(sent, [['1'], ['1'], ['2'], ['3']])
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString()),
      ['1', '2', '3'],
    )
    assert.deepEqual(
      ['1', '2', '3'].map((id) => d.one(id).report.offset),
      [0, 1, 2],
    )
    await closeIdle(producer, pump)
  })

  it('an unknown topic waits, then fails with _UNKNOWN_TOPIC after topic.metadata.propagation.max.ms', async () => {
    const { cluster, producer, d, pump } = setup({ 'topic.metadata.propagation.max.ms': 1_000 })
    producer.produce({ topic: 'ghost', value: 'x' }, d.cb('x'))
    const p = producer.send({ topic: 'ghost', value: 'y' }).catch((e: unknown) => e as KafkaError)
    await pump()
    for (let i = 0; i < 9; i++) await pump(111) // T0 + 999
    assert.equal(d.calls.get('x')!.length, 0)
    assert.ok(cluster.metadataRequests().length >= 3, 'metadata asked again while waiting')
    await pump(1)
    const { err, report } = d.one('x')
    assert.equal(err!.code, '_UNKNOWN_TOPIC')
    assert.equal(err!.kafkaCode, 3)
    assert.deepEqual([report.topic, report.partition, report.offset], ['ghost', -1, -1])
    assert.equal(((await p) as KafkaError).code, '_UNKNOWN_TOPIC')
    assert.equal(cluster.produceCalls.length, 0)
    assert.equal(producer.pending, 0)
    await closeIdle(producer, pump)
  })

  it('a topic created while records wait for it gets them', async () => {
    const { cluster, producer, d, pump } = setup({ 'topic.metadata.propagation.max.ms': 5_000 })
    producer.produce({ topic: 'late', value: 'x' }, d.cb('x'))
    await pump()
    await pump(300)
    cluster.topics.set('late', { partitions: 1 })
    for (let i = 0; i < 5; i++) await pump(200)
    assert.equal(d.one('x').err, null)
    assert.deepEqual(
      cluster.log('late', 0).map((r) => r.value!.toString()),
      ['x'],
    )
    await closeIdle(producer, pump)
  })

  it('close() fails what is still outstanding with _DESTROY after its timeout, exactly once', async () => {
    const { cluster, producer, d, pump } = setup(
      {},
      { topics: { t: { partitions: 1 }, u: { partitions: 1 } } },
    )
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'inflight' }, d.cb('inflight'))
    await pump()
    assert.equal(cluster.produceCalls.length, 1)
    producer.produce({ topic: 'ghost', value: 'waiting' }, d.cb('waiting'))
    let closed = false
    const p = producer.close(2_000).then(() => (closed = true))
    assert.throws(() => producer.produce({ topic: 't', value: 'late' }), { code: '_STATE' })
    await pump(1_999)
    assert.equal(closed, false)
    assert.equal(d.total, 0)
    await pump(1)
    await p
    for (const id of ['inflight', 'waiting']) {
      const { err, report } = d.one(id)
      assert.equal(err!.code, '_DESTROY')
      assert.equal(report.offset, -1)
    }
    // The connection is closed under the in-flight request: no second report.
    await pump()
    await pump(60_000)
    d.assertAllOnce()
    assert.equal(d.total, 2)
    assert.equal(producer.pending, 0)
  })

  it('close() waits for in-flight records that complete within the timeout', async () => {
    const { cluster, producer, d, pump } = setup()
    cluster.produceHandler = () => 'hold'
    producer.produce({ topic: 't', value: 'x' }, d.cb('x'))
    await pump()
    const p = producer.close(5_000)
    await pump(100)
    cluster.produceCalls[0]!.release()
    await pump()
    await p
    assert.equal(d.one('x').err, null)
    assert.equal(cluster.openConnections().length, 0, 'close() disconnects')
  })

  it('after close(), produce() throws _STATE and send() rejects with _STATE', async () => {
    const { producer, pump } = setup()
    await closeIdle(producer, pump)
    assert.throws(
      () => producer.produce({ topic: 't', value: 'x' }),
      (e: unknown) => {
        assert.ok(e instanceof KafkaError)
        assert.equal(e.code, '_STATE')
        assert.match(e.message, /producer is closed/)
        return true
      },
    )
    await assert.rejects(producer.send({ topic: 't', value: 'x' }), { code: '_STATE' })
    assert.equal(producer.pending, 0)
  })
})
