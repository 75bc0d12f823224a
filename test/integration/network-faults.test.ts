// Network faults between producer and broker, through a loopback TCP proxy: every connection cut,
// latency added, traffic black-holed longer than request.timeout.ms. After each fault the
// idempotent producer recovers within its timeouts and the log holds every record exactly once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import { Producer, type KafkaError } from '../../src/index.js'
import { FaultProxy } from '../helpers/fault-proxy.js'
import { idempotenceOf } from '../helpers/internals.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const REQUEST_TIMEOUT_MS = 3_000

test('cut, delay and black-hole faults: recovery within the timeouts, 0 lost, 0 duplicated', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('faults')
  await createTopic(bootstrap, { name: topic, numPartitions: 3 })
  const proxy = await FaultProxy.start(bootstrap.split(','))
  const producer = new Producer(
    {
      'bootstrap.servers': bootstrap,
      'linger.ms': 5,
      'request.timeout.ms': REQUEST_TIMEOUT_MS,
      'socket.connection.setup.timeout.ms': REQUEST_TIMEOUT_MS,
      'delivery.timeout.ms': 60_000,
      'retry.backoff.ms': 50,
    },
    { transport: proxy.transport },
  )
  const failures: KafkaError[] = []
  let delivered = 0
  let lastDeliveryAt = 0
  let seq = 0
  const produceBurst = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const v = seq++
      producer.produce({ topic, key: `k${v % 50}`, value: String(v) }, (err) => {
        if (err) failures.push(err)
        else {
          delivered++
          lastDeliveryAt = Date.now()
        }
      })
    }
  }
  /** Produces while `fault` is active, lifts it, and returns how long delivery took to resume. */
  const withFault = async (apply: () => void, lift: () => void, holdMs: number): Promise<number> => {
    produceBurst(2_000)
    await producer.flush(30_000)
    apply()
    const until = Date.now() + holdMs
    while (Date.now() < until) {
      produceBurst(500)
      await sleep(200)
    }
    const liftedAt = Date.now()
    lift()
    produceBurst(500)
    assert.equal(await producer.flush(60_000), 0)
    return lastDeliveryAt - liftedAt
  }

  const cutRecovery = await withFault(
    () => proxy.cutAll(),
    () => {},
    0,
  )
  const acceptedBeforeCut = proxy.accepted
  // A cut in the middle of traffic, repeated: connections drop while requests are in flight.
  for (let k = 0; k < 3; k++) {
    produceBurst(3_000)
    await sleep(20)
    proxy.cutAll()
  }
  assert.equal(await producer.flush(60_000), 0)
  assert.ok(proxy.accepted > acceptedBeforeCut, 'the producer reconnected after the cuts')

  const delayRecovery = await withFault(
    () => proxy.delay(300),
    () => proxy.delay(0),
    2_000,
  )
  const acceptedBeforeBlackhole = proxy.accepted
  const blackholeRecovery = await withFault(
    () => proxy.blackhole(true),
    () => proxy.blackhole(false),
    REQUEST_TIMEOUT_MS + 2_000,
  )
  // Requests got no answer within request.timeout.ms, so the producer gave up on the connection
  // and dialled again while the black hole lasted.
  assert.ok(proxy.accepted > acceptedBeforeBlackhole, 'a request timeout led to a new connection')
  await producer.close()
  await proxy.close()

  assert.deepEqual(
    failures.map((f) => `${f.code}: ${f.message}`),
    [],
  )
  assert.equal(delivered, seq)
  for (const [name, ms] of [
    ['cut', cutRecovery],
    ['delay', delayRecovery],
    ['black hole', blackholeRecovery],
  ] as const) {
    // After the fault is lifted, the backlog goes out within one request timeout plus backoff.
    assert.ok(
      ms < 2 * REQUEST_TIMEOUT_MS + 3_000,
      `${name}: delivery resumed ${ms} ms after the fault was lifted`,
    )
  }

  const consumed = await kcatConsume({
    bootstrapServers: bootstrap,
    topic,
    count: seq * 2,
    timeoutMs: 60_000,
  })
  const counts = new Map<string, number>()
  for (const c of consumed) counts.set(c.value!.toString(), (counts.get(c.value!.toString()) ?? 0) + 1)
  let missing = 0
  let duplicated = 0
  for (let v = 0; v < seq; v++) {
    const n = counts.get(String(v)) ?? 0
    if (n === 0) missing++
    else duplicated += n - 1
  }
  console.log(
    `# faults: ${seq} records, ${missing} missing, ${duplicated} duplicated; delivery resumed after ` +
      `cut ${cutRecovery} ms, delay ${delayRecovery} ms, black hole ${blackholeRecovery} ms`,
  )
  assert.equal(missing, 0)
  assert.equal(duplicated, 0)
})

test('20,000 concurrent send() promises to 3 partitions: all resolve, distinct offsets in call order', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('concurrent')
  await createTopic(bootstrap, { name: topic, numPartitions: 3 })
  const errors: KafkaError[] = []
  const producer = new Producer({ 'bootstrap.servers': bootstrap, error_cb: (e) => errors.push(e) })
  const n = 20_000
  const reports = await Promise.all(
    Array.from({ length: n }, (_, i) => producer.send({ topic, partition: i % 3, value: String(i) })),
  )
  const bumps = idempotenceOf(producer)?.bumps
  await producer.close()
  assert.equal(reports.length, n)
  assert.equal(bumps, 0, 'no sequence trouble: the epoch was never bumped')
  assert.deepEqual(errors, [])
  const last = [-1, -1, -1]
  const offsets = new Set<string>()
  reports.forEach((r, i) => {
    assert.equal(r.partition, i % 3)
    assert.ok(r.offset > last[r.partition]!, `offsets in call order on partition ${r.partition}`)
    last[r.partition] = r.offset
    offsets.add(`${r.partition}@${r.offset}`)
  })
  assert.equal(offsets.size, n, 'distinct offsets')
  const consumed = await kcatConsume({ bootstrapServers: bootstrap, topic, count: n })
  assert.equal(consumed.length, n)
  for (const c of consumed) assert.equal(Number(c.value!.toString()) % 3, c.partition)
})
