// statistics.interval.ms and stats_cb on a producer (fake cluster, manual clock): emitted on the
// interval's grid as JSON and typed, nothing at all when off, a throwing stats_cb reported to
// error_cb, the timer gone after close(); and the field set against librdkafka's own output
// (test/fixtures/librdkafka-stats.json, recorded with confluent-kafka 2.16 / librdkafka 2.16).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { afterEach, describe, it } from 'node:test'
import { NOT_APPLICABLE, type Statistics } from '../../../src/observability/statistics/index.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

type Json = Record<string, unknown>

const FIXTURE = JSON.parse(
  readFileSync(new URL('../../../../test/fixtures/librdkafka-stats.json', import.meta.url), 'utf8'),
) as Json

function first(o: unknown): Json {
  return Object.values(o as Json)[0] as Json
}

describe('statistics on a producer', () => {
  it('off (statistics.interval.ms=0, the default): no listener, no timer, statistics() null', async () => {
    // Metrics (on by default) subscribe request and batch events of their own: off here and below.
    const { producer, clock, pump } = fakeProducer({
      stats_cb: () => assert.fail('never called'),
      'metrics.enable': false,
    })
    for (const name of [
      'request.sent',
      'request.answered',
      'batch.built',
      'batch.sent',
      'connection.opened',
    ] as const)
      assert.equal(producer.instrumentation.has(name), false, name)
    producer.produce({ topic: 't', value: 'x' })
    for (let i = 0; i < 10; i++) await pump(1000)
    assert.equal(producer.statistics(), null)
    await producer.close()
    assert.equal(clock.pendingTimers, 0)
  })

  it('every interval: stats_cb gets the JSON of what statistics() returns, with the run in it', async () => {
    const got: string[] = []
    const { producer, clock, pump } = fakeProducer(
      {
        'statistics.interval.ms': 1000,
        stats_cb: (json: string) => got.push(json),
        'linger.ms': 5,
        acks: 1,
        'metrics.enable': false,
      },
      { topics: { t: { partitions: 3 } } },
    )
    const d = new Deliveries()
    for (let i = 0; i < 30; i++)
      producer.produce({ topic: 't', key: `k${i}`, value: 'v'.repeat(100) }, d.cb(`r${i}`))
    for (let i = 0; i < 50; i++) await pump(10)
    d.assertAllOnce()
    assert.equal(got.length, 0, 'none before the first interval')
    await pump(500)
    assert.equal(got.length, 1)
    const s = producer.statistics()!
    assert.deepEqual(JSON.parse(got[0]!), s)
    assert.equal(s.client_id, producer.config.clientId)
    assert.match(s.name, new RegExp(`^${producer.config.clientId}#producer-\\d+$`))
    assert.equal(s.msg_cnt, 0)
    assert.equal(s.txmsgs, 30)
    const keyValueBytes = Array.from({ length: 30 }, (_, i) => `k${i}`.length + 100).reduce((a, b) => a + b)
    assert.equal(s.txmsg_bytes, keyValueBytes)
    const t = s.topics['t']!
    assert.equal(t.batchcnt.sum, 30)
    assert.equal(
      Object.values(t.partitions).reduce((n, p) => n + p.txmsgs, 0),
      30,
    )
    assert.deepEqual(Object.keys(t.partitions).sort(), ['-1', '0', '1', '2'])
    const broker = Object.values(s.brokers).find((b) => b.nodeid >= 0)!
    assert.equal(broker.state, 'UP')
    assert.ok((broker.req['Produce'] ?? 0) >= 1)
    assert.equal(s.age, 1_000_000)

    // On the grid: the next one at 2000 ms, with an empty batch window and the counters kept.
    await pump(999)
    assert.equal(got.length, 1)
    await pump(1)
    assert.equal(got.length, 2)
    const s2 = producer.statistics()!
    assert.equal(s2.topics['t']!.batchcnt.cnt, 0)
    assert.equal(s2.txmsgs, 30)

    await producer.close()
    clock.advance(10_000)
    assert.equal(got.length, 2, 'no emission after close()')
    assert.equal(producer.instrumentation.has('request.sent'), false)
  })

  it('gauges: records lingering in msgq_cnt, records waiting for metadata in partition -1', async () => {
    const { producer, pump } = fakeProducer({ 'statistics.interval.ms': 100, 'linger.ms': 10_000 })
    const ready = producer.connect({ topics: ['t'] })
    for (let i = 0; i < 5; i++) await pump(10)
    await ready
    for (let i = 0; i < 3; i++) producer.produce({ topic: 't', value: 'v'.repeat(10) })
    producer.produce({ topic: 'not-yet', value: 'w' })
    await pump(50)
    const s = producer.statistics()!
    assert.equal(s.msg_cnt, 4)
    assert.ok(s.msg_size > 0)
    const p0 = s.topics['t']!.partitions['0']!
    assert.deepEqual([p0.msgq_cnt, p0.xmit_msgq_cnt, p0.msgs_inflight, p0.txmsgs], [3, 0, 0, 0])
    assert.ok(p0.msgq_bytes > 30)
    const ua = s.topics['not-yet']!.partitions['-1']!
    assert.deepEqual([ua.msgq_cnt, ua.leader, ua.unknown], [1, -1, false])
    assert.equal(
      s.msg_size,
      Object.values(s.topics).reduce(
        (n, t) => n + Object.values(t.partitions).reduce((m, p) => m + p.msgq_bytes + p.xmit_msgq_bytes, 0),
        0,
      ),
      'msg_size is the bytes of the partitions queues',
    )
  })

  it('a stats_cb that throws is reported to error_cb as _APPLICATION; emissions go on', async () => {
    let calls = 0
    const { producer, pump, takeCallbackThrows } = fakeProducer({
      'statistics.interval.ms': 100,
      stats_cb: () => {
        calls++
        throw new Error('dashboard down')
      },
    })
    await pump(100)
    await pump(100)
    assert.equal(calls, 2)
    const errs = takeCallbackThrows()
    assert.equal(errs.length, 2)
    assert.equal(errs[0]!.code, '_APPLICATION')
    assert.match(errs[0]!.message, /stats_cb threw: dashboard down/)
    assert.ok(producer.statistics() !== null, 'the typed object is there all the same')
  })

  it('idempotent producer: eos with the producer id, Assigned, next_ack_seq', async () => {
    const { producer, pump } = fakeProducer({
      'statistics.interval.ms': 1000,
      'linger.ms': 0,
      'enable.idempotence': true,
    })
    const d = new Deliveries()
    for (let i = 0; i < 5; i++) producer.produce({ topic: 't', value: `v${i}` }, d.cb(`r${i}`))
    for (let i = 0; i < 10; i++) await pump(10)
    d.assertAllOnce()
    await pump(900)
    const s = producer.statistics()!
    assert.ok(s.eos, 'eos with enable.idempotence')
    assert.equal(s.eos.idemp_state, 'Assigned')
    assert.equal(s.eos.txn_state, 'Init')
    assert.equal(s.eos.producer_id, Number(producer.producerId))
    assert.equal(s.eos.producer_epoch, producer.producerEpoch)
    assert.equal(s.eos.epoch_cnt, 1)
    assert.equal(s.topics['t']!.partitions['0']!.next_ack_seq, 5)
  })

  it("has every field of librdkafka's statistics, or lists it as not applicable with the reason", async () => {
    const { producer, pump } = fakeProducer({ 'statistics.interval.ms': 1000, 'enable.idempotence': true })
    producer.produce({ topic: 't', key: 'k', value: 'v' })
    for (let i = 0; i < 10; i++) await pump(10)
    await pump(900)
    const ours = producer.statistics() as unknown as Json
    const ourBroker = Object.values(ours['brokers'] as Json).find((b) => (b as Json)['nodeid'] !== -1) as Json
    const fixtureTopic = first(FIXTURE['topics'])
    const ourTopic = first(ours['topics'])
    const sections: [keyof typeof NOT_APPLICABLE, Json, Json][] = [
      ['top', FIXTURE, ours],
      ['brokers', first(FIXTURE['brokers']), ourBroker],
      ['window', first(FIXTURE['brokers'])['rtt'] as Json, ourBroker['rtt'] as Json],
      ['topics', fixtureTopic, ourTopic],
      ['partitions', first(fixtureTopic['partitions']), first(ourTopic['partitions'])],
      ['eos', FIXTURE['eos'] as Json, ours['eos'] as Json],
    ]
    for (const [section, theirs, mine] of sections) {
      const missing = Object.keys(theirs).filter((k) => !(k in mine) && !(k in NOT_APPLICABLE[section]))
      assert.deepEqual(
        missing,
        [],
        `${section}: librdkafka fields neither emitted nor listed as not applicable`,
      )
      // And nothing of ours under a name librdkafka does not have.
      const extra = Object.keys(mine).filter((k) => !(k in theirs))
      assert.deepEqual(extra, [], `${section}: fields librdkafka does not have`)
      for (const k of Object.keys(NOT_APPLICABLE[section])) {
        assert.ok(!(k in mine), `${section}.${k} is listed as not applicable but emitted`)
        assert.ok(NOT_APPLICABLE[section][k]!.length > 10, `${section}.${k} needs a reason`)
      }
      // Same JSON types, field by field.
      for (const k of Object.keys(mine)) assert.equal(typeof mine[k], typeof theirs[k], `${section}.${k}`)
    }
    const typed: Statistics = producer.statistics()!
    assert.equal(typed.type, FIXTURE['type'])
  })
})
