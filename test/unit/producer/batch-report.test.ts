// The lazy delivery report of a batched record (src/producer/batch-report.ts) and DeliveryReporter's
// loop over a batch: key, value and headers are read from the batch's bytes only when the callback
// reads them, and must then be exactly the bytes sent.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { Instrumentation } from '../../../src/observability/events.js'
import type { RecordHeader } from '../../../src/protocol/index.js'
import { ProducerBatch } from '../../../src/producer/batch.js'
import { BatchReport } from '../../../src/producer/batch-report.js'
import { DeliveryReporter } from '../../../src/producer/delivery-reports.js'
import type { DeliveryCallback, DeliveryReport } from '../../../src/producer/record.js'
import type { BatchOutcome } from '../../../src/producer/sender.js'

const T0 = 1_700_000_000_000

interface Rec {
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[] | null
  timestamp?: number
  callback?: DeliveryCallback
}

function batchOf(recs: Rec[], topic = 't', partition = 3): ProducerBatch {
  // A small capacity, so that the builder's buffer grows (and moves) while records are appended.
  const b = new ProducerBatch(topic, partition, 16, T0, 120_000)
  recs.forEach((r, i) => {
    const ok = b.tryAppend(
      {
        key: r.key,
        keyLength: r.key === null ? -1 : r.key.length,
        value: r.value,
        valueLength: r.value === null ? -1 : r.value.length,
        headers: r.headers,
        timestamp: r.timestamp ?? T0 + i,
        callback: r.callback,
        bytes: 64,
        deadline: T0 + 120_000,
      },
      64,
      1 << 20,
      1_000,
    )
    assert.ok(ok)
  })
  return b
}

const RECS: Rec[] = [
  { key: Buffer.from('k0'), value: Buffer.from('v0'), headers: null },
  { key: null, value: Buffer.from('value without key'), headers: [['trace', Buffer.from('abc')]] },
  { key: Buffer.from([0, 1, 2, 255]), value: null, headers: null },
  {
    key: null,
    value: null,
    headers: [
      ['h', Buffer.from('x')],
      ['h', Buffer.from('y')],
      ['n', null],
    ],
  },
  { key: Buffer.alloc(0), value: Buffer.alloc(3000, 7), headers: [] },
]

/** Reports every record of `batch` with a global callback; returns the reports in record order. */
function report(
  batch: ProducerBatch,
  outcome: BatchOutcome = { ok: true, baseOffset: 100, logAppendTime: -1 },
): { err: KafkaError | null; report: DeliveryReport }[] {
  const got: { err: KafkaError | null; report: DeliveryReport }[] = []
  const r = new DeliveryReporter(
    (err, report) => got.push({ err, report }),
    assert.fail,
    new Instrumentation(),
  )
  assert.equal(r.batch(batch, outcome), batch.count)
  return got
}

describe('BatchReport: key, value and headers read from the batch on first access', () => {
  it('returns exactly the bytes sent, for a batch of several records (null key, null value, headers)', () => {
    const got = report(batchOf(RECS))
    assert.equal(got.length, RECS.length)
    got.forEach(({ err, report }, i) => {
      const rec = RECS[i]!
      assert.equal(err, null)
      assert.ok(report instanceof BatchReport)
      assert.deepEqual(report.key, rec.key, `key of record ${i}`)
      assert.deepEqual(report.value, rec.value, `value of record ${i}`)
      assert.deepEqual(report.headers, rec.headers ?? [], `headers of record ${i}`)
      assert.equal(report.topic, 't')
      assert.equal(report.partition, 3)
      assert.equal(report.offset, 100 + i)
      assert.equal(report.timestamp, T0 + i)
    })
    // Views of the batch's bytes, not the Buffers given (as before the reports were lazy).
    assert.notEqual(got[0]!.report.key, RECS[0]!.key)
  })

  it('reads in any order, long after the batch was reported, give the same bytes', () => {
    const got = report(batchOf(RECS))
    for (let i = RECS.length - 1; i >= 0; i--) {
      assert.deepEqual(got[i]!.report.headers, RECS[i]!.headers ?? [])
      assert.deepEqual(got[i]!.report.value, RECS[i]!.value)
      assert.deepEqual(got[i]!.report.key, RECS[i]!.key)
    }
  })

  it('two reads return the same Buffer (and the same headers list)', () => {
    const [a, b] = report(batchOf(RECS)).map((g) => g.report)
    assert.equal(a!.key, a!.key)
    assert.equal(a!.value, a!.value)
    assert.equal(b!.headers, b!.headers)
    assert.equal(a!.headers, a!.headers)
  })

  it('key, value and headers can be set, as on a plain report', () => {
    const [r] = report(batchOf(RECS)).map((g) => g.report)
    r!.key = null
    r!.value = Buffer.from('replaced')
    r!.headers = [['only', null]]
    assert.equal(r!.key, null)
    assert.deepEqual(r!.value, Buffer.from('replaced'))
    assert.deepEqual(r!.headers, [['only', null]])
  })

  it('JSON.stringify gives what it gave for a plain report, field order included', () => {
    const got = report(batchOf(RECS))
    got.forEach(({ report }, i) => {
      const rec = RECS[i]!
      const plain: DeliveryReport = {
        topic: 't',
        partition: 3,
        offset: 100 + i,
        timestamp: T0 + i,
        key: rec.key,
        value: rec.value,
        headers: rec.headers ?? [],
      }
      assert.equal(JSON.stringify(report), JSON.stringify(plain))
    })
  })

  it('util.inspect shows the seven fields, not the batch', () => {
    const [r] = report(batchOf(RECS)).map((g) => g.report)
    const text = inspect(r)
    assert.match(text, /key: <Buffer 6b 30>/)
    assert.match(text, /value: <Buffer 76 30>/)
    assert.match(text, /offset: 100/)
    assert.doesNotMatch(text, /ProducerBatch|builder/)
  })

  it('spread and Object.keys see topic, partition, offset and timestamp only (documented)', () => {
    const [r] = report(batchOf(RECS)).map((g) => g.report)
    assert.deepEqual(Object.keys(r!), ['topic', 'partition', 'offset', 'timestamp'])
    assert.deepEqual({ ...r! }, { topic: 't', partition: 3, offset: 100, timestamp: T0 })
    // `in` still finds them: the dead-letter code tells results apart with `'deadLettered' in r`.
    assert.ok('key' in r! && 'value' in r! && 'headers' in r!)
  })

  it('reads nothing from the batch until asked, and each of key, value, headers once', () => {
    const b = batchOf(RECS)
    const reads = { key: 0, value: 0, headers: 0 }
    const keyAt = b.keyAt.bind(b)
    const valueAt = b.valueAt.bind(b)
    const headersAt = b.headersAt.bind(b)
    b.keyAt = (i) => (reads.key++, keyAt(i))
    b.valueAt = (i) => (reads.value++, valueAt(i))
    b.headersAt = (i) => (reads.headers++, headersAt(i))
    const got = report(b)
    assert.deepEqual(reads, { key: 0, value: 0, headers: 0 }, 'the reporter itself reads none of them')
    const r = got[1]!.report
    void [r.key, r.key, r.value, r.value, r.headers, r.headers]
    assert.deepEqual(reads, { key: 1, value: 1, headers: 1 }, 'cached after the first read')
  })

  it('a callback that never reads key or value still gets offset, partition and timestamp', () => {
    const seen: [number, number, number, string][] = []
    const count: DeliveryCallback = (err, r) => {
      assert.equal(err, null)
      seen.push([r.offset, r.partition, r.timestamp, r.topic])
    }
    const b = batchOf(
      [0, 1, 2].map((i) => ({ key: null, value: Buffer.from([i]), headers: null, timestamp: T0 + 10 * i })),
      'orders',
      5,
    )
    new DeliveryReporter(count, assert.fail, new Instrumentation()).batch(b, {
      ok: true,
      baseOffset: 7,
      logAppendTime: -1,
    })
    assert.deepEqual(seen, [
      [7, 5, T0, 'orders'],
      [8, 5, T0 + 10, 'orders'],
      [9, 5, T0 + 20, 'orders'],
    ])
  })

  it('a log-append time replaces every timestamp; acks=0 (-1 base offset) gives -1 offsets', () => {
    const got = report(batchOf(RECS.slice(0, 2)), {
      ok: true,
      baseOffset: -1,
      logAppendTime: T0 + 999,
    })
    assert.deepEqual(
      got.map((g) => [g.report.offset, g.report.timestamp]),
      [
        [-1, T0 + 999],
        [-1, T0 + 999],
      ],
    )
  })
})

describe('DeliveryReporter.batch: one callback per record', () => {
  it('the record’s own callback wins over dr_cb; records without either are skipped', () => {
    const calls: string[] = []
    const own =
      (id: string): DeliveryCallback =>
      (_e, r) =>
        calls.push(`${id}@${r.offset}`)
    const recs: Rec[] = [
      { key: null, value: Buffer.from('a'), headers: null, callback: own('a') },
      { key: null, value: Buffer.from('b'), headers: null },
      { key: null, value: Buffer.from('c'), headers: null, callback: own('c') },
    ]
    const withGlobal = new DeliveryReporter(
      (_e, r) => calls.push(`dr@${r.offset}`),
      assert.fail,
      new Instrumentation(),
    )
    withGlobal.batch(batchOf(recs), { ok: true, baseOffset: 0, logAppendTime: -1 })
    assert.deepEqual(calls, ['a@0', 'dr@1', 'c@2'])
    calls.length = 0
    new DeliveryReporter(null, assert.fail, new Instrumentation()).batch(batchOf(recs), {
      ok: true,
      baseOffset: 0,
      logAppendTime: -1,
    })
    assert.deepEqual(calls, ['a@0', 'c@2'])
  })

  it('a failed batch gives each record the error and offset -1; a throwing callback goes to error_cb', () => {
    const fail = new KafkaError('_MSG_TIMED_OUT', 'timed out')
    const errors: KafkaError[] = []
    const got: [KafkaError | null, number, Buffer | null][] = []
    const reporter = new DeliveryReporter(
      (err, r) => {
        got.push([err, r.offset, r.value])
        if (r.value?.toString() === 'b') throw new Error('boom')
      },
      (e) => errors.push(e),
      new Instrumentation(),
    )
    const b = batchOf(['a', 'b', 'c'].map((v) => ({ key: null, value: Buffer.from(v), headers: null })))
    assert.equal(reporter.batch(b, { ok: false, error: fail }), 3)
    assert.deepEqual(got, [
      [fail, -1, Buffer.from('a')],
      [fail, -1, Buffer.from('b')],
      [fail, -1, Buffer.from('c')],
    ])
    assert.equal(errors.length, 1)
    assert.equal(errors[0]!.code, '_APPLICATION')
    assert.match(errors[0]!.message, /a delivery callback threw: boom/)
  })

  it('with no callback anywhere it still counts the records and emits record.delivered', () => {
    const events = new Instrumentation()
    const offsets: number[] = []
    events.on('record.delivered', (e) => offsets.push(e.offset))
    const b = batchOf(RECS)
    assert.equal(
      new DeliveryReporter(null, assert.fail, events).batch(b, {
        ok: true,
        baseOffset: 4,
        logAppendTime: -1,
      }),
      5,
    )
    assert.deepEqual(offsets, [4, 5, 6, 7, 8])
  })
})
