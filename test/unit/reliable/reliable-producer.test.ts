// ReliableProducer on the fake cluster: where each record ends (its topic, its dead-letter topic, the
// spool, or a rejection saying why), what the dead-letter record holds, and the spool's replay.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { ErrorCode, KafkaError } from '../../../src/errors/index.js'
import type { DeliveryReport } from '../../../src/producer/record.js'
import type { DeadLetterEnvelope } from '../../../src/reliable/envelope-types.js'
import { DeadLetterError } from '../../../src/reliable/dead-letter-error.js'
import type { ReliableSendResult } from '../../../src/reliable/types.js'
import type { ProduceHandler } from '../../helpers/fake-broker.js'
import { T0 } from '../../helpers/fake-producer.js'
import { closeFakeReliables, fakeReliable } from '../../helpers/fake-reliable.js'

afterEach(closeFakeReliables)

/** Fails every Produce to `topic` with `code`; other topics succeed. */
function failTopic(code: number, topic = 't'): ProduceHandler {
  return () => ({ partitions: (t) => (t === topic ? { errorCode: code } : undefined) })
}

function envelopeOf(value: Buffer | null): DeadLetterEnvelope {
  return JSON.parse(value!.toString('utf8')) as DeadLetterEnvelope
}

function assertDelivered(r: ReliableSendResult): DeliveryReport {
  assert.ok(!('deadLettered' in r), `expected a delivery report, got ${JSON.stringify(r)}`)
  return r
}

describe('ReliableProducer: delivered records', () => {
  it('resolves with the delivery report; objects go as JSON, strings and bytes as they are, null as a tombstone', async () => {
    const { cluster, rp, pump } = fakeReliable()
    const sent = [
      rp.send('t', 'k1', { a: 1, b: [true, null] }),
      rp.send('t', 'k2', 'text'),
      rp.send('t', Buffer.from([0, 255]), new Uint8Array([1, 2])),
      rp.send('t', undefined, null),
      rp.send('t', 'k5', 42, { headers: { h: 'x' }, timestamp: 99 }),
    ]
    await pump()
    const reports = (await Promise.all(sent)).map(assertDelivered)
    assert.deepEqual(
      reports.map((r) => [r.topic, r.partition, r.offset]),
      [0, 1, 2, 3, 4].map((o) => ['t', 0, o]),
    )
    const log = cluster.log('t', 0)
    assert.deepEqual(
      log.map((r) => [r.key, r.value]),
      [
        [Buffer.from('k1'), Buffer.from('{"a":1,"b":[true,null]}')],
        [Buffer.from('k2'), Buffer.from('text')],
        [Buffer.from([0, 255]), Buffer.from([1, 2])],
        [null, null],
        [Buffer.from('k5'), Buffer.from('42')],
      ],
    )
    assert.deepEqual(log[4]!.headers, [['h', Buffer.from('x')]])
    assert.equal(log[4]!.timestamp, 99)
    assert.deepEqual(rp.stats, { routed: 0, spooled: 0, replayed: 0, deadLetterFailures: 0 })
    assert.equal(cluster.log('t.dlq', 0).length, 0)
  })

  it('writes with acks=all and an idempotent producer id', async () => {
    const { cluster, rp, pump } = fakeReliable()
    const p = rp.send('t', 'k', 'v')
    await pump()
    await p
    const call = cluster.produceCalls[0]!
    assert.equal(call.acks, -1)
    assert.ok(call.partitions[0]!.batches[0]!.producerId >= 1000n)
  })
})

describe('ReliableProducer: records that fail for good go to <topic>.dlq', () => {
  it('MESSAGE_TOO_LARGE: the dead-letter record has the original key, the envelope, and the original headers renamed', async () => {
    const { cluster, rp, pump } = fakeReliable()
    cluster.produceHandler = failTopic(ErrorCode.MESSAGE_TOO_LARGE)
    const p = rp.send(
      't',
      'order-1',
      { id: 1 },
      {
        headers: [
          ['trace', 'abc'],
          ['bin', Buffer.from([0xff, 0x00])],
          ['nul', null],
          ['trace', 'again'],
        ],
        timestamp: 1234,
      },
    )
    await pump()
    const out = await p
    assert.ok('deadLettered' in out && out.deadLettered)
    assert.equal(out.error.code, 'MESSAGE_TOO_LARGE')
    assert.equal(out.truncated, false)
    assert.deepEqual([out.dlq.topic, out.dlq.partition, out.dlq.offset], ['t.dlq', 0, 0])

    const [rec] = cluster.log('t.dlq', 0)
    assert.deepEqual(rec!.key, Buffer.from('order-1'))
    assert.deepEqual(rec!.headers, [
      ['original.trace', Buffer.from('abc')],
      ['original.bin', Buffer.from([0xff, 0x00])],
      ['original.nul', null],
      ['original.trace', Buffer.from('again')],
      ['dlq.error_code', Buffer.from('MESSAGE_TOO_LARGE')],
    ])
    assert.deepEqual(envelopeOf(rec!.value), {
      envelope_version: 1,
      original_topic: 't',
      original_partition: 0,
      original_key: 'order-1',
      original_key_encoding: 'utf8',
      original_value: '{"id":1}',
      original_value_encoding: 'utf8',
      original_value_bytes: 8,
      original_value_truncated: false,
      original_timestamp: 1234,
      original_headers: [
        { key: 'trace', value: 'abc', encoding: 'utf8' },
        { key: 'bin', value: Buffer.from([0xff, 0x00]).toString('base64'), encoding: 'base64' },
        { key: 'nul', value: null, encoding: null },
        { key: 'trace', value: 'again', encoding: 'utf8' },
      ],
      error: out.error.message,
      error_code: 'MESSAGE_TOO_LARGE',
      error_retriable: false,
      attempts: 1,
      failed_at: new Date(T0).toISOString(),
    })
    assert.deepEqual(rp.stats, { routed: 1, spooled: 0, replayed: 0, deadLetterFailures: 0 })
  })

  it('TOPIC_AUTHORIZATION_FAILED, to a topic named by a suffix or by a function', async () => {
    for (const deadLetterTopic of ['-dead', () => 'all.dlq']) {
      const name = typeof deadLetterTopic === 'string' ? 't-dead' : 'all.dlq'
      const { cluster, rp, pump } = fakeReliable(
        {},
        { deadLetterTopic },
        { topics: { t: { partitions: 1 }, [name]: { partitions: 1 } } },
      )
      cluster.produceHandler = failTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      const p = rp.send('t', null, 'v')
      await pump()
      const out = await p
      assert.ok('deadLettered' in out && out.deadLettered, name)
      assert.equal(out.dlq.topic, name)
      assert.equal(out.error.code, 'TOPIC_AUTHORIZATION_FAILED')
      const env = envelopeOf(cluster.log(name, 0)[0]!.value)
      assert.deepEqual(
        [env.original_key, env.original_key_encoding, env.error_code],
        [null, null, out.error.code],
      )
    }
  })

  it('_UNKNOWN_TOPIC: a record that never got a partition has original_partition null', async () => {
    const { cluster, rp, pumpFor } = fakeReliable(
      { 'topic.metadata.propagation.max.ms': 1_000 },
      {},
      { topics: { 'missing.dlq': { partitions: 1 } } },
    )
    const p = rp.send('missing', 'k', 'v')
    await pumpFor(1_500)
    const out = await p
    assert.ok('deadLettered' in out && out.deadLettered)
    assert.equal(out.error.code, '_UNKNOWN_TOPIC')
    const env = envelopeOf(cluster.log('missing.dlq', 0)[0]!.value)
    assert.deepEqual([env.original_topic, env.original_partition, env.attempts], ['missing', null, 1])
  })

  it('_MSG_TIMED_OUT after retries: attempts counts the Produce requests that carried it', async () => {
    const { cluster, rp, pumpFor } = fakeReliable({
      'delivery.timeout.ms': 3_000,
      'request.timeout.ms': 1_000,
      'retry.backoff.ms': 500,
      'retry.backoff.max.ms': 500,
    })
    cluster.produceHandler = failTopic(ErrorCode.NOT_ENOUGH_REPLICAS)
    const p = rp.send('t', 'k', 'v')
    await pumpFor(3_500)
    const out = await p
    assert.ok('deadLettered' in out && out.deadLettered)
    assert.equal(out.error.code, '_MSG_TIMED_OUT')
    const sends = cluster.produceCalls.filter((c) => c.partitions.some((x) => x.topic === 't')).length
    assert.ok(sends >= 3, `${sends} attempts`)
    const env = envelopeOf(cluster.log('t.dlq', 0)[0]!.value)
    assert.equal(env.attempts, sends)
    assert.equal(env.error_code, '_MSG_TIMED_OUT')
  })

  it('a record over message.max.bytes is refused at the call and dead-lettered, its value cut to fit', async () => {
    const { cluster, rp, pump } = fakeReliable({ 'message.max.bytes': 2_000 })
    const value = Buffer.alloc(5_000, 'a')
    const p = rp.send('t', 'big', value)
    await pump()
    const out = await p
    assert.ok('deadLettered' in out && out.deadLettered)
    assert.equal(out.error.code, 'MESSAGE_TOO_LARGE')
    assert.equal(out.truncated, true)
    assert.equal(cluster.log('t', 0).length, 0)
    const rec = cluster.log('t.dlq', 0)[0]!
    const env = envelopeOf(rec.value)
    assert.equal(env.original_partition, null)
    assert.equal(env.original_value_bytes, 5_000)
    assert.equal(env.original_value_truncated, true)
    assert.ok(env.original_value!.length > 1_000, `kept ${env.original_value!.length} bytes`)
    assert.ok(value.toString().startsWith(env.original_value!))
    assert.ok(rec.value!.length + 100 < 2_000)
  })
})

describe('ReliableProducer: bad input', () => {
  const circular: Record<string, unknown> = { a: 1 }
  circular['self'] = circular
  const cases: [string, unknown][] = [
    ['a circular object', circular],
    ['a BigInt', 10n],
    ['a BigInt inside', { n: 1n }],
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a function property', { f: () => 1 }],
    ['undefined in an array', [1, undefined]],
    ['NaN', { n: NaN }],
  ]
  for (const [what, value] of cases) {
    it(`${what}: send() rejects with _INVALID_ARG, nothing is sent`, async () => {
      const { cluster, rp, pump } = fakeReliable()
      await assert.rejects(rp.send('t', 'k', value), (err: KafkaError) => {
        assert.ok(err instanceof KafkaError)
        assert.equal(err.code, '_INVALID_ARG')
        return true
      })
      await pump()
      assert.equal(cluster.produceCalls.length, 0)
      assert.equal(rp.pending, 0)
      assert.equal(await rp.flush(0), 0)
    })
  }

  it('a key or header that is not bytes, and a throwing serialize option, reject with _INVALID_ARG', async () => {
    const { rp } = fakeReliable({}, {})
    for (const call of [
      () => rp.send('t', 42 as unknown as string, 'v'),
      () => rp.send('t', 'k', 'v', { headers: { h: 1 as unknown as string } }),
      () => rp.send('t', 'k', 'v', { headers: [['h']] as unknown as [string, string][] }),
    ]) {
      await assert.rejects(call(), { code: '_INVALID_ARG' })
    }
    const custom = fakeReliable(
      {},
      {
        serialize: () => {
          throw new Error('nope')
        },
      },
    ).rp
    await assert.rejects(custom.send('t', 'k', { a: 1 }), { code: '_INVALID_ARG', message: /nope/ })
  })

  it('an invalid topic name rejects with INVALID_TOPIC_EXCEPTION, not dead-lettered', async () => {
    const { cluster, rp, pump } = fakeReliable()
    await assert.rejects(rp.send('bad topic!', 'k', 'v'), { code: 'INVALID_TOPIC_EXCEPTION' })
    await pump()
    assert.equal(cluster.produceCalls.length, 0)
    assert.deepEqual(rp.stats.routed, 0)
  })
})

describe('ReliableProducer: the dead-letter write fails too', () => {
  it('the hook hears it, the entry is spooled in one append per burst, and send() says spooled', async () => {
    const seen: [string, string, string][] = []
    const { cluster, rp, spool, pump } = fakeReliable(
      {},
      {
        spool: { path: '/unused' },
        onDeadLetterFailure: (entry, error) => {
          seen.push([entry.id, entry.dlq_topic, error.code])
          throw new Error('a hook that throws changes nothing')
        },
      },
    )
    cluster.produceHandler = () => ({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
    const sent = [rp.send('t', 'k1', 'v1'), rp.send('t', 'k2', 'v2')]
    await pump()
    const outs = await Promise.all(sent)
    for (const out of outs) {
      assert.ok('spooled' in out && out.spooled)
      assert.equal(out.error.code, 'TOPIC_AUTHORIZATION_FAILED')
      assert.equal(out.deadLetterError.code, 'TOPIC_AUTHORIZATION_FAILED')
    }
    assert.deepEqual(seen, [
      ['id-1', 't.dlq', 'TOPIC_AUTHORIZATION_FAILED'],
      ['id-2', 't.dlq', 'TOPIC_AUTHORIZATION_FAILED'],
    ])
    assert.equal(spool.appends.length, 1, 'failures of one burst share one append (one fsync)')
    assert.deepEqual(
      spool.entries.map((e) => [e.v, e.id, e.dlq_topic, e.envelope.original_key, e.envelope.original_value]),
      [
        [1, 'id-1', 't.dlq', 'k1', 'v1'],
        [1, 'id-2', 't.dlq', 'k2', 'v2'],
      ],
    )
    assert.deepEqual(rp.stats, { routed: 0, spooled: 2, replayed: 0, deadLetterFailures: 2 })
    const closed = rp.close()
    await pump()
    await closed
    assert.equal(spool.closes, 1, 'close() gives the spool up, for another process to take over')
  })

  it('without a spool, send() rejects with a DeadLetterError that holds the entry', async () => {
    let hooked = 0
    const { cluster, rp, pump } = fakeReliable({}, { onDeadLetterFailure: () => void hooked++ })
    cluster.produceHandler = () => ({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
    const p = rp.send('t', 'k', 'v')
    p.catch(() => undefined)
    await pump()
    await assert.rejects(p, (err: DeadLetterError) => {
      assert.ok(err instanceof DeadLetterError && err instanceof KafkaError)
      assert.equal(err.code, 'TOPIC_AUTHORIZATION_FAILED')
      assert.equal(err.deadLetterError.code, 'TOPIC_AUTHORIZATION_FAILED')
      assert.equal(err.spoolError, null)
      assert.equal(err.entry.dlq_topic, 't.dlq')
      assert.equal(err.entry.envelope.original_value, 'v')
      assert.match(err.message, /dead-letter write to t\.dlq failed too/)
      return true
    })
    assert.equal(hooked, 1)
    assert.deepEqual(rp.stats, { routed: 0, spooled: 0, replayed: 0, deadLetterFailures: 1 })
  })

  it('a spool that cannot be written: DeadLetterError with spoolError', async () => {
    const { cluster, rp, spool, pump } = fakeReliable({}, { spool: { path: '/unused' } })
    spool.failAppends = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    cluster.produceHandler = () => ({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
    const p = rp.send('t', 'k', 'v')
    p.catch(() => undefined)
    await pump()
    await assert.rejects(p, (err: DeadLetterError) => {
      assert.equal(err.spoolError?.code, '_STATE')
      assert.match(err.spoolError!.message, /ENOSPC/)
      return true
    })
  })

  it('a dead-letter topic whose limit is below what we know: sent again without the value, flagged', async () => {
    const { cluster, rp, pump } = fakeReliable()
    let dlqTries = 0
    cluster.produceHandler = (call) => ({
      partitions: (topic) => {
        if (topic === 't') return { errorCode: ErrorCode.MESSAGE_TOO_LARGE }
        const value = call.partitions[0]!.records[0]!.value!
        dlqTries++
        return value.length > 900 ? { errorCode: ErrorCode.MESSAGE_TOO_LARGE } : undefined
      },
    })
    const p = rp.send('t', 'k', 'x'.repeat(1_000))
    await pump()
    const out = await p
    assert.ok('deadLettered' in out && out.deadLettered && out.truncated)
    assert.equal(dlqTries, 2)
    const env = envelopeOf(cluster.log('t.dlq', 0)[0]!.value)
    assert.deepEqual(
      [
        env.original_value,
        env.original_value_encoding,
        env.original_value_truncated,
        env.original_value_bytes,
      ],
      ['', 'utf8', true, 1_000],
    )
    assert.equal(env.error_code, 'MESSAGE_TOO_LARGE')
  })
})

describe('ReliableProducer: replaySpool()', () => {
  it('sends spooled records to their original topic byte for byte, once; a second call finds nothing', async () => {
    const { cluster, rp, spool, pump } = fakeReliable({}, { spool: { path: '/unused' } })
    let refuse = true
    cluster.produceHandler = () => (refuse ? { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED } : 'ok')
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const sent = [
      rp.send('t', bytes, bytes, { headers: [['bin', bytes]], timestamp: 777 }),
      rp.send('t', 'k2', { a: 'é' }),
    ]
    await pump()
    await Promise.all(sent)
    assert.equal(spool.entries.length, 2)

    refuse = false
    const replay = rp.replaySpool()
    await pump()
    assert.deepEqual(await replay, { replayed: 2, failed: 0, remaining: 0, skipped: 0 })
    const log = cluster.log('t', 0)
    assert.deepEqual(log[0]!.key, bytes)
    assert.deepEqual(log[0]!.value, bytes)
    assert.deepEqual(log[0]!.headers, [['bin', bytes]])
    assert.equal(log[0]!.timestamp, 777)
    assert.deepEqual([log[1]!.key, log[1]!.value], [Buffer.from('k2'), Buffer.from('{"a":"é"}')])
    assert.equal(rp.stats.replayed, 2)

    const again = rp.replaySpool()
    await pump()
    assert.deepEqual(await again, { replayed: 0, failed: 0, remaining: 0, skipped: 0 })
    assert.equal(cluster.log('t', 0).length, 2)
  })

  it('a record its topic still refuses stays in the spool; without a spool replaySpool() rejects _STATE', async () => {
    const { cluster, rp, spool, pump } = fakeReliable({}, { spool: { path: '/unused' } })
    cluster.produceHandler = () => ({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
    const p = rp.send('t', 'k', 'v')
    await pump()
    await p
    const replay = rp.replaySpool()
    await pump()
    assert.deepEqual(await replay, { replayed: 0, failed: 1, remaining: 1, skipped: 0 })
    assert.equal(spool.entries.length, 1)
    await assert.rejects(fakeReliable().rp.replaySpool(), { code: '_STATE' })
  })
})

describe('ReliableProducer: configuration', () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['acks 1', { acks: '1' }, /'acks' is 1.*forces acks=all/],
    ['request.required.acks 0', { 'request.required.acks': 0 }, /'request.required.acks' is 0/],
    ['enable.idempotence false', { 'enable.idempotence': false }, /forces idempotence on/],
    ['retries 0', { retries: 0 }, /'retries' is 0/],
    ['max.in.flight 6', { 'max.in.flight.requests.per.connection': 6 }, /is 6, which turns idempotence off/],
    ['transactional.id', { 'transactional.id': 'tx' }, /not supported/],
  ]
  for (const [what, config, message] of refused) {
    it(`${what} is a ConfigError saying why`, () => {
      assert.throws(() => fakeReliable(config), { name: 'ConfigError', code: '_INVALID_ARG', message })
    })
  }

  it('deadLetterConfig overrides the data config, in any spelling; its conflicts are refused too', () => {
    const { rp } = fakeReliable({ 'linger.ms': 20 }, { deadLetterConfig: { 'queue.buffering.max.ms': 1 } })
    assert.equal(rp.producer.config.lingerMs, 20)
    assert.equal(rp.deadLetterProducer.config.lingerMs, 1)
    assert.equal(rp.deadLetterProducer.config.enableIdempotence, true)
    assert.throws(() => fakeReliable({}, { deadLetterConfig: { acks: 1 } }), { message: /deadLetterConfig/ })
  })

  it('options are checked', () => {
    for (const [options, key] of [
      [{ deadLetterTopic: '' }, 'deadLetterTopic'],
      [{ deadLetterMaxBytes: 0 }, 'deadLetterMaxBytes'],
      [{ spool: { path: '' } }, 'spool'],
      [{ serialize: 'json' }, 'serialize'],
    ] as const) {
      assert.throws(() => fakeReliable({}, options as never), { name: 'ConfigError', key })
    }
  })
})

describe('ReliableProducer: buffer limits, flush and close', () => {
  it('a full buffer: send() waits its turn in call order, then rejects _QUEUE_FULL after max.block.ms', async () => {
    const { cluster, rp, pump, pumpFor } = fakeReliable({
      'queue.buffering.max.messages': 2,
      'max.block.ms': 1_000,
    })
    const held: { release: () => void }[] = []
    cluster.produceHandler = (call) => {
      held.push(call)
      return 'hold'
    }
    const sent = ['a', 'b', 'c', 'd'].map((v) => rp.send('t', 'k', v))
    await pump()
    assert.equal(rp.pending, 4)
    held.shift()!.release()
    await pump()
    held.shift()?.release()
    await pump()
    while (held.length > 0) {
      held.shift()!.release()
      await pump()
    }
    const outs = await Promise.all(sent)
    assert.deepEqual(
      outs.map((o) => assertDelivered(o).offset),
      [0, 1, 2, 3],
    )
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString()),
      ['a', 'b', 'c', 'd'],
    )

    // Now nothing is answered: the third record waits for space, and gives up after max.block.ms.
    cluster.produceHandler = () => 'hold'
    const stuck = ['e', 'f', 'g'].map((v) => rp.send('t', 'k', v))
    stuck.forEach((p) => p.catch(() => undefined))
    await pumpFor(1_100)
    await assert.rejects(stuck[2]!, { code: '_QUEUE_FULL' })
    assert.equal(rp.stats.routed, 0, "a full buffer is the caller's to handle, not a failed record")
  })

  it('flush() waits for dead-letter writes; close() dead-letters what is left, then send() rejects _STATE', async () => {
    const { cluster, rp, pump } = fakeReliable({}, {})
    cluster.produceHandler = failTopic(ErrorCode.MESSAGE_TOO_LARGE)
    const first = rp.send('t', 'k', 'v')
    const flushed = rp.flush(10_000)
    await pump()
    assert.equal(await flushed, 0)
    assert.ok('deadLettered' in (await first))

    cluster.produceHandler = (call) => (call.partitions[0]!.topic === 't' ? 'hold' : 'ok')
    const left = rp.send('t', 'k', 'w')
    await pump()
    const closed = rp.close(1_000)
    await pump(1_000)
    await pump()
    await closed
    const out = await left
    assert.ok('deadLettered' in out && out.deadLettered)
    assert.equal(out.error.code, '_DESTROY')
    assert.equal(envelopeOf(cluster.log('t.dlq', 0)[1]!.value).original_value, 'w')
    await assert.rejects(rp.send('t', 'k', 'x'), { code: '_STATE' })
    assert.equal(rp.close(), closed)
  })

  it('flush({ timeoutMs }) and close({ timeoutMs }) as the Producer takes them; a bad timeout is _INVALID_ARG', async () => {
    const { cluster, rp, pump } = fakeReliable()
    cluster.produceHandler = () => 'hold'
    const p = rp.send('t', 'k', 'v')
    p.catch(() => undefined)
    await pump()
    const flushed = rp.flush({ timeoutMs: 500 })
    await pump(500)
    assert.equal(await flushed, 1)
    await assert.rejects(rp.flush(-1), { code: '_INVALID_ARG' })
    assert.throws(() => rp.close({ timeoutMs: NaN }), { code: '_INVALID_ARG' })
    const closed = rp.close({ timeoutMs: 0 })
    for (let i = 0; i < 3; i++) await pump()
    await closed
    await assert.rejects(p, DeadLetterError, 'nothing answers: the dead-letter write fails too, no spool')
  })
})
