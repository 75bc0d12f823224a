import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Accumulator, type AccumulatorOptions } from '../../../src/producer/accumulator.js'
import type { ProducerBatch, RecordEntry } from '../../../src/producer/batch.js'
import { RecordBatchBuilder, decodeRecordBatches } from '../../../src/protocol/index.js'
import { getCodec } from '../../../src/compression/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import { recordEntry } from '../../helpers/record-entry.js'

const T0 = 1_700_000_000_000

function entry(value: string | Buffer, key: string | null = null): { e: RecordEntry; bound: number } {
  return recordEntry(value, { key, timestamp: T0, deadline: T0 + 120_000 })
}

function acc(opts: Partial<AccumulatorOptions> = {}): { a: Accumulator; clock: ManualClock } {
  const clock = new ManualClock(T0)
  return {
    a: new Accumulator({
      batchSize: 16384,
      batchNumMessages: 10000,
      lingerMs: 5,
      deliveryTimeoutMs: 120_000,
      clock,
      ...opts,
    }),
    clock,
  }
}

/**
 * append() and what it tells the producer, read at once (the batch changes with later appends): a
 * count of 1 means the record opened the batch, `closed` that the batch is full.
 */
function appended(
  a: Accumulator,
  topic: string,
  partition: number,
  e: RecordEntry,
  bound: number,
): { batch: ProducerBatch; newBatch: boolean; full: boolean } {
  const batch = a.append(topic, partition, e, bound)
  return { batch, newBatch: batch.count === 1, full: batch.closed }
}

const build = (b: { builder: RecordBatchBuilder }): Buffer =>
  b.builder.build({
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    transactional: false,
    codec: getCodec('none'),
  })

describe('Accumulator', () => {
  it('appends to the open batch until a record does not fit within batch.size, then starts a new one', () => {
    const { e, bound } = entry('x'.repeat(100))
    const first = entry('x'.repeat(100))
    const probe = new RecordBatchBuilder(4096)
    probe.append(T0, null, first.e.value, null)
    const afterOne = probe.sizeInBytes
    // A record is taken while size + its upper bound stays within batch.size: records 2 and 3 fit,
    // record 4 does not (the bound is larger than a record's real size).
    const batchSize = afterOne + 2 * bound
    const { a } = acc({ batchSize })
    const r1 = appended(a, 't', 0, first.e, first.bound)
    assert.deepEqual([r1.newBatch, r1.full], [true, false])
    const r2 = appended(a, 't', 0, e, bound)
    assert.deepEqual([r2.newBatch, r2.batch === r1.batch], [false, true])
    const r3 = appended(a, 't', 0, e, bound)
    assert.equal(r3.batch, r1.batch)
    const q = a.queue('t', 0)
    const r4 = appended(a, 't', 0, e, bound)
    assert.equal(r4.newBatch, true)
    assert.notEqual(r4.batch, r1.batch)
    assert.equal(r1.batch.closed, true)
    assert.equal(r1.batch.count, 3)
    assert.ok(r1.batch.sizeInBytes <= batchSize)
    assert.equal(q.batches.length, 2)
    assert.equal(a.pendingBatches, 2)
  })

  it('a record larger than batch.size gets a batch of its own, which is full at once', () => {
    const { a } = acc({ batchSize: 1000 })
    const small = entry('s')
    const big = entry(Buffer.alloc(5000, 7))
    const r1 = appended(a, 't', 0, small.e, small.bound)
    const r2 = appended(a, 't', 0, big.e, big.bound)
    assert.equal(r2.newBatch, true)
    assert.equal(r2.full, true)
    assert.equal(r2.batch.count, 1)
    assert.equal(r1.batch.count, 1)
    assert.equal(r1.batch.closed, true)
    const r3 = appended(a, 't', 0, small.e, small.bound)
    assert.equal(r3.newBatch, true)
    assert.deepEqual(
      a.queue('t', 0).batches.map((b) => b.count),
      [1, 1, 1],
    )
    // The big batch really holds the big value.
    const [decoded] = decodeRecordBatches(build(r2.batch))
    assert.equal(decoded!.records[0]!.value!.length, 5000)
  })

  it('closes a batch at batch.num.messages', () => {
    const { a } = acc({ batchNumMessages: 3 })
    const { e, bound } = entry('v')
    const results = Array.from({ length: 7 }, () => appended(a, 't', 0, e, bound))
    assert.deepEqual(
      results.map((r) => [r.newBatch, r.full]),
      [
        [true, false],
        [false, false],
        [false, true],
        [true, false],
        [false, false],
        [false, true],
        [true, false],
      ],
    )
    assert.deepEqual(
      a.queue('t', 0).batches.map((b) => b.count),
      [3, 3, 1],
    )
  })

  it("a new batch makes room for as many records as the partition's last one, and grows past it intact", () => {
    const { a } = acc({ batchNumMessages: 20 })
    const put = (i: number): ProducerBatch => {
      const { e, bound } = recordEntry(`value-${i}`, {
        key: `key-${i}`,
        timestamp: T0 + i,
        deadline: T0 + 120_000,
      })
      return a.append('t', 0, e, bound)
    }
    for (let i = 0; i < 20; i++) put(i) // the first batch closes at 20 records
    const second = put(20)
    assert.equal(second.count, 1)
    assert.equal(second['timestamps'].length, 20, 'room for 20, as the first batch had')
    const third = (() => {
      for (let i = 21; i < 40; i++) put(i)
      return put(40)
    })()
    assert.equal(third['timestamps'].length, 20)
    // A batch that takes more records than it has room for (3 before: room for the minimum, 16; then 50)
    // grows, and keeps every record whole.
    const { a: b } = acc({ batchNumMessages: 1000 })
    for (let i = 0; i < 3; i++) b.append('t', 0, entry(`small-${i}`).e, entry(`small-${i}`).bound)
    b.queue('t', 0).batches[0]!.moveTo('sealed')
    let grown: ProducerBatch | undefined
    for (let i = 0; i < 50; i++) {
      const { e, bound } = recordEntry(`v${i}`, { key: `k${i}`, timestamp: T0 + i, deadline: T0 + 120_000 })
      grown = b.append('t', 0, e, bound)
    }
    assert.equal(grown!.count, 50)
    assert.ok(grown!['timestamps'].length >= 50)
    for (let i = 0; i < 50; i++) {
      assert.equal(grown!.timestampAt(i), T0 + i)
      assert.equal(grown!.keyAt(i)!.toString(), `k${i}`)
      assert.equal(grown!.valueAt(i)!.toString(), `v${i}`)
    }
    const [decoded] = decodeRecordBatches(build(grown!))
    assert.deepEqual(
      decoded!.records.map((r) => r.value!.toString()),
      Array.from({ length: 50 }, (_, i) => `v${i}`),
    )
  })

  it('keeps one queue per partition, in creation order, and never appends to a batch in flight', () => {
    const { a, clock } = acc()
    const { e, bound } = entry('v')
    const p0 = appended(a, 't', 0, e, bound)
    clock.advance(1)
    const p1 = appended(a, 't', 1, e, bound)
    const u0 = appended(a, 'u', 0, e, bound)
    assert.notEqual(p0.batch, p1.batch)
    assert.deepEqual(
      a.queues.map((q) => `${q.topic}/${q.partition}`),
      ['t/0', 't/1', 'u/0'],
    )
    assert.equal(a.queue('t', 1).batches[0], p1.batch)
    assert.equal(a.lingerDeadline(p0.batch), T0 + 5)
    assert.equal(a.lingerDeadline(p1.batch), T0 + 6)
    assert.equal(p0.batch.deadline, T0 + 120_000)
    assert.equal(u0.batch.partition, 0)
    p0.batch.moveTo('inFlight')
    const again = appended(a, 't', 0, e, bound)
    assert.equal(again.newBatch, true)
    assert.equal(a.pendingBatches, 4)
    a.remove(p0.batch)
    a.remove(p0.batch) // idempotent
    assert.equal(a.pendingBatches, 3)
    assert.deepEqual(a.queue('t', 0).batches, [again.batch])
  })

  it('counts the reserved bytes of its records per batch', () => {
    const { a } = acc()
    const x = entry('abc', 'k')
    const y = entry('defgh')
    const r = appended(a, 't', 0, x.e, x.bound)
    appended(a, 't', 0, y.e, y.bound)
    assert.equal(r.batch.reservedBytes, x.bound + y.bound)
    const [decoded] = decodeRecordBatches(build(r.batch))
    assert.deepEqual(
      decoded!.records.map((rec) => [rec.key?.toString() ?? null, rec.value!.toString(), Number(rec.offset)]),
      [
        ['k', 'abc', 0],
        [null, 'defgh', 1],
      ],
    )
  })
})

describe('compression ratio estimate (Java CompressionRatioEstimator)', () => {
  it('lets a compressed batch hold more than batch.size of records once a gain was observed', () => {
    const { a } = acc({ batchSize: 16384, compressed: true, maxBatchBytes: 1_048_576 })
    const { e, bound } = entry('x'.repeat(100))
    // Before any observation the estimate is 1: batch.size bounds the uncompressed bytes.
    const fill = (partition: number) => {
      const batch = appended(a, 't', partition, e, bound).batch
      for (let i = 0; i < 100_000 && appended(a, 't', partition, e, bound).batch === batch; i++);
      return batch
    }
    const first = fill(0)
    assert.ok(first.sizeInBytes <= 16384 && first.sizeInBytes > 16000)
    assert.equal(a.compressionRatio('t'), 1)
    // A batch that compressed to a quarter pulls the estimate down slowly (0.005 per batch)...
    a.observeCompression('t', 16000, 4000)
    assert.equal(a.compressionRatio('t'), 0.995)
    for (let i = 0; i < 200; i++) a.observeCompression('t', 16000, 4000)
    assert.equal(a.compressionRatio('t'), 0.25)
    // ...so batches now hold about batch.size / (0.25 * 1.05) uncompressed bytes.
    const bigger = fill(1)
    assert.ok(bigger.sizeInBytes > 16384 * 3.5 && bigger.sizeInBytes <= 16384 / (0.25 * 1.05))
    // A worse batch pushes the estimate up fast (at least +0.05, or straight to what was seen).
    a.observeCompression('t', 16000, 12000)
    assert.equal(a.compressionRatio('t'), 0.75)
    // Other topics keep their own estimate; without compression batch.size is the plain limit.
    assert.equal(a.compressionRatio('u'), 1)
    const { a: plain } = acc({ batchSize: 16384 })
    plain.observeCompression('t', 16000, 4000)
    assert.equal(plain.compressionRatio('t'), 1)
  })
})
