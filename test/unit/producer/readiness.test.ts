// Readiness decides, in one place, which batches may be sent: deadlines, linger.ms and flush, retry
// backoff, compression, the leader, and the ordering rules of idempotence and max.in.flight=1. These
// tests drive it directly with a real Accumulator, a manual clock and a metadata stub, pass by pass.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TopicInfo } from '../../../src/cluster/metadata.js'
import { getCodec } from '../../../src/compression/index.js'
import { KafkaError } from '../../../src/errors/index.js'
import { Accumulator, type PartitionQueue } from '../../../src/producer/accumulator.js'
import type { ProducerBatch, RecordEntry } from '../../../src/producer/batch.js'
import { BatchCompressor } from '../../../src/producer/compressor.js'
import { IdempotenceState } from '../../../src/producer/idempotence.js'
import { Instrumentation } from '../../../src/observability/events.js'
import { COALESCE_FROM_PARTITIONS, Readiness } from '../../../src/producer/readiness.js'
import { ManualClock } from '../../../src/util/clock.js'
import { recordEntry } from '../../helpers/record-entry.js'

const T0 = 1_700_000_000_000

function entry(value: string, deadline = T0 + 120_000): { e: RecordEntry; bound: number } {
  return recordEntry(value, { timestamp: T0, deadline })
}

interface Setup {
  clock: ManualClock
  acc: Accumulator
  r: Readiness
  leaders: Map<string, number[]>
  updates: number
  expired: ProducerBatch[]
  failed: [ProducerBatch, KafkaError][]
  idem: IdempotenceState | null
  append: (topic: string, partition: number, value?: string) => ProducerBatch
}

function setup(
  opts: { lingerMs?: number; maxInFlight?: number; idempotent?: boolean; maxRequestBytes?: number } = {},
): Setup {
  const clock = new ManualClock(T0)
  const acc = new Accumulator({
    batchSize: 16384,
    batchNumMessages: 3,
    lingerMs: opts.lingerMs ?? 10,
    deliveryTimeoutMs: 1000,
    clock,
  })
  const leaders = new Map<string, number[]>([
    ['a', [1, 2]],
    ['b', [2]],
  ])
  const idem = opts.idempotent ? new IdempotenceState() : null
  idem?.setProducerId({ producerId: 7n, epoch: 0 })
  const s: Setup = {
    clock,
    acc,
    leaders,
    updates: 0,
    expired: [],
    failed: [],
    idem,
    r: undefined as unknown as Readiness,
    append: (topic, partition, value = 'v') => {
      const { e, bound } = entry(value)
      return acc.append(topic, partition, e, bound)
    },
  }
  const codec = getCodec('none')
  s.r = new Readiness({
    accumulator: acc,
    metadata: {
      topic: (name: string): TopicInfo | undefined => {
        const l = leaders.get(name)
        if (!l) return undefined
        const partitions = l.map((leader, partition) => ({ partition, leader, leaderEpoch: 0, errorCode: 0 }))
        return { name, partitions, available: partitions.map((p) => p.partition) }
      },
      requestUpdate: () => {
        s.updates++
      },
    },
    idempotence: idem,
    codec,
    compressor: new BatchCompressor({ codec, observe: () => undefined, wakeup: () => undefined }),
    outcomes: {
      expire: (b: ProducerBatch) => {
        s.expired.push(b)
        b.moveTo('done')
        acc.remove(b)
      },
      fail: (b: ProducerBatch, err: KafkaError) => {
        s.failed.push([b, err])
        b.moveTo('done')
        acc.remove(b)
      },
    },
    maxInFlight: opts.maxInFlight ?? 5,
    maxRequestBytes: opts.maxRequestBytes ?? 1 << 20,
    events: new Instrumentation(),
  })
  return s
}

const ids = (byLeader: Map<number, { topic: string; partition: number }[]>): Record<number, string[]> =>
  Object.fromEntries([...byLeader].map(([n, qs]) => [n, qs.map((q) => `${q.topic}-${q.partition}`)]))

describe('Readiness', () => {
  it('an open last batch lingers linger.ms; flush() or a full batch makes it go at once', () => {
    const s = setup({ lingerMs: 10 })
    s.append('a', 0)
    let res = s.r.ready(s.clock.now(), false)
    assert.equal(res.byLeader.size, 0)
    assert.equal(res.nextWake, T0 + 10)
    s.r.beginFlush()
    assert.deepEqual(ids(s.r.ready(s.clock.now(), false).byLeader), { 1: ['a-0'] })
    s.r.endFlush()
    s.append('a', 0)
    s.append('a', 0) // the third record fills the batch (batch.num.messages 3): sealed
    assert.deepEqual(ids(s.r.ready(s.clock.now(), false).byLeader), { 1: ['a-0'] })
    s.append('b', 0)
    s.clock.advance(10)
    res = s.r.ready(s.clock.now(), false)
    assert.deepEqual(ids(res.byLeader), { 1: ['a-0'], 2: ['b-0'] }, 'grouped by leader')
  })

  it('a partition without a leader asks for metadata and is not ready', () => {
    const s = setup({ lingerMs: 0 })
    s.leaders.set('a', [-1, 2])
    s.append('a', 0)
    s.append('a', 1)
    const res = s.r.ready(s.clock.now(), false)
    assert.deepEqual(ids(res.byLeader), { 2: ['a-1'] })
    assert.equal(s.updates, 1)
  })

  it('a batch in retry backoff waits until retryAt and says when', () => {
    const s = setup({ lingerMs: 0 })
    const b = s.append('a', 0)
    b.retryAt = T0 + 50
    const res = s.r.ready(s.clock.now(), false)
    assert.equal(res.byLeader.size, 0)
    assert.equal(res.nextWake, T0 + 50)
  })

  it('expires queued batches at their deadline; an in-flight one only in an expiry pass', () => {
    const s = setup({ lingerMs: 0 })
    const sent = s.append('a', 0)
    const [drained] = s.r.drain(s.r.ready(s.clock.now(), false).byLeader.get(1)!, s.clock.now())
    assert.equal(drained, sent)
    const queued = s.append('a', 1)
    s.clock.advance(1000)
    const res = s.r.ready(s.clock.now(), false)
    assert.deepEqual(s.expired, [queued], 'the queued batch expires at once')
    assert.equal(res.inFlightExpired, true, 'the in-flight one waits for a pass after the reads')
    s.r.ready(s.clock.now(), true)
    assert.deepEqual(s.expired, [queued, sent])
  })

  it('drain takes one batch per partition per request, within the request size, rotating the start', () => {
    const names = (bs: ProducerBatch[]): string[] => bs.map((b) => `${b.topic}-${b.partition}`)
    // Two full batches (of 3 records) on each of a-0, c-0 and c-1, all small: room for all six.
    const s = setup({ lingerMs: 0 })
    s.leaders.set('c', [1, 1])
    for (const [topic, partition] of [
      ['a', 0],
      ['c', 0],
      ['c', 1],
    ] as const)
      for (let i = 0; i < 6; i++) s.append(topic, partition)
    const qs = s.r.ready(s.clock.now(), false).byLeader.get(1)!
    assert.deepEqual(
      qs.map((q) => `${q.topic}-${q.partition}`),
      ['a-0', 'c-0', 'c-1'],
    )
    const [older, newer] = [0, 1].map((i) => qs.map((q) => q.batches[i]!))
    const first = s.r.drain(qs, s.clock.now())
    assert.deepEqual(first, older, 'the oldest batch of each partition, one per partition')
    const second = s.r.drain(qs, s.clock.now())
    assert.deepEqual(names(second), ['c-0', 'c-1', 'a-0'], 'the next drain starts at the next partition')
    assert.deepEqual(second, [newer![1], newer![2], newer![0]])

    // Request size: 128 bytes of overhead, then each batch with 64 more. a-0's batch of three
    // 100-byte records (~390 bytes) and c-0's small one fit in 700 bytes; c-1's does not beside them.
    const t = setup({ lingerMs: 0, maxRequestBytes: 700 })
    t.leaders.set('c', [1, 1])
    for (let i = 0; i < 3; i++) t.append('a', 0, 'x'.repeat(100))
    t.append('c', 0)
    t.append('c', 1)
    const tqs = t.r.ready(t.clock.now(), false).byLeader.get(1)!
    const sized = t.r.drain(tqs, t.clock.now())
    assert.deepEqual(names(sized), ['a-0', 'c-0'], 'c-1 left out by the request size')
    const requestSize = 128 + sized.reduce((n, b) => n + b.wire!.length + 64, 0)
    const left = t.r.drain(tqs, t.clock.now())
    assert.deepEqual(names(left), ['c-1'], 'and sent in the next request')
    assert.ok(requestSize + left[0]!.wire!.length > 700, 'c-1 does not fit beside a-0 and c-0')
  })

  it('a lingering batch built for a request it did not fit in takes no more records (found by W6)', () => {
    // c-1's only batch is still open (it lingered its 0 ms and is the last of its queue). drain()
    // builds it, then leaves it out because the request is full. It must not take appends after
    // that: the built bytes would no longer be the batch (RecordBatchBuilder refuses with _STATE,
    // which produce() threw to the application with 1,000 partitions in one request).
    for (const idempotent of [false, true]) {
      const t = setup({ lingerMs: 0, maxRequestBytes: 700, idempotent })
      t.leaders.set('c', [1, 1])
      for (let i = 0; i < 3; i++) t.append('a', 0, 'x'.repeat(100))
      t.append('c', 0)
      const leftOut = t.append('c', 1, 'first')
      const tqs = t.r.ready(t.clock.now(), false).byLeader.get(1)!
      const sent = t.r.drain(tqs, t.clock.now())
      assert.ok(!sent.includes(leftOut), 'c-1 left out by the request size')
      assert.equal(leftOut.closed, true, 'and closed, as it was built')
      const next = t.append('c', 1, 'second')
      assert.notEqual(next, leftOut, 'the next record starts a new batch')
      const later = t.r.drain(tqs, t.clock.now())
      assert.deepEqual(later, [leftOut], 'the left-out batch goes next, alone in its partition')
      assert.equal(leftOut.count, 1)
      assert.equal(leftOut.valueAt(0)!.toString(), 'first')
      assert.equal(next.valueAt(0)!.toString(), 'second')
    }
  })

  it('max.in.flight=1: nothing behind an in-flight batch may go', () => {
    const s = setup({ lingerMs: 0, maxInFlight: 1 })
    for (let i = 0; i < 6; i++) s.append('a', 0)
    const qs = s.r.ready(s.clock.now(), false).byLeader.get(1)!
    assert.equal(s.r.drain(qs, s.clock.now()).length, 1)
    assert.equal(s.r.ready(s.clock.now(), false).byLeader.size, 0)
  })

  it('idempotence: one batch in flight until the first acknowledgement, then at most 5', () => {
    const s = setup({ lingerMs: 0, idempotent: true })
    for (let i = 0; i < 3 * 8; i++) s.append('a', 0)
    const drainAll = (): ProducerBatch[] => {
      const out: ProducerBatch[] = []
      for (;;) {
        const qs = s.r.ready(s.clock.now(), false).byLeader.get(1)
        if (!qs) return out
        const got = s.r.drain(qs, s.clock.now())
        if (got.length === 0) return out
        out.push(...got)
      }
    }
    const first = drainAll()
    assert.equal(first.length, 1, 'one until the broker acknowledged one in this epoch')
    assert.equal(first[0]!.baseSequence, 0)
    s.idem!.onAcked(first[0]!)
    first[0]!.moveTo('done')
    s.acc.remove(first[0]!)
    const next = drainAll()
    assert.equal(next.length, 5, 'then up to 5 per partition')
    assert.deepEqual(
      next.map((b) => b.baseSequence),
      [3, 6, 9, 12, 15],
    )
  })

  it('a resent idempotent batch waits until everything ahead of it has its answer', () => {
    const s = setup({ lingerMs: 0, idempotent: true })
    for (let i = 0; i < 9; i++) s.append('a', 0)
    const qs = (): ReturnType<Setup['r']['ready']>['byLeader'] => s.r.ready(s.clock.now(), false).byLeader
    const [b0] = s.r.drain(qs().get(1)!, s.clock.now())
    s.idem!.onAcked(b0!)
    b0!.moveTo('done')
    s.acc.remove(b0!)
    const [b1] = s.r.drain(qs().get(1)!, s.clock.now())
    const [b2] = s.r.drain(qs().get(1)!, s.clock.now())
    assert.ok(b1 && b2)
    // b2's answer: a retriable error while b1 is still in flight: b2 keeps its sequence and may
    // not go again before b1 has its answer.
    b2.moveTo('ready')
    assert.equal(qs().size, 0)
    s.idem!.onAcked(b1)
    b1.moveTo('done')
    s.acc.remove(b1)
    assert.deepEqual(s.r.drain(qs().get(1)!, s.clock.now()), [b2], 'then b2, under its old sequence')
    assert.equal(b2.baseSequence, 6)
  })

  it('a batch the broker cut off while it was written goes alone', () => {
    const s = setup({ lingerMs: 0 })
    s.leaders.set('c', [1, 1, 1])
    const big = s.append('c', 0)
    s.append('c', 1)
    s.append('c', 2)
    big.unwrittenCloses = 1
    const qs = s.r.ready(s.clock.now(), false).byLeader.get(1)!
    const requests: string[][] = []
    for (;;) {
      const got = s.r.drain(qs, s.clock.now())
      if (got.length === 0) break
      requests.push(got.map((b) => `${b.topic}-${b.partition}`))
    }
    assert.ok(
      requests.some((r) => r.length === 1 && r[0] === 'c-0'),
      JSON.stringify(requests),
    )
    assert.equal(requests.flat().length, 3)
  })

  describe('behind a request in flight (worthAnotherRequest)', () => {
    /** `n` partitions of topic `w`, all led by broker 1, each with one record of `value`. */
    function spread(s: Setup, n: number, value = 'v'): PartitionQueue[] {
      s.leaders.set(
        'w',
        Array.from({ length: n }, () => 1),
      )
      for (let p = 0; p < n; p++) s.append('w', p, value)
      return s.r.ready(s.clock.now(), false).byLeader.get(1)!
    }
    it('many partitions with little data each wait for the answer', () => {
      const s = setup({ lingerMs: 0 })
      const qs = spread(s, COALESCE_FROM_PARTITIONS)
      assert.equal(qs.length, COALESCE_FROM_PARTITIONS)
      assert.equal(s.r.worthAnotherRequest(qs, s.clock.now()), false)
    })

    it('fewer partitions go at once, as before', () => {
      const s = setup({ lingerMs: 0 })
      const qs = spread(s, COALESCE_FROM_PARTITIONS - 1)
      assert.equal(s.r.worthAnotherRequest(qs, s.clock.now()), true)
    })

    it('many partitions whose batches fill a request go at once', () => {
      const s = setup({ lingerMs: 0, maxRequestBytes: 16 * 1024 })
      // ~200 bytes per batch x 100 partitions > 16 KiB: a full request is worth sending now.
      const qs = spread(s, COALESCE_FROM_PARTITIONS, 'x'.repeat(120))
      assert.equal(s.r.worthAnotherRequest(qs, s.clock.now()), true)
    })

    it('batches in retry backoff do not count towards a full request', () => {
      const s = setup({ lingerMs: 0, maxRequestBytes: 16 * 1024 })
      const qs = spread(s, COALESCE_FROM_PARTITIONS, 'x'.repeat(120))
      // Half the partitions' batches wait for their retry: what is left does not fill a request.
      for (const q of qs.slice(0, COALESCE_FROM_PARTITIONS / 2)) q.batches[0]!.retryAt = s.clock.now() + 100
      assert.equal(s.r.worthAnotherRequest(qs, s.clock.now()), false)
    })
  })
})
