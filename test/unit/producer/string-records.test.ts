import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { KafkaError } from '../../../src/errors/index.js'
import { normalizeRecord } from '../../../src/producer/normalize.js'
import { createPartitioner } from '../../../src/producer/partitioner.js'
import { RecordPlacement } from '../../../src/producer/placement.js'
import { BATCH_HEADER_SIZE, RecordBatchBuilder } from '../../../src/protocol/index.js'
import { T0, closeFakeProducers, closeIdle, eagerProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

// Issue 14: a string key or value stays a string until it is written into its batch. What a
// Buffer of the same string would weigh, where it would go and what it would read back as must
// not change.
const SAMPLES = ['', 'key-1', 'café', '日本語', '😀', '\ud800', 'x'.repeat(100), '€'.repeat(50)]

const placement = (max = Infinity): RecordPlacement =>
  new RecordPlacement(
    { topic: () => undefined },
    createPartitioner('murmur2_random', { batchSize: 16384, random: () => 0 }),
    max,
  )

describe('string keys and values', () => {
  it('are kept as strings with their UTF-8 lengths', () => {
    const r = normalizeRecord({ topic: 't', key: 'é', value: '\ud800x' }, T0)
    assert.equal(r.key, 'é')
    assert.equal(r.keyLength, 2)
    assert.equal(r.value, '\ud800x')
    assert.equal(r.valueLength, 4)
    const n = normalizeRecord({ topic: 't', key: null, value: null }, T0)
    assert.deepEqual([n.key, n.keyLength, n.value, n.valueLength], [null, -1, null, -1])
    const e = normalizeRecord({ topic: 't', key: '', value: '' }, T0)
    assert.deepEqual([e.keyLength, e.valueLength], [0, 0])
  })

  it('weigh what their Buffers weigh (buffer.memory, the batch bound)', () => {
    const p = placement()
    for (const s of SAMPLES) {
      const asString = normalizeRecord({ topic: 't', key: s, value: s, headers: { h: s } }, T0)
      const asBuffer = normalizeRecord(
        { topic: 't', key: Buffer.from(s), value: Buffer.from(s), headers: { h: Buffer.from(s) } },
        T0,
      )
      assert.equal(p.size(asString), p.size(asBuffer), JSON.stringify(s))
      assert.equal(
        p.size(asString),
        RecordBatchBuilder.recordSizeUpperBound(Buffer.from(s), Buffer.from(s), [['h', Buffer.from(s)]]),
      )
    }
  })

  it('message.max.bytes counts UTF-8 bytes: the limit is the same as for the Buffer', () => {
    const value = '€'.repeat(100) // 300 bytes in 100 code units
    const bound = RecordBatchBuilder.recordSizeUpperBound(null, Buffer.from(value), null) + BATCH_HEADER_SIZE
    const r = normalizeRecord({ topic: 't', value }, T0)
    assert.equal(placement(bound).size(r) + BATCH_HEADER_SIZE, bound)
    assert.throws(
      () => placement(bound - 1).size(r),
      (e: KafkaError) => e.code === 'MESSAGE_TOO_LARGE',
    )
  })

  it('detached() keeps strings (immutable) and copies Buffers', () => {
    const buf = Buffer.from('v')
    const r = normalizeRecord({ topic: 't', key: 'k😀', value: buf }, T0)
    const own = r.detached()
    assert.equal(own.key, 'k😀')
    assert.equal(own.keyLength, 5)
    assert.notEqual(own.value, buf)
    assert.deepEqual(own.value, buf)
    assert.equal(own.valueLength, 1)
  })

  it('are sent as their UTF-8 bytes, and reported as Buffers', async () => {
    const { cluster, producer, d, pump } = eagerProducer({ 'linger.ms': 0 })
    for (const [i, s] of SAMPLES.entries())
      producer.produce({ topic: 't', key: s, value: s }, d.cb(String(i)))
    await pump()
    await pump(1)
    const records = cluster.produceCalls.flatMap((c) => c.partitions.flatMap((p) => p.records))
    assert.deepEqual(
      records.map((r) => [r.key, r.value]),
      SAMPLES.map((s) => [Buffer.from(s), Buffer.from(s)]),
    )
    for (const [i, s] of SAMPLES.entries()) {
      const { err, report } = d.one(String(i))
      assert.equal(err, null)
      assert.deepEqual([report.key, report.value], [Buffer.from(s), Buffer.from(s)])
    }
    await closeIdle(producer, pump)
  })

  it('a record that failed waiting for metadata reports its string key and value as Buffers', async () => {
    const { producer, d, pump } = eagerProducer({ 'topic.metadata.propagation.max.ms': 100 })
    producer.produce({ topic: 'ghost', key: 'clé', value: '\ud800' }, d.cb('x'))
    for (let i = 0; i < 3; i++) await pump(60)
    const { err, report } = d.one('x')
    assert.equal(err!.code, '_UNKNOWN_TOPIC')
    assert.ok(Buffer.isBuffer(report.key) && Buffer.isBuffer(report.value))
    assert.deepEqual([report.key, report.value], [Buffer.from('clé'), Buffer.from('\ud800')])
    await closeIdle(producer, pump)
  })
})
