// producer.createWriteStream(): chunks, backpressure from the producer's buffer limits, final waiting
// for reports, the first delivery failure, bad chunks and destroy, on the fake cluster.
import assert from 'node:assert/strict'
import { Readable, Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import type {
  DeliveryErrorAction,
  Producer,
  ProducerWriteStream,
  WriteStreamChunk,
  WriteStreamOptions,
  WriteStreamRecord,
} from '../../../src/index.js'
import type { DeliveryCallback, DeliveryReport } from '../../../src/producer/record.js'
import { RecordBatchBuilder } from '../../../src/protocol/index.js'
import {
  closeFakeProducers,
  closeIdle,
  eagerProducer,
  type FakeProducer,
} from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

/** Counts reports by value: every accepted record must get exactly one. */
class Reports {
  readonly byValue = new Map<string, (KafkaError | null)[]>()
  readonly cb: DeliveryCallback = (err, report) => {
    const v = report.value?.toString() ?? '<null>'
    const list = this.byValue.get(v) ?? []
    list.push(err)
    this.byValue.set(v, list)
  }
  get total(): number {
    let n = 0
    for (const l of this.byValue.values()) n += l.length
    return n
  }
  assertOnceEach(): void {
    for (const [v, l] of this.byValue) assert.equal(l.length, 1, `record ${v} got ${l.length} reports`)
  }
}

/** Pumps the fake producer until `done()` holds (or fails after `max` rounds). */
async function until(p: FakeProducer, done: () => boolean, max = 200): Promise<void> {
  for (let i = 0; i < max && !done(); i++) await p.pump(1)
  assert.ok(done(), 'condition not reached')
}

function events(s: Writable): { drains: number; finished: boolean; error: unknown } {
  const e = { drains: 0, finished: false, error: undefined as unknown }
  s.on('drain', () => e.drains++)
  s.on('finish', () => (e.finished = true))
  s.on('error', (err) => (e.error = err))
  return e
}

/** Values of `bytes` whose records take `bound` bytes each of buffer.memory. */
function sized(bytes: number): { value: (i: number) => string; bound: number } {
  const value = (i: number): string => `${String(i).padStart(4, '0')}${'x'.repeat(bytes - 4)}`
  return { value, bound: RecordBatchBuilder.recordSizeUpperBound(null, Buffer.from(value(0)), null) }
}

describe('producer.createWriteStream()', () => {
  it('takes values and record objects, fills in the defaults, and finishes only once every record has its report', async () => {
    const p = eagerProducer({}, { topics: { t: { partitions: 2 }, other: { partitions: 1 } } })
    const { cluster, producer } = p
    cluster.produceHandler = () => 'hold'
    const reports = new Reports()
    const s = producer.createWriteStream({
      topic: 't',
      key: 'k',
      partition: 1,
      headers: { h: 'default' },
      onDelivery: reports.cb,
    })
    const e = events(s)
    s.write('a string')
    s.write(Buffer.from('a buffer'))
    s.write(new Uint8Array([0x75, 0x38]))
    s.write({ value: 'own key', key: 'k2', headers: [['h', 'own']] })
    s.write({ value: 'own partition and no key', key: null, partition: 0 })
    s.write({ topic: 'other', value: 'other topic', partition: 0, timestamp: 1234 })
    s.write({ key: 'tomb', value: null })
    s.end()
    await p.pump()
    assert.equal(s.accepted, 7)
    assert.equal(s.pending, 7)
    assert.ok(cluster.produceCalls.length > 0, 'final flushes')
    assert.equal(e.finished, false, 'no finish while reports are missing')
    for (const c of cluster.produceCalls) c.release()
    cluster.produceHandler = () => 'ok'
    await until(p, () => e.finished)
    assert.equal(e.error, undefined)
    assert.deepEqual([s.delivered, s.failed, s.pending], [7, 0, 0])
    reports.assertOnceEach()
    const show = (topic: string, partition: number): string[] =>
      cluster
        .log(topic, partition)
        .map(
          (r) =>
            `${r.key?.toString() ?? '-'}|${r.value?.toString() ?? '<null>'}|${r.headers.map(([k, v]) => `${k}=${v?.toString()}`).join(',')}`,
        )
    assert.deepEqual(show('t', 1), [
      'k|a string|h=default',
      'k|a buffer|h=default',
      'k|u8|h=default',
      'k2|own key|h=own',
      'tomb|<null>|h=default',
    ])
    assert.deepEqual(show('t', 0), ['-|own partition and no key|h=default'])
    assert.deepEqual(show('other', 0), ['k|other topic|h=default'])
    assert.equal(cluster.log('other', 0)[0]!.timestamp, 1234)
    await closeIdle(producer, p.pump)
  })

  it('toRecord maps each chunk; its result takes the defaults', async () => {
    const p = eagerProducer()
    const s = p.producer.createWriteStream<{ id: number; name: string }>({
      topic: 't',
      toRecord: (o) => ({ key: String(o.id), value: JSON.stringify(o) }),
    })
    const e = events(s)
    s.write({ id: 1, name: 'one' })
    s.end({ id: 2, name: 'two' })
    await until(p, () => e.finished)
    assert.deepEqual(
      p.cluster.log('t', 0).map((r) => `${r.key?.toString()}=${r.value?.toString()}`),
      ['1={"id":1,"name":"one"}', '2={"id":2,"name":"two"}'],
    )
    await closeIdle(p.producer, p.pump)
  })

  it("write() returns false once buffer.memory refused a record and highWaterMark records wait; 'drain' follows deliveries", async () => {
    const { value, bound } = sized(600)
    const p = eagerProducer({ 'buffer.memory': 2 * bound })
    const { cluster, producer } = p
    cluster.produceHandler = () => 'hold'
    const reports = new Reports()
    const s = producer.createWriteStream({ topic: 't', highWaterMark: 3, onDelivery: reports.cb })
    const e = events(s)
    // Two records fill buffer.memory; the third is refused (_QUEUE_FULL) and held: 1 waiting, < 3.
    assert.equal(s.write(value(0)), true)
    assert.equal(s.write(value(1)), true)
    assert.equal(s.write(value(2)), true)
    assert.equal(s.accepted, 2)
    assert.equal(producer.pending, 2)
    // Buffered behind the held one: 2 waiting, then 3 = highWaterMark.
    assert.equal(s.write(value(3)), true)
    assert.equal(s.write(value(4)), false, 'highWaterMark records wait in the stream')
    assert.equal(s.writableLength, 3)
    await p.pump(100)
    assert.equal(s.accepted, 2, 'nothing more is accepted while the buffer is full')
    assert.equal(e.drains, 0)
    // One batch delivered: room for its record, the held one goes in, then the next waits again.
    cluster.produceCalls[0]!.release()
    await p.pump()
    assert.ok(s.accepted >= 3)
    cluster.produceHandler = () => 'ok'
    for (const c of cluster.produceCalls) c.release()
    await until(p, () => e.drains === 1 && s.accepted === 5)
    assert.equal(s.writableLength, 0)
    s.end()
    await until(p, () => e.finished)
    assert.deepEqual([s.delivered, reports.total], [5, 5])
    reports.assertOnceEach()
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString().slice(0, 4)),
      ['0000', '0001', '0002', '0003', '0004'],
      'in order, each once',
    )
    await closeIdle(producer, p.pump)
  })

  it('queue.buffering.max.messages bounds it the same way (by count)', async () => {
    const p = eagerProducer({ 'queue.buffering.max.messages': 3 })
    p.cluster.produceHandler = () => 'hold'
    const s = p.producer.createWriteStream({ topic: 't', highWaterMark: 1 })
    const e = events(s)
    for (let i = 0; i < 3; i++) s.write(`v${i}`)
    assert.equal(s.accepted, 3)
    assert.equal(s.write('v3'), false)
    await p.pump(10)
    assert.equal(s.accepted, 3)
    p.cluster.produceHandler = () => 'ok'
    for (const c of p.cluster.produceCalls) c.release()
    await until(p, () => e.drains === 1)
    assert.equal(s.accepted, 4)
    s.end()
    await until(p, () => e.finished)
    await closeIdle(p.producer, p.pump)
  })

  it('pipeline() of a fast source: every record delivered, the buffer never beyond buffer.memory', async () => {
    const { value, bound } = sized(200)
    const p = eagerProducer({ 'buffer.memory': Math.max(1024, 10 * bound), 'batch.size': 3 * bound })
    const N = 500
    let peakPending = 0
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < N; i++) yield i
      })(),
    )
    const toValue = new Transform({
      objectMode: true,
      transform(i: number, _enc, cb) {
        peakPending = Math.max(peakPending, p.producer.pending)
        cb(null, { key: `k${i % 7}`, value: value(i) })
      },
    })
    const s = p.producer.createWriteStream({ topic: 't' })
    let done = false
    let failed: unknown = null
    pipeline(source, toValue, s).then(
      () => (done = true),
      (err: unknown) => (failed = err),
    )
    await until(p, () => done || failed !== null, 2000)
    assert.equal(failed, null)
    assert.deepEqual([s.accepted, s.delivered, s.pending], [N, N, 0])
    assert.ok(peakPending <= 10, `at most buffer.memory / record size accepted at once (saw ${peakPending})`)
    const values = p.cluster.log('t', 0).map((r) => r.value!.toString().slice(0, 4))
    assert.deepEqual(
      values,
      Array.from({ length: N }, (_, i) => value(i).slice(0, 4)),
    )
    await closeIdle(p.producer, p.pump)
  })

  it('lets the event loop turn every 1,000 records, so a source that never waits does not starve the sender', async () => {
    const p = eagerProducer({ 'linger.ms': 1000 })
    const s = p.producer.createWriteStream({ topic: 't' })
    const acceptedAtTurn: number[] = []
    const watch = (): void => {
      acceptedAtTurn.push(s.accepted)
      if (s.accepted < 2500) setImmediate(watch)
    }
    setImmediate(watch)
    const done = pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 2500; i++) yield `v${i}`
        })(),
      ),
      s,
    )
    await until(p, () => s.accepted === 2500)
    assert.ok(acceptedAtTurn[0]! <= 1000, `the first turn came after ${acceptedAtTurn[0]} records`)
    await until(p, () => s.pending === 0)
    await done
    await closeIdle(p.producer, p.pump)
  })

  it("'error' with the first delivery failure; the stream is destroyed and the other records still get one report each", async () => {
    const p = eagerProducer({ 'enable.idempotence': false, retries: 0 }, { topics: { t: { partitions: 2 } } })
    const { cluster, producer } = p
    cluster.produceHandler = () => 'hold'
    const reports = new Reports()
    const s = producer.createWriteStream({ topic: 't', onDelivery: reports.cb })
    for (let i = 0; i < 6; i++) s.write({ value: `v${i}`, partition: i % 2 })
    const ended = pipelineResult(s)
    await p.pump()
    assert.equal(s.accepted, 6)
    // Partition 1 fails for good; partition 0 is still held.
    for (const c of cluster.produceCalls) {
      c.release({
        partitions: (_t, partition) => (partition === 1 ? { errorCode: 87 } : undefined), // INVALID_RECORD
      })
    }
    await p.pump()
    const err = await ended
    assert.ok(err instanceof KafkaError)
    assert.equal(err.code, 'INVALID_RECORD')
    assert.equal(s.destroyed, true)
    assert.equal(s.write('after'), false)
    await until(p, () => producer.pending === 0)
    assert.deepEqual([s.accepted, s.delivered, s.failed, reports.total], [6, 3, 3, 6])
    reports.assertOnceEach()
    await closeIdle(producer, p.pump)
  })

  it("onDeliveryError: 'ignore' goes on; a promise holds the end until it settles; a rejection fails the stream", async () => {
    const p = eagerProducer({ 'enable.idempotence': false, retries: 0 })
    p.cluster.produceHandler = () => ({ errorCode: 87 })
    const routed: string[] = []
    let release: () => void = () => {}
    const s = p.producer.createWriteStream({
      topic: 't',
      onDeliveryError: (err, report: DeliveryReport) => {
        routed.push(`${report.value?.toString()}:${err.code}`)
        if (report.value?.toString() === 'slow') return new Promise((r) => (release = () => r('ignore')))
        return 'ignore'
      },
    })
    const e = events(s)
    s.write('a')
    s.write('slow')
    s.end()
    await p.pump(10)
    assert.deepEqual(routed, ['a:INVALID_RECORD', 'slow:INVALID_RECORD'])
    assert.equal(s.pending, 1, 'the slow hook still runs')
    assert.equal(e.finished, false)
    release()
    await until(p, () => e.finished)
    assert.deepEqual([s.failed, s.pending, e.error], [2, 0, undefined])

    const s2 = p.producer.createWriteStream({
      topic: 't',
      onDeliveryError: () => Promise.reject(new Error('dead-letter topic unreachable')),
    })
    const failed = pipelineResult(s2)
    s2.end('b')
    await p.pump(10)
    const err = await failed
    assert.ok(err instanceof KafkaError)
    assert.equal(err.code, '_APPLICATION')
    assert.equal((err.cause as Error).message, 'dead-letter topic unreachable')

    const s3 = p.producer.createWriteStream({
      topic: 't',
      onDeliveryError: () => 'retry' as 'ignore',
    })
    const bad = pipelineResult(s3)
    s3.end('c')
    await p.pump(10)
    assert.equal(((await bad) as KafkaError).code, '_INVALID_ARG')
    await closeIdle(p.producer, p.pump)
  })

  it('bad chunks fail the stream with _INVALID_ARG and nothing is sent; bad options throw at once', async () => {
    const p = eagerProducer()
    const cases: [string, unknown, RegExp][] = [
      ['number', 42, /not number/],
      ['array', [1, 2], /not an array/],
      ['object without value', { key: 'k' }, /no value/],
      ['value of the wrong type', { value: 5 }, /value must be a string/],
      ['headers of the wrong shape', { value: 'v', headers: 'h' }, /headers must be/],
      ['bigint', 10n, /not bigint/],
      ['function', () => 1, /not function/],
      ['boolean', true, /not boolean/],
    ]
    for (const [what, chunk, message] of cases) {
      const s = p.producer.createWriteStream<unknown>({ topic: 't' })
      const result = pipelineResult(s)
      s.write(chunk)
      const err = await result
      assert.ok(err instanceof KafkaError, what)
      assert.equal(err.code, '_INVALID_ARG', what)
      assert.match(err.message, message, what)
      assert.equal(s.accepted, 0, what)
    }
    const mapped = p.producer.createWriteStream<string>({
      topic: 't',
      toRecord: (c) => JSON.parse(c) as { value: string },
    })
    const result = pipelineResult(mapped)
    mapped.write('{not json')
    const err = (await result) as KafkaError
    assert.equal(err.code, '_INVALID_ARG')
    assert.ok(err.cause instanceof SyntaxError)
    await p.pump()
    assert.equal(p.producer.pending, 0)
    assert.equal(p.cluster.produceCalls.length, 0)

    assert.throws(() => p.producer.createWriteStream({ topic: 'no spaces' }), {
      code: 'INVALID_TOPIC_EXCEPTION',
    })
    assert.throws(() => p.producer.createWriteStream({ topic: 't', toRecord: 5 as never }), {
      code: '_INVALID_ARG',
    })
    assert.throws(() => p.producer.createWriteStream({ topic: 't', highWaterMark: 0 }), {
      code: '_INVALID_ARG',
    })
    assert.throws(() => p.producer.createWriteStream(undefined as never), { code: '_INVALID_ARG' })
    await closeIdle(p.producer, p.pump)
  })

  it('destroy() mid-way: the held write fails, buffered ones are dropped, every accepted record gets exactly one report', async () => {
    const { value, bound } = sized(400)
    const p = eagerProducer({ 'buffer.memory': 3 * bound })
    const { cluster, producer } = p
    cluster.produceHandler = () => 'hold'
    const reports = new Reports()
    const s = producer.createWriteStream({ topic: 't', onDelivery: reports.cb })
    const writeErrors: (Error | null | undefined)[] = []
    for (let i = 0; i < 8; i++) s.write(value(i), (err) => writeErrors.push(err))
    await p.pump()
    assert.equal(s.accepted, 3)
    s.destroy()
    await p.pump()
    assert.equal(writeErrors.length, 8)
    assert.equal(writeErrors.filter((x) => !x).length, 3, 'the accepted ones')
    assert.ok(writeErrors[3] instanceof KafkaError && writeErrors[3].code === '_DESTROY', 'the held one')
    cluster.produceHandler = () => 'ok'
    for (const c of cluster.produceCalls) c.release()
    await until(p, () => producer.pending === 0)
    assert.deepEqual([s.accepted, s.delivered, reports.total], [3, 3, 3])
    reports.assertOnceEach()
    assert.deepEqual(
      cluster.log('t', 0).map((r) => r.value!.toString().slice(0, 4)),
      ['0000', '0001', '0002'],
      'nothing that was not accepted is sent',
    )
    await closeIdle(producer, p.pump)
  })

  it('close() while the stream waits for room: the stream fails, every accepted record is reported', async () => {
    const { value, bound } = sized(600)
    const p = eagerProducer({ 'buffer.memory': 2 * bound })
    p.cluster.produceHandler = () => 'hold'
    const reports = new Reports()
    const s = p.producer.createWriteStream({ topic: 't', onDelivery: reports.cb })
    const result = pipelineResult(s)
    for (let i = 0; i < 4; i++) s.write(value(i))
    await p.pump()
    const closed = p.producer.close(0)
    await p.pump()
    await closed
    const err = (await result) as KafkaError
    assert.equal(err.code, '_DESTROY')
    assert.deepEqual([s.accepted, reports.total, p.producer.pending], [2, 2, 0])
    assert.throws(() => p.producer.createWriteStream({ topic: 't' }), { code: '_STATE' })
  })

  it('an empty stream finishes at once', async () => {
    const p = eagerProducer()
    const s = p.producer.createWriteStream({ topic: 't' })
    const e = events(s)
    s.end()
    await p.pump()
    assert.equal(e.finished, true)
    await closeIdle(p.producer, p.pump)
  })
})

/** Resolves with the stream's error (or null when it finished), as pipeline() would see it. */
function pipelineResult(s: Writable): Promise<unknown> {
  return new Promise((resolve) => {
    s.on('error', resolve)
    s.on('finish', () => resolve(null))
  })
}

/**
 * Type tests of the public API (compiled by `npm run build`, never called; see test/unit/types.test.ts):
 * each `@ts-expect-error` line must fail to compile.
 */
export function writeStreamTypes(producer: Producer): number {
  const values = producer.createWriteStream({ topic: 't', key: 'k', headers: { h: 'v' } })
  values.write('value')
  values.write({ value: Buffer.from('v'), key: null, partition: 1 })
  // @ts-expect-error topic is required
  producer.createWriteStream({})
  // @ts-expect-error a default key is a string, Buffer, Uint8Array or null
  producer.createWriteStream({ topic: 't', key: 5 })
  const orders = producer.createWriteStream<{ id: number }>({
    topic: 't',
    toRecord: (o) => ({ key: String(o.id), value: JSON.stringify(o) }),
    onDeliveryError: async (err) => (err.retriable ? 'ignore' : 'fail'),
  })
  // @ts-expect-error onDeliveryError answers 'fail' or 'ignore'
  producer.createWriteStream({ topic: 't', onDeliveryError: () => 'retry' })
  // @ts-expect-error toRecord must return a record with a value
  producer.createWriteStream<number>({ topic: 't', toRecord: (n) => ({ key: String(n) }) })
  const options: WriteStreamOptions<string> = { topic: 't', toRecord: (s) => ({ value: s }) }
  const record: WriteStreamRecord = { value: null }
  const chunk: WriteStreamChunk = record
  const action: DeliveryErrorAction = 'ignore'
  const stream: ProducerWriteStream<string> = producer.createWriteStream(options)
  // @ts-expect-error the counters are read-only
  stream.accepted = 1
  return orders.pending + stream.delivered + stream.failed + (chunk === record && action ? 1 : 0)
}
// @ts-expect-error the sink seam is internal (src/producer/write-stream.ts), not part of the package
export type NoRecordSink = import('../../../src/index.js').RecordSink
