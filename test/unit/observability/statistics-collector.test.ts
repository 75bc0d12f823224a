// The statistics collector: librdkafka's counters and windows from the instrumentation events, the
// gauges from the producer's snapshot, under librdkafka's names and units (µs for rtt and ages).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { Instrumentation } from '../../../src/observability/events.js'
import {
  StatisticsCollector,
  type StatisticsSnapshot,
  type PartitionSnapshot,
} from '../../../src/observability/statistics/index.js'
import { ManualClock } from '../../../src/util/clock.js'

const T0 = 1_700_000_000_000

function partition(topic: string, p: number, over: Partial<PartitionSnapshot> = {}): PartitionSnapshot {
  return {
    topic,
    partition: p,
    leader: 1,
    leaderEpoch: 3,
    known: true,
    openCount: 0,
    openBytes: 0,
    readyCount: 0,
    readyBytes: 0,
    inFlightCount: 0,
    nextAckSequence: 0,
    ...over,
  }
}

function snapshot(over: Partial<StatisticsSnapshot> = {}): StatisticsSnapshot {
  return {
    msgCnt: 12,
    msgSize: 3400,
    msgMax: 100_000,
    msgSizeMax: 33_554_432,
    metadataTopics: 1,
    brokers: [{ nodeId: 1, host: 'kafka-1', port: 9092, state: 'UP', inFlight: 2 }],
    partitions: [partition('t', 0, { openCount: 5, openBytes: 500, inFlightCount: 7 }), partition('t', 1)],
    eos: null,
    ...over,
  }
}

function setup(unansweredProduce = false): {
  clock: ManualClock
  events: Instrumentation
  collector: StatisticsCollector
} {
  const clock = new ManualClock(T0)
  const events = new Instrumentation()
  const collector = new StatisticsCollector({
    name: 'app#producer-1',
    clientId: 'app',
    clock,
    // The monotonic clock moves with the manual one: µs since T0.
    monotonicUs: () => (clock.now() - T0) * 1000,
    unansweredProduce,
  })
  collector.attach(events)
  return { clock, events, collector }
}

describe('StatisticsCollector', () => {
  it('counts requests, bytes, rtt (µs) and throttle per broker, and sums them at the top', () => {
    const { clock, events, collector } = setup()
    events.emit('connection.opened', { nodeId: 1, host: 'kafka-1', port: 9092, setupMs: 3 })
    for (let i = 0; i < 4; i++) {
      events.emit('request.sent', {
        nodeId: 1,
        apiKey: 0,
        apiName: 'Produce',
        apiVersion: 9,
        bytes: 1000,
        correlationId: i,
      })
      // Timed by the collector's monotonic clock, not by the event's (ms) rttMs.
      clock.advance(i + 1)
      events.emit('request.answered', {
        nodeId: 1,
        apiKey: 0,
        apiName: 'Produce',
        correlationId: i,
        bytes: 60,
        rttMs: 999,
        throttleTimeMs: 0,
      })
    }
    clock.advance(990)
    events.emit('request.sent', {
      nodeId: 1,
      apiKey: 3,
      apiName: 'Metadata',
      apiVersion: 12,
      bytes: 40,
      correlationId: 9,
    })
    events.emit('request.failed', {
      nodeId: 1,
      apiKey: 3,
      apiName: 'Metadata',
      correlationId: 9,
      error: new KafkaError('_TIMED_OUT', 'late'),
    })
    clock.advance(250)
    const s = collector.collect(() => snapshot())
    const b = s.brokers['kafka-1:9092/1']!
    assert.equal(b.name, 'kafka-1:9092/1')
    assert.equal(b.nodeid, 1)
    assert.equal(b.nodename, 'kafka-1:9092')
    assert.equal(b.source, 'learned')
    assert.equal(b.state, 'UP')
    assert.equal(b.stateage, 1_250_000, 'µs since the connection opened')
    assert.deepEqual([b.tx, b.txbytes, b.rx, b.rxbytes], [5, 4040, 4, 240])
    assert.deepEqual(b.req, { Produce: 4, Metadata: 1 })
    assert.equal(b.req_timeouts, 1)
    assert.equal(b.txerrs, 0)
    assert.equal(b.connects, 1)
    assert.equal(b.txidle, 250_000)
    assert.equal(b.rxidle, 1_240_000)
    assert.equal(b.waitresp_cnt, 2)
    assert.equal(b.waitresp_msg_cnt, 7)
    assert.equal(b.outbuf_cnt, 0)
    assert.deepEqual([b.rtt.cnt, b.rtt.min, b.rtt.max, b.rtt.sum, b.rtt.avg], [4, 1000, 4000, 10_000, 2500])
    assert.ok(b.rtt.p99 >= 3996 && b.rtt.p99 <= 4004, `rtt p99 ${b.rtt.p99}`)
    assert.deepEqual([b.throttle.cnt, b.throttle.max, b.throttle.p99], [4, 0, 0])
    assert.deepEqual(b.toppars, { 't-0': { topic: 't', partition: 0 }, 't-1': { topic: 't', partition: 1 } })
    assert.deepEqual([s.tx, s.tx_bytes, s.rx, s.rx_bytes], [5, 4040, 4, 240])
    assert.deepEqual([s.ts, s.time, s.age], [1_250_000, Math.floor((T0 + 1250) / 1000), 1_250_000])
    assert.deepEqual([s.msg_cnt, s.msg_size, s.msg_max, s.msg_size_max], [12, 3400, 100_000, 33_554_432])
    assert.equal(s.name, 'app#producer-1')
    assert.equal(s.type, 'producer')
    assert.equal(s.eos, undefined, 'no eos without idempotence, as in librdkafka')

    // Windows restart at each emission; counters go on.
    const next = collector.collect(() => snapshot())
    const b2 = next.brokers['kafka-1:9092/1']!
    assert.equal(b2.rtt.cnt, 0)
    assert.equal(b2.tx, 5)
  })

  it('batches: topic batchsize/batchcnt windows, partition txmsgs and key+value txbytes', () => {
    const { events, collector } = setup()
    const built = (p: number, records: number, wireBytes: number, keyValueBytes: number): void =>
      events.emit('batch.built', {
        topic: 't',
        partition: p,
        records,
        bytes: wireBytes - 61,
        wireBytes,
        keyValueBytes,
        codec: 'none',
      })
    built(0, 10, 1200, 1070)
    built(1, 30, 3400, 3210)
    built(0, 20, 2300, 2140)
    events.emit('batch.sent', {
      nodeId: 1,
      topic: 't',
      partition: 0,
      records: 20,
      wireBytes: 2300,
      attempt: 1,
    })
    events.emit('batch.sent', {
      nodeId: 1,
      topic: 't',
      partition: 0,
      records: 20,
      wireBytes: 2300,
      attempt: 2,
    })
    const s = collector.collect(() => snapshot())
    const t = s.topics['t']!
    assert.deepEqual([t.batchcnt.cnt, t.batchcnt.sum, t.batchcnt.min, t.batchcnt.max], [3, 60, 10, 30])
    assert.deepEqual([t.batchsize.sum, t.batchsize.avg], [6900, 2300])
    assert.deepEqual(
      Object.values(t.partitions).map((p) => [p.partition, p.txmsgs, p.txbytes]),
      [
        [0, 30, 3210],
        [1, 30, 3210],
      ],
    )
    assert.equal(s.txmsgs, 60)
    assert.equal(s.txmsg_bytes, 6420)
    assert.equal(s.brokers['kafka-1:9092/1']!.txretries, 1, 'the second send of a batch is a retry')
    const p0 = t.partitions['0']!
    assert.deepEqual(
      [p0.msgq_cnt, p0.msgq_bytes, p0.msgs_inflight, p0.leader, p0.broker, p0.leader_epoch, p0.unknown],
      [5, 500, 7, 1, 1, 3, false],
    )
    assert.equal(collector.collect(() => snapshot()).topics['t']!.batchcnt.cnt, 0, 'window reset')
  })

  it('a bootstrap address is `host:port/bootstrap`, configured, nodeid -1; never connected is INIT', () => {
    const { events, collector } = setup()
    events.emit('connection.opened', { nodeId: -1, host: 'seed', port: 9092, setupMs: 1 })
    events.emit('connection.closed', { nodeId: -1, host: 'seed', port: 9092, error: null })
    const s = collector.collect((ids) => {
      assert.deepEqual(ids, [-1])
      return snapshot({
        brokers: [
          { nodeId: -1, state: 'DOWN', inFlight: 0 },
          { nodeId: 2, host: 'kafka-2', port: 9092, state: 'DOWN', inFlight: 0 },
        ],
      })
    })
    const seed = s.brokers['seed:9092/bootstrap']!
    assert.deepEqual(
      [seed.nodeid, seed.source, seed.state, seed.connects, seed.disconnects],
      [-1, 'configured', 'DOWN', 1, 1],
    )
    assert.equal(s.brokers['kafka-2:9092/2']!.state, 'INIT')
  })

  it('eos: producer id, epoch, epoch_cnt of assignments, state ages in ms', () => {
    const { clock, collector } = setup()
    const eos = (producerId: number, producerEpoch: number, idempState: 'RequestPID' | 'Assigned') =>
      snapshot({ eos: { idempState, txnState: 'Init', txnMayEnqueue: false, producerId, producerEpoch } })
    let s = collector.collect(() => eos(-1, -1, 'RequestPID'))
    assert.deepEqual(s.eos, {
      idemp_state: 'RequestPID',
      idemp_stateage: 0,
      txn_state: 'Init',
      txn_stateage: 0,
      txn_may_enq: false,
      producer_id: -1,
      producer_epoch: -1,
      epoch_cnt: 0,
    })
    clock.advance(1000)
    s = collector.collect(() => eos(7, 0, 'Assigned'))
    assert.deepEqual(
      [s.eos!.idemp_state, s.eos!.idemp_stateage, s.eos!.txn_stateage, s.eos!.epoch_cnt],
      ['Assigned', 0, 1000, 1],
    )
    clock.advance(1000)
    s = collector.collect(() => eos(7, 1, 'Assigned'))
    assert.deepEqual([s.eos!.idemp_stateage, s.eos!.producer_epoch, s.eos!.epoch_cnt], [1000, 1, 2])
  })

  it('acks=0: Produce requests are not timed (no answer would remove them); others are', () => {
    const { clock, events, collector } = setup(true)
    const sent = (apiKey: number, correlationId: number): void =>
      events.emit('request.sent', {
        nodeId: 1,
        apiKey,
        apiName: 'x',
        apiVersion: 0,
        bytes: 10,
        correlationId,
      })
    sent(0, 1)
    sent(3, 2)
    clock.advance(7)
    events.emit('request.answered', {
      nodeId: 1,
      apiKey: 3,
      apiName: 'x',
      correlationId: 2,
      bytes: 5,
      rttMs: 6,
    })
    // An answer whose send was not timed falls back on the event's rttMs.
    events.emit('request.answered', {
      nodeId: 1,
      apiKey: 0,
      apiName: 'x',
      correlationId: 1,
      bytes: 5,
      rttMs: 4,
    })
    const rtt = collector.collect(() => snapshot()).brokers['kafka-1:9092/1']!.rtt
    assert.deepEqual([rtt.cnt, rtt.max, rtt.min], [2, 7000, 4000])
  })

  it('detach stops the counting', () => {
    const { events, collector } = setup()
    collector.detach()
    assert.equal(events.has('request.sent'), false)
    assert.equal(events.has('batch.built'), false)
  })
})
