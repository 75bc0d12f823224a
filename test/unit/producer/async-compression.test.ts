// Batches compressed on the thread pool (Codec.compressAsync): a batch is not sent before its
// compression ends, partition order and sequences hold whatever order compressions end in, and
// every record still gets exactly one report when compression fails or the batch expires meanwhile.
// The codec registered as 'lz4' here is real lz4 whose async half the test completes by hand.
import assert from 'node:assert/strict'
import { after, afterEach, describe, it } from 'node:test'
import { type Codec, getCodec, registerCodec } from '../../../src/compression/index.js'
import type { Producer } from '../../../src/producer/producer.js'
import { ASYNC_COMPRESSION_MIN_BYTES, asyncCompressionMinBytes } from '../../../src/producer/sender.js'
import { LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES } from '../../../src/producer/compressor.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer, type FakeProducer } from '../../helpers/fake-producer.js'
const realLz4 = getCodec('lz4')

interface Pending {
  data: Buffer
  resolve: () => void
  reject: (err: Error) => void
}

/** lz4 whose compressAsync waits for the test; counts the inline compressions. */
class ControlledLz4 implements Codec {
  readonly name = 'lz4' as const
  readonly attribute = 3
  readonly pending: Pending[] = []
  inline = 0
  inlineError: Error | null = null

  compress(data: Buffer): Buffer {
    this.inline++
    if (this.inlineError) throw this.inlineError
    return realLz4.compress(data)
  }

  compressAsync(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        // Copied at completion: the bytes must still be intact when the "worker" reads them.
        data,
        resolve: () => resolve(realLz4.compress(Buffer.from(data))),
        reject,
      })
    })
  }

  decompress(data: Buffer): Buffer {
    return realLz4.decompress(data)
  }
}

const codec = new ControlledLz4()
registerCodec(codec)
after(() => registerCodec(realLz4))

afterEach(async () => {
  codec.pending.length = 0
  codec.inline = 0
  codec.inlineError = null
  await closeFakeProducers()
})

function setup(config: Record<string, unknown> = {}, cores = 4): FakeProducer & { d: Deliveries } {
  const rig = fakeProducer(
    { 'compression.type': 'lz4', 'linger.ms': 1000, 'batch.size': 16384, ...config },
    { topics: { t: { partitions: 1 } } },
    3,
    { cores },
  )
  return { ...rig, d: new Deliveries() }
}

/** Metadata and the producer id, before the records under test. */
async function warmUp(producer: Producer, pump: () => Promise<void>): Promise<void> {
  const sent = producer.send({ topic: 't', value: 'warm' })
  const flushed = producer.flush(5000)
  await pump()
  await sent
  assert.equal(await flushed, 0)
}

/** Values of 1,000 bytes, distinct per id (so decoded order can be checked). */
const value = (i: number): Buffer => Buffer.from(String(i).padStart(8, '0').repeat(125))

/** flush(), finishing each thread-pool compression as it starts; resolves with flush's count. */
async function flushFinishing(producer: Producer, pump: () => Promise<void>): Promise<number> {
  const flushed = producer.flush(5000)
  await pump()
  while (codec.pending.length > 0) {
    codec.pending.shift()!.resolve()
    await pump()
  }
  return flushed
}

/** The last `n` records of t/0 are values 0..n-1, in order. */
function assertLogEndsWith(cluster: FakeProducer['cluster'], n: number): void {
  assert.deepEqual(
    cluster
      .log('t', 0)
      .slice(-n)
      .map((r) => r.value!.toString().slice(0, 8)),
    Array.from({ length: n }, (_, i) => String(i).padStart(8, '0')),
  )
}

describe('compression on the thread pool', () => {
  it('a full batch is compressed asynchronously and sent only once that ends', async () => {
    const { cluster, producer, d, pump } = setup()
    await warmUp(producer, pump)
    codec.inline = 0
    const sentBefore = cluster.produceCalls.length
    // ~16 KiB of records: the first batch fills up (the compression estimate starts at 1).
    for (let i = 0; i < 20; i++)
      producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`r${i}`))
    await pump()
    assert.ok(codec.pending.length >= 1, 'the full batch went to the thread pool')
    assert.ok(codec.pending[0]!.data.length >= ASYNC_COMPRESSION_MIN_BYTES)
    assert.equal(cluster.produceCalls.length, sentBefore, 'nothing sent while compressing')
    codec.pending.shift()!.resolve()
    await pump()
    assert.equal(cluster.produceCalls.length, sentBefore + 1)
    assert.equal(codec.inline, 0, 'the full batch was not compressed on the JavaScript thread')
    const last = cluster.produceCalls.at(-1)!.partitions[0]!
    assert.equal(last.batches[0]!.compression, 'lz4')
    const firstCount = last.records.length
    assert.ok(firstCount > 1 && firstCount < 20)
    assert.deepEqual(
      last.records.map((r) => r.value!.equals(value(last.records.indexOf(r)))),
      last.records.map(() => true),
    )
    // The rest lingers; flush sends it (compressed the same way) and every record is reported.
    assert.equal(await flushFinishing(producer, pump), 0)
    for (let i = 0; i < 20; i++) assert.equal(d.one(`r${i}`).err, null)
    assertLogEndsWith(cluster, 20)
  })

  it('on two cores a 100 KiB lz4 batch is compressed inline; a 512 KiB one still on the thread pool', async () => {
    const { cluster, producer, d, pump } = setup({ 'batch.size': 512 * 1024 }, 2)
    await warmUp(producer, pump)
    codec.inline = 0
    const before = cluster.produceCalls.length
    // ~100 KiB, then flush: below LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES, so no hand-off.
    for (let i = 0; i < 100; i++)
      producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`a${i}`))
    const flushed = producer.flush(5000)
    await pump()
    assert.equal(codec.pending.length, 0, 'nothing handed to the thread pool')
    assert.equal(codec.inline, 1, 'compressed once, on the JavaScript thread')
    assert.equal(await flushed, 0)
    assert.equal(cluster.produceCalls.length, before + 1)
    for (let i = 0; i < 100; i++) assert.equal(d.one(`a${i}`).err, null)
    // ~512 KiB fills the batch: above the threshold, so it goes to the thread pool.
    for (let i = 100; i < 620; i++)
      producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`a${i}`))
    await pump()
    assert.ok(codec.pending.length >= 1, 'the full 512 KiB batch went to the thread pool')
    assert.ok(codec.pending[0]!.data.length >= LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES)
    assert.equal(await flushFinishing(producer, pump), 0)
    for (let i = 100; i < 620; i++) assert.equal(d.one(`a${i}`).err, null)
    assertLogEndsWith(cluster, 620)
  })

  it('the inline threshold: lz4 on two cores or fewer, every other case the default', () => {
    assert.equal(asyncCompressionMinBytes('lz4', 1), LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES)
    assert.equal(asyncCompressionMinBytes('lz4', 2), LZ4_INLINE_BELOW_BYTES_ON_TWO_CORES)
    assert.equal(asyncCompressionMinBytes('lz4', 3), ASYNC_COMPRESSION_MIN_BYTES)
    for (const c of ['gzip', 'snappy', 'zstd'] as const)
      assert.equal(asyncCompressionMinBytes(c, 2), ASYNC_COMPRESSION_MIN_BYTES)
  })

  it('keeps partition order and sequences when later batches finish compressing first', async () => {
    const { cluster, producer, d, pump } = setup({ 'linger.ms': 0 })
    await warmUp(producer, pump)
    const before = cluster.produceCalls.length
    // Three batches of ~16 KiB for partition 0, appended in one go.
    for (let i = 0; i < 60; i++)
      producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`r${i}`))
    await pump()
    assert.ok(codec.pending.length >= 3, `${codec.pending.length} compressions started`)
    // Finish them newest first: nothing may overtake the oldest.
    while (codec.pending.length > 1) {
      codec.pending.pop()!.resolve()
      await pump()
      assert.equal(cluster.produceCalls.length, before, 'a later batch overtook the oldest')
    }
    codec.pending.pop()!.resolve()
    await pump()
    const flushed = producer.flush(5000)
    for (let k = 0; k < 10 && codec.pending.length + producer.pending > 0; k++) {
      while (codec.pending.length > 0) codec.pending.shift()!.resolve()
      await pump()
    }
    assert.equal(await flushed, 0)
    d.assertAllOnce()
    const batches = cluster.produceCalls
      .slice(before)
      .flatMap((c) => c.partitions.flatMap((p) => p.batches))
      .filter((b) => b.records.length > 0)
    let seq = batches[0]!.baseSequence
    for (const b of batches) {
      assert.equal(b.baseSequence, seq, 'sequences contiguous in send order')
      seq += b.records.length
    }
    assertLogEndsWith(cluster, 60)
  })

  it('a batch sends as soon as its own compression ends; the ones behind it are not compressed twice', async () => {
    const { cluster, producer, d, pump } = setup({ 'linger.ms': 0 })
    await warmUp(producer, pump)
    codec.inline = 0
    const before = cluster.produceCalls.length
    for (let i = 0; i < 60; i++)
      producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`r${i}`))
    await pump()
    const started = codec.pending.length
    assert.ok(started >= 3)
    codec.pending.shift()!.resolve()
    await pump()
    const sent = cluster.produceCalls.slice(before).flatMap((c) => c.partitions.flatMap((p) => p.batches))
    assert.equal(sent.length, 1, 'only the batch whose compression ended was sent')
    assert.equal(
      codec.inline,
      0,
      'the batches behind it wait for the thread pool instead of compressing inline',
    )
    assert.equal(codec.pending.length, started - 1)
    while (codec.pending.length > 0) {
      codec.pending.shift()!.resolve()
      await pump()
    }
    const flushed = producer.flush(5000)
    await pump()
    assert.equal(await flushed, 0)
    d.assertAllOnce()
  })

  it('small batches are compressed inline (no thread-pool round trip for a latency-bound batch)', async () => {
    const { cluster, producer, d, pump } = setup({ 'linger.ms': 0 })
    producer.produce({ topic: 't', value: 'small' }, d.cb('s'))
    await pump()
    assert.equal(codec.pending.length, 0)
    assert.equal(codec.inline, 1)
    assert.equal(d.one('s').err, null)
    assert.equal(cluster.log('t', 0).at(-1)!.value!.toString(), 'small')
  })

  it('a failed async compression falls back to inline; if that fails too, the records fail once with _BAD_COMPRESSION', async () => {
    const { producer, d, pump } = setup({ 'linger.ms': 0 })
    await warmUp(producer, pump)
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`a${i}`))
    await pump()
    codec.pending.shift()!.reject(new Error('worker failed'))
    await pump()
    for (let i = 0; i < 5; i++) assert.equal(d.one(`a${i}`).err, null, 'delivered after inline compression')

    codec.inlineError = new Error('codec broken')
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`b${i}`))
    await pump()
    codec.pending.shift()!.reject(new Error('worker failed'))
    await pump()
    for (let i = 0; i < 5; i++) {
      const { err } = d.one(`b${i}`)
      assert.equal(err?.code, '_BAD_COMPRESSION')
      assert.match(err!.message, /codec broken/)
    }
    // The producer goes on: the next batch (codec working again) is delivered, sequences intact.
    codec.inlineError = null
    producer.produce({ topic: 't', partition: 0, value: 'after' }, d.cb('after'))
    await pump()
    assert.equal(d.one('after').err, null)
    assert.equal(producer.fatal, null)
  })

  it('a batch that expires while compressing fails once with _MSG_TIMED_OUT; the late result is ignored', async () => {
    const { cluster, producer, d, pump } = setup({
      'linger.ms': 0,
      'delivery.timeout.ms': 2000,
      'request.timeout.ms': 1000,
    })
    await warmUp(producer, pump)
    const before = cluster.produceCalls.length
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', partition: 0, value: value(i) }, d.cb(`e${i}`))
    await pump()
    assert.equal(codec.pending.length, 1)
    await pump(2001)
    for (let i = 0; i < 5; i++) assert.equal(d.one(`e${i}`).err?.code, '_MSG_TIMED_OUT')
    codec.pending.shift()!.resolve()
    await pump()
    assert.equal(cluster.produceCalls.length, before, 'the expired batch was not sent')
    d.assertAllOnce()
    assert.equal(producer.pending, 0)
  })
})
