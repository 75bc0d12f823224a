import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProducerBatch } from '../../../src/producer/batch.js'
import { IdempotenceState } from '../../../src/producer/idempotence.js'
import { KafkaError } from '../../../src/errors/index.js'

const T0 = 1_700_000_000_000
const SEQUENCE_LIMIT = 2 ** 31

/** A batch of `n` one-byte records for `topic`/`partition`. */
function batch(n: number, partition = 0, topic = 't'): ProducerBatch {
  const b = new ProducerBatch(topic, partition, 1024, T0, 120_000)
  for (let i = 0; i < n; i++) {
    const ok = b.tryAppend(
      {
        key: null,
        keyLength: -1,
        value: Buffer.from([i]),
        valueLength: 1,
        headers: null,
        timestamp: T0,
        callback: undefined,
        bytes: 32,
        deadline: T0 + 120_000,
      },
      32,
      1 << 20,
      1_000,
    )
    assert.ok(ok)
  }
  assert.equal(b.count, n)
  return b
}

/** A batch that claims `count` records (to reach the sequence wrap without 2^31 real records). */
function batchOfCount(count: number, partition = 0): ProducerBatch {
  const b = batch(1, partition)
  Object.defineProperty(b, 'count', { value: count })
  return b
}

function ready(producerId = 7n, epoch = 3): IdempotenceState {
  const s = new IdempotenceState()
  s.setProducerId({ producerId, epoch })
  return s
}

function stampAll(s: IdempotenceState, ...batches: ProducerBatch[]): void {
  for (const b of batches) s.stamp(b)
}

describe('IdempotenceState', () => {
  it('starts without a producer id: not ready, needs one, and refuses to stamp', () => {
    const s = new IdempotenceState()
    assert.equal(s.producerId, null)
    assert.equal(s.ready, false)
    assert.equal(s.needsProducerId, true)
    assert.equal(s.needsBump, false)
    assert.throws(
      () => s.stamp(batch(1)),
      (e: unknown) => e instanceof KafkaError && e.code === '_STATE',
    )
    s.setProducerId({ producerId: 1000n, epoch: 0 })
    assert.deepEqual(s.producerId, { producerId: 1000n, epoch: 0 })
    assert.equal(s.ready, true)
    assert.equal(s.needsProducerId, false)
  })

  it('stamps consecutive sequences per partition (base = previous base + previous count)', () => {
    const s = ready(42n, 5)
    const a = batch(3)
    const b = batch(1)
    const c = batch(4)
    stampAll(s, a, b, c)
    assert.deepEqual(
      [a, b, c].map((x) => [x.producerId, x.producerEpoch, x.baseSequence]),
      [
        [42n, 5, 0],
        [42n, 5, 3],
        [42n, 5, 4],
      ],
    )
    assert.ok(a.stamped && b.stamped && c.stamped)
    assert.equal(batch(2).stamped, false)
  })

  it('keeps sequences independent across partitions and topics', () => {
    const s = ready()
    const p0a = batch(2, 0)
    const p1a = batch(5, 1)
    const p0b = batch(1, 0)
    const p1b = batch(1, 1)
    const u0 = batch(1, 0, 'u')
    stampAll(s, p0a, p1a, p0b, p1b, u0)
    assert.deepEqual(
      [p0a, p1a, p0b, p1b, u0].map((x) => x.baseSequence),
      [0, 0, 2, 5, 0],
    )
  })

  it('wraps the sequence at 2^31 like DefaultRecordBatch.incrementSequence', () => {
    const s = ready()
    const filler = batchOfCount(SEQUENCE_LIMIT - 3)
    const across = batch(5)
    const after = batch(1)
    stampAll(s, filler, across, after)
    assert.equal(filler.baseSequence, 0)
    assert.equal(across.baseSequence, SEQUENCE_LIMIT - 3)
    // incrementSequence(2^31 - 3, 5) = 5 - (Integer.MAX_VALUE - (2^31 - 3)) - 1 = 2
    assert.equal(after.baseSequence, 2)

    // An exact landing on the limit wraps to 0.
    const t = ready()
    const exact = batchOfCount(SEQUENCE_LIMIT - 1)
    const one = batch(1)
    const zero = batch(1)
    stampAll(t, exact, one, zero)
    assert.equal(one.baseSequence, SEQUENCE_LIMIT - 1)
    assert.equal(zero.baseSequence, 0)
  })

  it('onAcked moves the next-in-line batch forward, never backwards, across the wrap too', () => {
    const s = ready()
    const a = batch(2)
    const b = batch(3)
    const c = batch(1)
    stampAll(s, a, b, c)
    assert.equal(s.isNextInLine(a), true)
    assert.equal(s.isNextInLine(b), false)
    assert.equal(s.isNextInLine(c), false)
    s.onAcked(a)
    assert.equal(s.isNextInLine(a), false)
    assert.equal(s.isNextInLine(b), true)
    s.onAcked(b)
    assert.equal(s.isNextInLine(c), true)
    // A late duplicate acknowledgement of `a` does not move lastAcked back.
    s.onAcked(a)
    assert.equal(s.isNextInLine(c), true)
    assert.equal(s.isNextInLine(b), false)

    // Across the wrap: the last sequence 2^31 - 1 is acknowledged, the next in line starts at 0.
    const w = ready()
    const filler = batchOfCount(SEQUENCE_LIMIT - 2)
    const across = batch(2) // sequences 2^31 - 2 and 2^31 - 1
    const wrapped = batch(3) // 0..2
    const next = batch(1) // 3
    stampAll(w, filler, across, wrapped, next)
    assert.deepEqual(
      [across.baseSequence, wrapped.baseSequence, next.baseSequence],
      [SEQUENCE_LIMIT - 2, 0, 3],
    )
    w.onAcked(filler)
    assert.equal(w.isNextInLine(across), true)
    w.onAcked(across)
    assert.equal(w.isNextInLine(wrapped), true)
    w.onAcked(wrapped)
    assert.equal(w.isNextInLine(next), true)
    w.onAcked(across) // older than `wrapped` although numerically larger
    assert.equal(w.isNextInLine(next), true)
  })

  it('ignores acknowledgements of batches stamped under another epoch', () => {
    const s = ready(7n, 3)
    const old = batch(4)
    s.stamp(old)
    s.bumpEpoch([])
    const fresh = batch(1)
    s.stamp(fresh)
    assert.equal(fresh.baseSequence, 0)
    s.onAcked(old) // sequences 0..3 of epoch 3 say nothing about epoch 4
    assert.equal(s.isNextInLine(fresh), true)
  })

  describe('classify()', () => {
    it('DUPLICATE_SEQUENCE_NUMBER (46) → duplicate', () => {
      const s = ready()
      const a = batch(1)
      s.stamp(a)
      assert.equal(s.classify(a, 46), 'duplicate')
    })

    it('OUT_OF_ORDER_SEQUENCE_NUMBER (45): behind an unacked batch → retry; next in line → bump', () => {
      const s = ready()
      const a = batch(2)
      const b = batch(1)
      const c = batch(1)
      stampAll(s, a, b, c)
      assert.equal(s.classify(a, 45), 'bump')
      assert.equal(s.classify(b, 45), 'retry')
      assert.equal(s.classify(c, 45), 'retry')
      s.onAcked(a)
      assert.equal(s.classify(b, 45), 'bump', 'b is next in line once a is acknowledged')
      assert.equal(s.classify(c, 45), 'retry')
    })

    it('OUT_OF_ORDER_SEQUENCE_NUMBER (45) after the broker acknowledged a later batch → bump', () => {
      // A broker with no state for the producer id took c first (any first sequence is accepted):
      // a and b can never be written in this epoch, retrying them would only run into their timeout.
      const s = ready()
      const a = batch(2)
      const b = batch(1)
      const c = batch(1)
      stampAll(s, a, b, c)
      assert.equal(s.hasAcked('t', 0), false)
      s.onAcked(c)
      assert.equal(s.hasAcked('t', 0), true)
      assert.equal(s.hasAcked('t', 1), false)
      assert.equal(s.classify(b, 45), 'bump')
      assert.equal(s.classify(a, 45), 'bump')
    })

    it('UNKNOWN_PRODUCER_ID (59) → bump, whatever the position', () => {
      const s = ready()
      const a = batch(1)
      const b = batch(1)
      stampAll(s, a, b)
      assert.equal(s.classify(a, 59), 'bump')
      assert.equal(s.classify(b, 59), 'bump')
    })

    it('PRODUCER_FENCED (90), INVALID_PRODUCER_ID_MAPPING (49), CLUSTER_AUTHORIZATION_FAILED (31) → fatal', () => {
      const s = ready()
      const a = batch(1)
      s.stamp(a)
      assert.deepEqual(
        [90, 49, 31, 53].map((code) => s.classify(a, code)),
        ['fatal', 'fatal', 'fatal', 'fatal'],
      )
    })

    it('INVALID_PRODUCER_EPOCH (47): fatal for the current epoch, retry for a batch of an older one', () => {
      const s = ready(7n, 3)
      const old = batch(1)
      s.stamp(old)
      assert.equal(s.classify(old, 47), 'fatal')
      s.bumpEpoch([])
      assert.equal(s.classify(old, 47), 'retry')
    })

    it('anything else → default', () => {
      const s = ready()
      const a = batch(1)
      s.stamp(a)
      for (const code of [0, 2, 6, 7, 10, 19, 20, 87, -1])
        assert.equal(s.classify(a, code), 'default', `code ${code}`)
    })
  })

  it('bumpEpoch increments the epoch, restarts every partition at 0 and unstamps the queued batches', () => {
    const s = ready(9n, 4)
    const p0 = batch(3, 0)
    const p1 = batch(2, 1)
    stampAll(s, p0, p1)
    p0.wire = Buffer.from('built under epoch 4')
    assert.equal(s.needsBump, false)
    s.requestBump()
    assert.equal(s.ready, false)
    assert.equal(s.needsBump, true)
    assert.equal(s.needsProducerId, false)
    assert.equal(s.bumps, 0)

    s.bumpEpoch([p0, p1])
    assert.deepEqual(s.producerId, { producerId: 9n, epoch: 5 })
    assert.equal(s.bumps, 1)
    assert.equal(s.ready, true)
    assert.equal(s.needsBump, false)
    for (const b of [p0, p1]) {
      assert.equal(b.stamped, false)
      assert.deepEqual([b.producerId, b.producerEpoch, b.baseSequence], [-1n, -1, -1])
    }
    assert.equal(p0.wire, null, 'the old bytes are rebuilt with the new stamp')
    // Restamped in queue order from sequence 0.
    const later = batch(1, 0)
    stampAll(s, p0, p1, later)
    assert.deepEqual(
      [p0, p1, later].map((b) => [b.producerEpoch, b.baseSequence]),
      [
        [5, 0],
        [5, 0],
        [5, 3],
      ],
    )
    assert.equal(s.isNextInLine(p0), true)
  })

  it('epoch exhaustion (32767): a bump asks for a new producer id and nothing is ready until it is set', () => {
    const s = ready(77n, 32767)
    const a = batch(2)
    s.stamp(a)
    s.requestBump()
    s.bumpEpoch([a])
    assert.equal(s.bumps, 1)
    assert.equal(s.ready, false)
    assert.equal(s.needsProducerId, true)
    assert.equal(s.needsBump, false)
    assert.equal(a.stamped, false)
    assert.deepEqual(s.producerId, { producerId: 77n, epoch: 32767 }, 'the epoch never goes past 32767')

    s.setProducerId({ producerId: 78n, epoch: 0 })
    assert.equal(s.ready, true)
    assert.equal(s.needsProducerId, false)
    s.stamp(a)
    assert.deepEqual([a.producerId, a.producerEpoch, a.baseSequence], [78n, 0, 0])
  })

  it('a fatal error stops everything and keeps the first error', () => {
    const s = ready()
    const first = new KafkaError('PRODUCER_FENCED', 'fenced', { kafkaCode: 90, fatal: true })
    s.setFatal(first)
    s.setFatal(new KafkaError('CLUSTER_AUTHORIZATION_FAILED'))
    assert.equal(s.fatal, first)
    assert.equal(s.ready, false)
    assert.equal(s.needsProducerId, false)
    s.requestBump()
    assert.equal(s.needsBump, false)
  })
})

describe('ProducerBatch stamp', () => {
  it('stamp() sets the idempotence fields and drops built bytes; unstamp() resets them', () => {
    const b = batch(2)
    assert.deepEqual([b.producerId, b.producerEpoch, b.baseSequence, b.stamped], [-1n, -1, -1, false])
    b.wire = Buffer.from('x')
    b.stamp(5n, 2, 10)
    assert.deepEqual([b.producerId, b.producerEpoch, b.baseSequence, b.stamped], [5n, 2, 10, true])
    assert.equal(b.wire, null)
    b.stamp(5n, 2, 0)
    assert.equal(b.stamped, true, 'sequence 0 is a stamp')
    b.wire = Buffer.from('y')
    b.unstamp()
    assert.deepEqual([b.producerId, b.producerEpoch, b.baseSequence, b.stamped], [-1n, -1, -1, false])
    assert.equal(b.wire, null)
    assert.equal(b.count, 2, 'the records stay')
  })
})
