import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/config/errors.js'
import type { ProducerConfig } from '../../../src/config/index.js'
import { Producer } from '../../../src/producer/producer.js'
import type { ProducerRecord } from '../../../src/producer/record.js'
import { KafkaError, type KafkaErrorCode } from '../../../src/errors/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import { seededRandom } from '../../../src/util/random.js'
import { FakeCluster, settle } from '../../helpers/fake-broker.js'

function make(config: Record<string, unknown> = {}): {
  producer: Producer
  cluster: FakeCluster
  clock: ManualClock
} {
  const cluster = new FakeCluster({ topics: { t: { partitions: 2 } } })
  const clock = new ManualClock()
  const producer = new Producer({ 'bootstrap.servers': cluster.bootstrap, ...config } as ProducerConfig, {
    clock,
    random: seededRandom(1),
    transport: cluster.transport,
  })
  return { producer, cluster, clock }
}

/** Asserts that `record` is refused with `code` by produce() and send(), and that nothing was enqueued. */
async function refused(
  producer: Producer,
  record: unknown,
  code: KafkaErrorCode,
  message?: RegExp,
): Promise<void> {
  let called = 0
  const before = producer.pending
  assert.throws(
    () => producer.produce(record as ProducerRecord, () => called++),
    (e: unknown) => {
      assert.ok(e instanceof KafkaError, `a KafkaError, got ${String(e)}`)
      assert.equal(e.code, code)
      if (message) assert.match(e.message, message)
      return true
    },
  )
  await assert.rejects(producer.send(record as ProducerRecord), { code })
  assert.equal(producer.pending, before, 'nothing enqueued')
  assert.equal(called, 0)
}

/** Closes at once; records still outstanding fail with _DESTROY. */
async function closeNow(producer: Producer, clock: ManualClock): Promise<void> {
  const p = producer.close(0)
  for (let i = 0; i < 3; i++) {
    clock.advance(0)
    await settle(5)
  }
  await p
}

describe('Producer input validation', () => {
  it('an unknown config key throws ConfigError naming the closest key', () => {
    assert.throws(
      () => new Producer({ 'bootstrap.servers': 'b:9092', 'linger.msx': 5 } as unknown as ProducerConfig),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError)
        assert.equal(e.suggestion, 'linger.ms')
        assert.match(e.message, /Unknown config key 'linger.msx'. Did you mean 'linger.ms'\?/)
        return true
      },
    )
  })

  it("acks: 'some' throws ConfigError listing the allowed values", () => {
    assert.throws(
      () => new Producer({ 'bootstrap.servers': 'b:9092', acks: 'some' } as unknown as ProducerConfig),
      (e: unknown) =>
        e instanceof ConfigError && /Invalid value 'some' for config key 'acks'/.test(e.message),
    )
  })

  it('a value over message.max.bytes is MESSAGE_TOO_LARGE', async () => {
    const { producer, cluster, clock } = make({ 'message.max.bytes': 1000, 'linger.ms': 1000 })
    await refused(
      producer,
      { topic: 't', value: Buffer.alloc(1000) },
      'MESSAGE_TOO_LARGE',
      /exceeds message.max.bytes=1000/,
    )
    // Just under the limit is accepted.
    let ok = 0
    producer.produce({ topic: 't', value: Buffer.alloc(800) }, () => ok++)
    assert.equal(producer.pending, 1)
    await settle(5)
    assert.equal(cluster.produceCalls.length, 0)
    await closeNow(producer, clock)
    assert.equal(ok, 1)
  })

  it('invalid topic names are INVALID_TOPIC_EXCEPTION', async () => {
    const { producer, clock } = make()
    for (const topic of ['', 'a b', 'x'.repeat(250), '.', '..', 'ü', 42, undefined]) {
      await refused(producer, { topic, value: 'v' }, 'INVALID_TOPIC_EXCEPTION', /invalid topic name/)
    }
    // 249 characters is still a valid name.
    producer.produce({ topic: 'x'.repeat(249), value: 'v' })
    assert.equal(producer.pending, 1)
    await closeNow(producer, clock)
  })

  it('the empty topic name is refused even as the first topic a process produces to', async () => {
    // A fresh instance of the module, as in a new process: its cache of the last valid name is empty.
    const fresh = (await import(
      `../../../src/producer/normalize.js?first-topic=${Date.now()}`
    )) as typeof import('../../../src/producer/normalize.js')
    assert.throws(
      () => fresh.validateTopic(''),
      (err: KafkaError) => err.code === 'INVALID_TOPIC_EXCEPTION',
    )
    assert.equal(fresh.validateTopic('ok'), 'ok')
    assert.throws(() => fresh.validateTopic(''), /invalid topic name/)
  })

  it('a number, an object, a boolean or undefined as value is _INVALID_ARG', async () => {
    const { producer } = make()
    await refused(
      producer,
      { topic: 't', value: 42 },
      '_INVALID_ARG',
      /value must be a string, Buffer, Uint8Array or null, got number/,
    )
    await refused(producer, { topic: 't', value: { a: 1 } }, '_INVALID_ARG', /got Object/)
    await refused(producer, { topic: 't', value: true }, '_INVALID_ARG', /got boolean/)
    await refused(
      producer,
      { topic: 't', value: undefined },
      '_INVALID_ARG',
      /has no value \(pass null for a tombstone\)/,
    )
    await refused(producer, { topic: 't' }, '_INVALID_ARG', /has no value/)
    await refused(producer, { topic: 't', key: 7, value: 'v' }, '_INVALID_ARG', /key must be/)
    await refused(producer, null, '_INVALID_ARG', /takes a record object/)
    await refused(producer, 'text', '_INVALID_ARG')
  })

  it('bad headers are _INVALID_ARG', async () => {
    const { producer } = make()
    await refused(
      producer,
      { topic: 't', value: 'v', headers: [['k']] },
      '_INVALID_ARG',
      /\[key: string, value\] pairs/,
    )
    await refused(producer, { topic: 't', value: 'v', headers: [[1, 'v']] }, '_INVALID_ARG')
    await refused(
      producer,
      { topic: 't', value: 'v', headers: { k: 5 } },
      '_INVALID_ARG',
      /header 'k' must be/,
    )
    await refused(producer, { topic: 't', value: 'v', headers: { k: ['a', {}] } }, '_INVALID_ARG')
    await refused(
      producer,
      { topic: 't', value: 'v', headers: 'k=v' },
      '_INVALID_ARG',
      /headers must be an object/,
    )
  })

  it('a bad timestamp is _INVALID_ARG', async () => {
    const { producer } = make()
    for (const timestamp of [-1, 1.5, Number.NaN, '1700000000000', 2 ** 53]) {
      await refused(
        producer,
        { topic: 't', value: 'v', timestamp },
        '_INVALID_ARG',
        /timestamp must be a non-negative integer/,
      )
    }
  })

  it('a bad partition is _INVALID_ARG, and one beyond the known partitions is _UNKNOWN_PARTITION', async () => {
    const { producer, clock } = make({ 'linger.ms': 1000 })
    for (const partition of [-2, 1.5, '0', 2 ** 31]) {
      await refused(
        producer,
        { topic: 't', value: 'v', partition },
        '_INVALID_ARG',
        /partition must be a non-negative integer/,
      )
    }
    // Learn the topic's metadata (2 partitions), then partition 2 is refused at the call.
    producer.produce({ topic: 't', value: 'first', partition: 0 })
    for (let i = 0; i < 4; i++) {
      clock.advance(0)
      await settle(10)
    }
    assert.equal(producer.pending, 1)
    await refused(producer, { topic: 't', value: 'v', partition: 2 }, '_UNKNOWN_PARTITION')
    assert.equal(producer.pending, 1)
    await closeNow(producer, clock)
  })

  it('a partitioner function that throws fails the record with _APPLICATION, the exception as cause', async () => {
    const boom = new Error('no region for this key')
    const reports: (KafkaError | null)[] = []
    const { producer, clock } = make({
      'linger.ms': 1000,
      partitioner: (key: Buffer | null) => {
        if (key?.toString() === 'bad') throw boom
        return 0
      },
    })
    const isApplication = (e: unknown): boolean => {
      assert.ok(e instanceof KafkaError, `a KafkaError, got ${String(e)}`)
      assert.equal(e.code, '_APPLICATION')
      assert.equal(e.cause, boom)
      assert.match(e.message, /partitioner function threw for topic 't': Error: no region for this key/)
      return true
    }
    try {
      // Metadata not known yet: the records are accepted, wait, and the partitioner runs when it arrives.
      producer.produce({ topic: 't', key: 'bad', value: 'v' }, (err) => reports.push(err))
      const sent = assert.rejects(producer.send({ topic: 't', key: 'bad', value: 'v' }), isApplication)
      producer.produce({ topic: 't', key: 'good', value: 'v' })
      assert.equal(producer.pending, 3)
      for (let i = 0; i < 4; i++) {
        clock.advance(0)
        await settle(10)
      }
      assert.equal(reports.length, 1)
      isApplication(reports[0])
      await sent
      assert.equal(producer.pending, 1, 'only the good record is left, batched')
      // Metadata known: produce() throws and send() rejects at the call; nothing is enqueued.
      assert.throws(() => producer.produce({ topic: 't', key: 'bad', value: 'v' }), isApplication)
      await assert.rejects(producer.send({ topic: 't', key: 'bad', value: 'v' }), isApplication)
      assert.equal(producer.pending, 1)
      producer.produce({ topic: 't', key: 'good', value: 'v' })
      assert.equal(producer.pending, 2, 'the producer goes on')
    } finally {
      // Also when an assertion fails: an open producer with records would keep the test running.
      await closeNow(producer, clock)
    }
  })

  it('produce after close throws _STATE', async () => {
    const { producer, clock } = make()
    await closeNow(producer, clock)
    await refused(producer, { topic: 't', value: 'v' }, '_STATE', /producer is closed/)
  })
})
