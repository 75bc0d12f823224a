// A user's bytes are never corrupted and a broker cannot kill the process: the caller's buffers are
// copied whenever a record is held before it is encoded, broker metadata is validated before it sizes
// anything, and a corrupt answer closes the connection and retries instead of failing records the
// broker may have written.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import type { FakeConnection } from '../../helpers/fake-broker.js'
import type { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, eagerProducer, type FakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

const setup = eagerProducer

/** Holds every Metadata request until the returned function is called. */
function holdMetadata(p: FakeProducer): () => void {
  const held: (() => void)[] = []
  let holding = true
  p.cluster.interceptor = (req, respond) => {
    if (req.apiName !== 'Metadata' || !holding) return 'default'
    held.push(respond)
    return 'hold'
  }
  return () => {
    holding = false
    for (const r of held.splice(0)) r()
  }
}

const values = (p: FakeProducer, topic = 't', partition = 0): string[] =>
  p.cluster.log(topic, partition).map((r) => r.value?.toString() ?? 'null')

describe('caller buffers: what was accepted is what is written', () => {
  for (const warm of [false, true]) {
    it(`a reused Buffer for value, key and header values (${warm ? 'warm' : 'cold'} producer)`, async () => {
      const p = setup({ 'linger.ms': 5 })
      const { producer, d, pump, cluster } = p
      if (warm) {
        producer.produce({ topic: 't', value: 'warm-up' }, d.cb('warm'))
        for (let i = 0; i < 5; i++) await pump(5)
        assert.equal(d.one('warm').err, null)
      }
      const release = warm ? () => undefined : holdMetadata(p)
      const buf = Buffer.alloc(8)
      const key = Buffer.alloc(4)
      const hdr = new Uint8Array(3)
      for (let i = 0; i < 3; i++) {
        buf.write(`value-${i}!`)
        key.write(`key${i}`)
        hdr.set([65 + i, 65 + i, 65 + i])
        producer.produce({ topic: 't', key, value: buf, headers: [['h', hdr]] }, d.cb(`r${i}`))
      }
      // The application overwrites its buffers as soon as produce() returns.
      buf.fill(0x58)
      key.fill(0x58)
      hdr.fill(0x58)
      await pump()
      release()
      await pump(5)
      await pump(5)
      for (let i = 0; i < 3; i++) {
        const { err, report } = d.one(`r${i}`)
        assert.equal(err, null)
        assert.equal(report.value!.toString(), `value-${i}!`, 'report value')
      }
      const log = cluster.log('t', 0).slice(warm ? 1 : 0)
      assert.deepEqual(
        log.map((r) => [r.key!.toString(), r.value!.toString(), r.headers.map(([, v]) => v!.toString())]),
        [0, 1, 2].map((i) => [`key${i}`, `value-${i}!`, [String.fromCharCode(65 + i).repeat(3)]]),
      )
    })
  }

  it('send() holding a record while its topic metadata is unknown', async () => {
    const p = setup()
    const release = holdMetadata(p)
    const buf = Buffer.from('original')
    const sent = p.producer.send({ topic: 't', value: buf })
    buf.write('CHANGED!')
    await p.pump()
    release()
    await p.pump()
    const report = await sent
    assert.equal(report.value!.toString(), 'original')
    assert.deepEqual(values(p), ['original'])
  })

  it('send() waiting for buffer space keeps its own copy while it waits', async () => {
    const p = setup({ 'buffer.memory': 2950 })
    const { producer, cluster, pump } = p
    cluster.produceHandler = (call) => (call.seq === 0 ? 'hold' : 'ok')
    const first = producer.send({ topic: 't', value: Buffer.alloc(2900, 0x41) })
    await pump()
    const buf = Buffer.from('second')
    const second = producer.send({ topic: 't', value: buf })
    buf.write('XXXXXX')
    await pump()
    assert.equal(cluster.produceCalls.length, 1, 'the second waits for space')
    cluster.produceCalls[0]!.release()
    await pump()
    await pump()
    await first
    const report = await second
    assert.equal(report.value!.toString(), 'second')
    assert.deepEqual(values(p).slice(1), ['second'])
  })

  it('the failure report of a record that waited for metadata carries the bytes accepted', async () => {
    const p = setup({}, { topics: { t: { partitions: 0, errorCode: 29 } } }) // TOPIC_AUTHORIZATION_FAILED
    const release = holdMetadata(p)
    const buf = Buffer.from('accepted')
    p.producer.produce({ topic: 't', value: buf }, p.d.cb('a'))
    buf.write('changed!')
    await p.pump()
    release()
    await p.pump()
    const { err, report } = p.d.one('a')
    assert.equal(err?.code, 'TOPIC_AUTHORIZATION_FAILED')
    assert.equal(report.value!.toString(), 'accepted')
  })
})

describe('produce() reuses one record object: no record leaks into another', () => {
  /** A warm producer on topic `t` with two partitions (metadata known, so produce() appends at once). */
  async function warm(config: Record<string, unknown> = {}): Promise<FakeProducer & { d: Deliveries }> {
    const p = setup({ 'linger.ms': 5, ...config }, { topics: { t: { partitions: 2 } } })
    p.producer.produce({ topic: 't', partition: 0, value: 'warm-up' }, p.d.cb('warm'))
    for (let i = 0; i < 3; i++) await p.pump(5)
    assert.equal(p.d.one('warm').err, null)
    return p
  }
  const written = (p: FakeProducer, partition: number): string[] =>
    p.cluster
      .log('t', partition)
      .map((r) => `${r.key?.toString() ?? 'null'}=${r.value?.toString() ?? 'null'}`)

  it('a produce() from inside a partitioner writes both records as given', async () => {
    let inner: (() => void) | null = null
    const p = await warm({
      partitioner: (key: Buffer | null) => {
        if (key?.toString() === 'outer' && inner) {
          const f = inner
          inner = null
          f()
        }
        return 0
      },
    })
    inner = () =>
      p.producer.produce({ topic: 't', key: 'inner', value: 'inner-value', partition: 1 }, p.d.cb('in'))
    p.producer.produce({ topic: 't', key: 'outer', value: 'outer-value' }, p.d.cb('out'))
    p.producer.produce({ topic: 't', key: 'after', value: 'after-value' }, p.d.cb('after'))
    for (let i = 0; i < 3; i++) await p.pump(5)
    for (const id of ['in', 'out', 'after']) assert.equal(p.d.one(id).err, null, id)
    assert.deepEqual(written(p, 0).slice(1), ['outer=outer-value', 'after=after-value'])
    assert.deepEqual(written(p, 1), ['inner=inner-value'])
    assert.equal(p.d.one('out').report.value!.toString(), 'outer-value')
    assert.equal(p.d.one('in').report.key!.toString(), 'inner')
  })

  it('a produce() that throws leaves nothing behind for the next record', async () => {
    const p = await warm({ 'buffer.memory': 4096 })
    const { producer, d } = p
    const headers: [string, Buffer][] = [['h', Buffer.from('first')]]
    assert.throws(
      () => producer.produce({ topic: 't', key: 'k1', value: 'v1', headers, partition: 7 }),
      (e: unknown) => e instanceof KafkaError && e.code === '_UNKNOWN_PARTITION',
    )
    producer.produce({ topic: 't', key: 'big', value: Buffer.alloc(3000, 0x62), partition: 1 }, d.cb('big'))
    assert.throws(
      () => producer.produce({ topic: 't', key: 'k2', value: Buffer.alloc(3000), headers, partition: 0 }),
      (e: unknown) => e instanceof KafkaError && e.code === '_QUEUE_FULL',
    )
    producer.produce({ topic: 't', value: 'plain', partition: 0 }, d.cb('plain'))
    for (let i = 0; i < 3; i++) await p.pump(5)
    const { err, report } = d.one('plain')
    assert.equal(err, null)
    assert.equal(report.key, null)
    assert.deepEqual(report.headers, [])
    assert.deepEqual(written(p, 0).slice(1), ['null=plain'])
    assert.deepEqual(p.cluster.log('t', 0)[1]!.headers, [])
  })

  it("once produce() returns it holds none of the caller's key, value, headers or callback", async () => {
    const p = await warm()
    p.producer.produce(
      { topic: 't', key: Buffer.from('k'), value: Buffer.alloc(100_000), headers: { h: 'x' } },
      () => {},
    )
    const spare = p.producer['intake']['spare']
    assert.ok(spare, 'the record is back for the next call')
    assert.deepEqual([spare.key, spare.value, spare.headers, spare.callback], [null, null, null, undefined])
  })
})

describe('hostile metadata', () => {
  const hostile: [string, (n: number) => number][] = [
    ['an index of 2^31-2', () => 2147483646],
    ['an index of 100,000,000', () => 100_000_000],
    ['a negative index', () => -1],
    ['a repeated index', () => 0],
  ]
  for (const [what, index] of hostile) {
    it(`${what} fails the topic's records with a clear error, in bounded memory`, async () => {
      const p = setup({}, { topics: { t: { partitions: 2 } } })
      p.cluster.metadataHandler = (req) => {
        const res = p.cluster.metadataResponse(req)
        for (const t of res.topics) if (t.partitions.length > 1) t.partitions[1]!.partitionIndex = index(1)
        return res
      }
      const rss = process.memoryUsage().rss
      p.producer.produce({ topic: 't', value: 'v' }, p.d.cb('a'))
      await p.pump()
      const { err } = p.d.one('a')
      assert.ok(err instanceof KafkaError)
      assert.equal(err.code, '_BAD_MSG')
      assert.equal(err.retriable, false)
      assert.match(err.message, /invalid metadata for topic t/)
      assert.ok(process.memoryUsage().rss - rss < 100e6, 'no array sized by the broker')
    })
  }

  it('a leader that the broker list does not name is treated as no leader, not connected to', async () => {
    const p = setup({ 'delivery.timeout.ms': 1000, 'request.timeout.ms': 500 })
    let bogus = true
    p.cluster.metadataHandler = (req) => {
      const res = p.cluster.metadataResponse(req)
      if (bogus) for (const t of res.topics) for (const part of t.partitions) part.leaderId = 77
      return res
    }
    p.producer.produce({ topic: 't', value: 'v' }, p.d.cb('a'))
    await p.pump()
    assert.equal(p.cluster.produceCalls.length, 0)
    bogus = false
    for (let i = 0; i < 10 && p.cluster.produceCalls.length === 0; i++) await p.pump(100)
    assert.equal(p.d.one('a').err, null)
  })
})

describe('corrupt answers close the connection and the records are retried', () => {
  const corruptions: [string, (conn: FakeConnection, correlationId: number) => Buffer][] = [
    [
      'an answer with an unknown correlation id',
      (_c, id) => {
        const b = Buffer.alloc(12)
        b.writeInt32BE(8, 0)
        b.writeInt32BE(id + 1000, 4)
        return b
      },
    ],
    [
      'garbage after the right correlation id',
      (_c, id) => {
        const b = Buffer.alloc(4 + 4 + 6, 0xff)
        b.writeInt32BE(10, 0)
        b.writeInt32BE(id, 4)
        return b
      },
    ],
    [
      'an impossible frame size',
      () => {
        const b = Buffer.alloc(4)
        b.writeInt32BE(-5, 0)
        return b
      },
    ],
    [
      'a 250 MB frame announced for a Produce answer',
      () => {
        const b = Buffer.alloc(4)
        b.writeInt32BE(250 * 1024 * 1024, 0)
        return b
      },
    ],
  ]
  for (const idempotence of [true, false]) {
    for (const [what, bytes] of corruptions) {
      it(`${what} (idempotence ${idempotence})`, async () => {
        const p = setup({ 'enable.idempotence': idempotence })
        const { cluster, producer, d, pump } = p
        cluster.produceHandler = (call) => {
          if (call.seq > 0) return 'ok'
          call.connection.sendRaw(bytes(call.connection, call.correlationId))
          return 'hold'
        }
        producer.produce({ topic: 't', value: 'a' }, d.cb('a'))
        producer.produce({ topic: 't', value: 'b' }, d.cb('b'))
        for (let i = 0; i < 5; i++) await pump(100)
        assert.equal(d.one('a').err, null, String(d.one('a').err))
        assert.equal(d.one('b').err, null)
        assert.equal(cluster.produceCalls.length, 2, 'sent once more')
        const [first, resent] = cluster.produceCalls
        assert.equal(first!.connection.closed, true, 'the connection with the corrupt answer is closed')
        assert.notEqual(resent!.connection, first!.connection, 'resent on a new connection')
        for (const call of [first!, resent!]) {
          assert.deepEqual(
            call.partitions[0]!.records.map((r) => r.value!.toString()),
            ['a', 'b'],
          )
        }
        assert.deepEqual(values(p), ['a', 'b'])
      })
    }
  }
})

describe('bounded outcomes', () => {
  it('send() waiting for buffer space when close() starts fails with _DESTROY, as documented', async () => {
    const { producer, cluster, pump } = setup({ 'buffer.memory': 2000, 'max.block.ms': 60_000 })
    cluster.produceHandler = () => 'hold'
    const outcome = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        (r) => r,
        (e: unknown) => e,
      )
    const first = outcome(producer.send({ topic: 't', value: Buffer.alloc(1500) }))
    await pump()
    const waiting = outcome(producer.send({ topic: 't', value: Buffer.alloc(1500) }))
    await pump()
    // close() flushes first: the held record is answered, which frees the space the waiting call
    // wanted while the producer is already closing.
    const closing = producer.close(5000)
    await pump()
    cluster.produceCalls[0]!.release()
    await pump()
    assert.equal(((await waiting) as KafkaError).code, '_DESTROY')
    assert.equal(((await first) as { offset: number }).offset, 0)
    await closing
  })

  it('a string value that cannot fit is refused before it is encoded', () => {
    const { producer } = setup({ 'message.max.bytes': 10_000 })
    const huge = 'x'.repeat(5_000_000)
    const from = Buffer.from
    let encoded = 0
    Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
      if (args[0] === huge) encoded++
      return (from as (...a: unknown[]) => Buffer)(...args)
    }) as typeof Buffer.from
    try {
      assert.throws(
        () => producer.produce({ topic: 't', value: huge }),
        (err: KafkaError) =>
          err.code === 'MESSAGE_TOO_LARGE' && /message\.max\.bytes=10000/.test(err.message),
      )
      assert.throws(
        () => producer.produce({ topic: 't', key: huge, value: 'v' }),
        /MESSAGE_TOO_LARGE|at least/,
      )
    } finally {
      Buffer.from = from
    }
    assert.equal(encoded, 0, 'the string was never encoded')
  })

  it('_MSG_TIMED_OUT names the last error before the timeout and carries it as cause', async () => {
    const { producer, cluster, d, pump } = setup({
      'delivery.timeout.ms': 1000,
      'request.timeout.ms': 500,
      'retry.backoff.ms': 50,
      'retry.backoff.max.ms': 50,
    })
    cluster.produceHandler = () => ({ errorCode: 6 }) // NOT_LEADER_OR_FOLLOWER, retriable
    producer.produce({ topic: 't', value: 'v' }, d.cb('a'))
    for (let i = 0; i < 30; i++) await pump(50)
    const { err } = d.one('a')
    assert.equal(err?.code, '_MSG_TIMED_OUT')
    assert.match(err!.message, /last error: NOT_LEADER_OR_FOLLOWER/)
    assert.ok(err!.cause instanceof KafkaError)
    assert.equal((err!.cause as KafkaError).code, 'NOT_LEADER_OR_FOLLOWER')
  })

  it('an unknown broker error code keeps its number in the message', () => {
    const err = KafkaError.fromKafkaCode(9999, 'produce to t[0]')
    assert.equal(err.code, 'UNKNOWN_SERVER_ERROR')
    assert.equal(err.kafkaCode, 9999)
    assert.match(err.message, /9999/)
    assert.match(KafkaError.fromKafkaCode(4242).message, /4242/)
  })
})
