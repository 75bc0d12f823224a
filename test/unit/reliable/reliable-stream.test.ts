// ReliableProducer.createWriteStream(): pipeline() into the data producer, whose failed records go to
// the dead-letter topic (or the spool) instead of failing the stream (issue 12, Streams).
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, describe, it } from 'node:test'
import { ErrorCode, KafkaError } from '../../../src/errors/index.js'
import type { DeadLetterEnvelope } from '../../../src/reliable/envelope-types.js'
import { DeadLetterError } from '../../../src/reliable/dead-letter-error.js'
import type { ProduceHandler } from '../../helpers/fake-broker.js'
import { closeFakeReliables, fakeReliable, type FakeReliable } from '../../helpers/fake-reliable.js'

afterEach(closeFakeReliables)

const TOPICS = { topics: { t: { partitions: 1 }, 't.dlq': { partitions: 1 }, ok: { partitions: 1 } } }

/** Fails every Produce to the topics in `failing`; the others succeed. */
function fail(code: number, ...failing: string[]): ProduceHandler {
  return () => ({ partitions: (t) => (failing.includes(t) ? { errorCode: code } : undefined) })
}

/** Runs `pipeline(chunks → stream)` while pumping the manual clock; resolves with its outcome. */
async function run(f: FakeReliable, chunks: unknown[]): Promise<unknown> {
  const stream = f.rp.createWriteStream({ topic: 't' })
  let outcome: unknown = undefined
  let settled = false
  pipeline(Readable.from(chunks), stream).then(
    () => ((outcome = null), (settled = true)),
    (err: unknown) => ((outcome = err), (settled = true)),
  )
  for (let i = 0; i < 50 && !settled; i++) await f.pump(100)
  assert.ok(settled, 'the pipeline settled')
  return outcome
}

describe('ReliableProducer.createWriteStream()', () => {
  it('dead-letters the failed records and finishes; the others are delivered', async () => {
    const f = fakeReliable({}, {}, TOPICS)
    f.cluster.produceHandler = fail(ErrorCode.MESSAGE_TOO_LARGE, 't')
    const chunks = Array.from({ length: 10 }, (_, i) => ({
      topic: i % 2 === 0 ? 't' : 'ok',
      key: `k${i}`,
      value: Buffer.from([i, 0xff]),
    }))
    assert.equal(await run(f, chunks), null)
    assert.equal(f.cluster.log('ok', 0).length, 5)
    const dead = f.cluster.log('t.dlq', 0)
    assert.equal(dead.length, 5)
    const envelopes = dead.map((r) => JSON.parse(r.value!.toString()) as DeadLetterEnvelope)
    assert.deepEqual(
      envelopes.map((e) => [e.original_topic, e.original_key, e.error_code, e.original_value_encoding]),
      [0, 2, 4, 6, 8].map((i) => ['t', `k${i}`, 'MESSAGE_TOO_LARGE', 'base64']),
    )
    // The bytes survive: 0xff is not UTF-8, so the value travels as base64.
    assert.deepEqual(Buffer.from(envelopes[1]!.original_value!, 'base64'), Buffer.from([2, 0xff]))
    assert.deepEqual(f.rp.stats, { routed: 5, spooled: 0, replayed: 0, deadLetterFailures: 0 })
    assert.equal(f.rp.pending, 0)
  })

  it('fails with a DeadLetterError when a record can be put nowhere (no spool, dead-letter write refused)', async () => {
    const f = fakeReliable({}, {}, TOPICS)
    f.cluster.produceHandler = fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 't', 't.dlq')
    const err = await run(f, [{ value: 'x' }])
    assert.ok(err instanceof DeadLetterError, String(err))
    assert.equal(err.original.code, 'TOPIC_AUTHORIZATION_FAILED')
  })

  it('takes no onDeliveryError of its own, and no stream after close()', async () => {
    const f = fakeReliable({}, {}, TOPICS)
    assert.throws(
      () =>
        f.rp.createWriteStream({ topic: 't', onDeliveryError: () => 'ignore' } as Parameters<
          typeof f.rp.createWriteStream
        >[0]),
      (e: unknown) => e instanceof KafkaError && e.code === '_INVALID_ARG',
    )
    const closing = f.rp.close(0)
    await f.pump()
    await closing
    assert.throws(
      () => f.rp.createWriteStream({ topic: 't' }),
      (e: unknown) => e instanceof KafkaError && e.code === '_STATE',
    )
  })
})
