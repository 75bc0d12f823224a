// Builds librdkafka's statistics object (STATISTICS.md) from two sources: counters and windows fed
// by the instrumentation events (requests, connections, batches: never a per-record event, so
// statistics cost a few additions per request and per batch), and gauges read from the producer at
// each emission (a StatisticsSnapshot). Window stats are reset at each emission, as librdkafka's
// rd_avg_rollover does; counters only grow.
import type { Instrumentation, ProducerEventListener, ProducerEventName } from '../events.js'
import type { Clock } from '../../util/clock.js'
import type { BrokerSnapshot, PartitionSnapshot, StatisticsProbe } from './snapshot.js'
import type {
  BrokerStatistics,
  EosStatistics,
  PartitionStatistics,
  Statistics,
  TopicStatistics,
  TopparStatistics,
} from './types.js'
import { Window } from './window.js'

/** Produce's API key: with acks=0 its requests get no answer. */
const PRODUCE_API_KEY = 0
/** Requests timed at once per broker at most (max.in.flight keeps the real number far below). */
const MAX_TIMED_REQUESTS = 10_000
/** Largest round trip the rtt percentiles cover: 60 s, in µs (longer ones are `outofrange`). */
const RTT_HIGHEST_US = 60_000_000
/** Largest throttle time the percentiles cover: 1 h, in ms. */
const THROTTLE_HIGHEST_MS = 3_600_000
/** Largest batch the batchsize percentiles cover: 1 GiB (message.max.bytes' ceiling). */
const BATCH_HIGHEST_BYTES = 1 << 30
/** Largest record count the batchcnt percentiles cover (batch.num.messages' ceiling). */
const BATCH_HIGHEST_RECORDS = 1_000_000

export interface StatisticsCollectorOptions {
  /** `name`: librdkafka's handle name, e.g. `rdkafka#producer-1`. */
  readonly name: string
  readonly clientId: string
  readonly clock: Clock
  /** A monotonic clock in µs for `ts` and the round trips (default: performance.now()). */
  readonly monotonicUs?: () => number
  /**
   * Produce requests get no answer (acks=0): their send times are not kept, since no answer or
   * failure would ever remove them.
   */
  readonly unansweredProduce?: boolean
}

class BrokerCounters {
  host = ''
  port = 0
  tx = 0
  txbytes = 0
  txerrs = 0
  txretries = 0
  reqTimeouts = 0
  rx = 0
  rxbytes = 0
  connects = 0
  disconnects = 0
  lastTx = -1
  lastRx = -1
  /** Requests written and not answered yet: correlation id → when written (µs, monotonic). */
  readonly sentAt = new Map<number, number>()
  readonly req = new Map<string, number>()
  readonly rtt = new Window(RTT_HIGHEST_US)
  readonly throttle = new Window(THROTTLE_HIGHEST_MS)
  constructor(public stateChangedAt: number) {}
}

class TopicCounters {
  readonly batchsize = new Window(BATCH_HIGHEST_BYTES)
  readonly batchcnt = new Window(BATCH_HIGHEST_RECORDS)
  /** Per partition: [txmsgs, txbytes]. */
  readonly partitions = new Map<number, { txmsgs: number; txbytes: number }>()
}

/** A state name and since when (ms) it has been seen. */
interface SeenState<T> {
  value: T
  since: number
}

/**
 * Subscribe it to a producer's Instrumentation with {@link attach}; call {@link collect} at each
 * emission with the producer's probe. Not thread-safe, nor needs to be: everything runs on Node's loop.
 */
export class StatisticsCollector {
  private readonly clock: Clock
  private readonly monotonicUs: () => number
  private readonly createdAt: number
  private readonly brokers = new Map<number, BrokerCounters>()
  private readonly topics = new Map<string, TopicCounters>()
  private readonly unsubscribe: (() => void)[] = []
  private idemp: SeenState<string> | null = null
  private txn: SeenState<string> | null = null
  private lastProducerId = ''
  private epochCount = 0

  constructor(private readonly opts: StatisticsCollectorOptions) {
    this.clock = opts.clock
    this.monotonicUs = opts.monotonicUs ?? (() => Math.round(performance.now() * 1000))
    this.createdAt = opts.clock.now()
  }

  /** Listens to the events statistics are made of (requests, connections, batches). */
  attach(events: Instrumentation): void {
    this.listen(events, 'request.sent', (e) => {
      const b = this.broker(e.nodeId)
      b.tx++
      b.txbytes += e.bytes
      b.req.set(e.apiName, (b.req.get(e.apiName) ?? 0) + 1)
      b.lastTx = this.clock.now()
      if (e.apiKey !== PRODUCE_API_KEY || !this.opts.unansweredProduce) {
        // A bound on what a broken promise of the events could leak (see connection events below).
        if (b.sentAt.size >= MAX_TIMED_REQUESTS) b.sentAt.clear()
        b.sentAt.set(e.correlationId, this.monotonicUs())
      }
    })
    this.listen(events, 'request.answered', (e) => {
      const b = this.broker(e.nodeId)
      b.rx++
      b.rxbytes += e.bytes
      b.lastRx = this.clock.now()
      // Timed here with the monotonic µs clock: the event's rttMs has the connection clock's
      // millisecond resolution, too coarse for a local broker (librdkafka's rtt is in µs).
      const sent = b.sentAt.get(e.correlationId)
      if (sent !== undefined) b.sentAt.delete(e.correlationId)
      b.rtt.add(sent !== undefined ? this.monotonicUs() - sent : e.rttMs * 1000)
      if (e.throttleTimeMs !== undefined) b.throttle.add(e.throttleTimeMs)
    })
    this.listen(events, 'request.failed', (e) => {
      const b = this.broker(e.nodeId)
      b.sentAt.delete(e.correlationId)
      if (e.error.code === '_TIMED_OUT') b.reqTimeouts++
      else b.txerrs++
    })
    this.listen(events, 'connection.opened', (e) => {
      const b = this.broker(e.nodeId)
      b.host = e.host
      b.port = e.port
      b.connects++
      b.lastTx = -1
      b.lastRx = -1
      // Correlation ids start again on a new connection.
      b.sentAt.clear()
      b.stateChangedAt = this.clock.now()
    })
    this.listen(events, 'connection.failed', (e) => {
      const b = this.broker(e.nodeId)
      b.host = e.host
      b.port = e.port
      b.connects++
      b.stateChangedAt = this.clock.now()
    })
    this.listen(events, 'connection.closed', (e) => {
      const b = this.broker(e.nodeId)
      b.disconnects++
      b.sentAt.clear()
      b.stateChangedAt = this.clock.now()
    })
    this.listen(events, 'batch.built', (e) => {
      const t = this.topic(e.topic)
      t.batchsize.add(e.wireBytes)
      t.batchcnt.add(e.records)
      const p = this.partition(t, e.partition)
      p.txmsgs += e.records
      // librdkafka's txbytes are the records' key and value bytes (msetw_messages_kvlen).
      p.txbytes += e.keyValueBytes ?? e.bytes
    })
    this.listen(events, 'batch.sent', (e) => {
      if (e.attempt > 1) this.broker(e.nodeId).txretries++
    })
  }

  /** Stops listening. */
  detach(): void {
    for (const off of this.unsubscribe.splice(0)) off()
  }

  /** The statistics now; window stats start again empty. */
  collect(probe: StatisticsProbe): Statistics {
    const now = this.clock.now()
    const snap = probe([...this.brokers.keys()])
    const brokers: Record<string, BrokerStatistics> = {}
    let tx = 0
    let txBytes = 0
    let rx = 0
    let rxBytes = 0
    const seen = new Set<number>()
    const all: BrokerSnapshot[] = [...snap.brokers]
    for (const b of snap.brokers) seen.add(b.nodeId)
    for (const id of this.brokers.keys()) {
      if (!seen.has(id)) all.push({ nodeId: id, state: 'DOWN', inFlight: 0 })
    }
    for (const b of all) {
      const s = this.broker(b.nodeId, now)
      const host = b.host ?? s.host
      const port = b.port ?? s.port
      const nodename = `${host}:${port}`
      const name = b.nodeId < 0 ? `${nodename}/bootstrap` : `${nodename}/${b.nodeId}`
      const led = snap.partitions.filter((p) => p.leader === b.nodeId && b.nodeId >= 0)
      const toppars: Record<string, TopparStatistics> = {}
      for (const p of led) toppars[`${p.topic}-${p.partition}`] = { topic: p.topic, partition: p.partition }
      tx += s.tx
      txBytes += s.txbytes
      rx += s.rx
      rxBytes += s.rxbytes
      brokers[name] = {
        name,
        nodeid: b.nodeId < 0 ? -1 : b.nodeId,
        nodename,
        source: b.nodeId < 0 ? 'configured' : 'learned',
        state: b.state === 'DOWN' && s.connects === 0 ? 'INIT' : b.state,
        stateage: (now - s.stateChangedAt) * 1000,
        outbuf_cnt: 0,
        outbuf_msg_cnt: 0,
        waitresp_cnt: b.inFlight,
        waitresp_msg_cnt: led.reduce((n, p) => n + p.inFlightCount, 0),
        tx: s.tx,
        txbytes: s.txbytes,
        txerrs: s.txerrs,
        txretries: s.txretries,
        txidle: s.lastTx >= 0 ? (now - s.lastTx) * 1000 : -1,
        req_timeouts: s.reqTimeouts,
        rx: s.rx,
        rxbytes: s.rxbytes,
        rxidle: s.lastRx >= 0 ? (now - s.lastRx) * 1000 : -1,
        req: Object.fromEntries(s.req),
        connects: s.connects,
        disconnects: s.disconnects,
        rtt: s.rtt.rollover(),
        throttle: s.throttle.rollover(),
        toppars,
      }
    }
    const { topics, txmsgs, txmsgBytes } = this.topicStatistics(snap.partitions)
    const stats: Statistics = {
      name: this.opts.name,
      client_id: this.opts.clientId,
      type: 'producer',
      ts: this.monotonicUs(),
      time: Math.floor(now / 1000),
      age: (now - this.createdAt) * 1000,
      replyq: 0,
      msg_cnt: snap.msgCnt,
      msg_size: snap.msgSize,
      msg_max: snap.msgMax,
      msg_size_max: snap.msgSizeMax,
      tx,
      tx_bytes: txBytes,
      rx,
      rx_bytes: rxBytes,
      txmsgs,
      txmsg_bytes: txmsgBytes,
      metadata_cache_cnt: snap.metadataTopics,
      brokers,
      topics,
    }
    if (snap.eos === null) return stats
    return { ...stats, eos: this.eos(snap.eos, now) }
  }

  private topicStatistics(snapshot: readonly PartitionSnapshot[]): {
    topics: Record<string, TopicStatistics>
    txmsgs: number
    txmsgBytes: number
  } {
    const byTopic = new Map<string, Map<number, PartitionSnapshot>>()
    for (const p of snapshot) {
      let m = byTopic.get(p.topic)
      if (!m) byTopic.set(p.topic, (m = new Map()))
      m.set(p.partition, p)
      this.partition(this.topic(p.topic), p.partition)
    }
    const topics: Record<string, TopicStatistics> = {}
    let txmsgs = 0
    let txmsgBytes = 0
    for (const [name, t] of this.topics) {
      const partitions: Record<string, PartitionStatistics> = {}
      const snaps = byTopic.get(name)
      for (const [id, c] of [...t.partitions].sort((a, b) => a[0] - b[0])) {
        const p = snaps?.get(id)
        txmsgs += c.txmsgs
        txmsgBytes += c.txbytes
        partitions[String(id)] = {
          partition: id,
          broker: p?.leader ?? -1,
          leader: p?.leader ?? -1,
          unknown: !(p?.known ?? false),
          msgq_cnt: p?.openCount ?? 0,
          msgq_bytes: p?.openBytes ?? 0,
          xmit_msgq_cnt: p?.readyCount ?? 0,
          xmit_msgq_bytes: p?.readyBytes ?? 0,
          txmsgs: c.txmsgs,
          txbytes: c.txbytes,
          msgs_inflight: p?.inFlightCount ?? 0,
          next_ack_seq: p?.nextAckSequence ?? 0,
          leader_epoch: p?.leaderEpoch ?? -1,
        }
      }
      topics[name] = {
        topic: name,
        batchsize: t.batchsize.rollover(),
        batchcnt: t.batchcnt.rollover(),
        partitions,
      }
    }
    return { topics, txmsgs, txmsgBytes }
  }

  private eos(e: NonNullable<ReturnType<StatisticsProbe>['eos']>, now: number): EosStatistics {
    if (this.idemp?.value !== e.idempState) this.idemp = { value: e.idempState, since: now }
    if (this.txn?.value !== e.txnState) this.txn = { value: e.txnState, since: now }
    const id = `${e.producerId}/${e.producerEpoch}`
    if (e.producerId >= 0 && id !== this.lastProducerId) this.epochCount++
    this.lastProducerId = id
    return {
      idemp_state: e.idempState,
      idemp_stateage: now - this.idemp.since,
      txn_state: e.txnState,
      txn_stateage: now - this.txn.since,
      txn_may_enq: e.txnMayEnqueue,
      producer_id: e.producerId,
      producer_epoch: e.producerEpoch,
      epoch_cnt: this.epochCount,
    }
  }

  private listen<K extends ProducerEventName>(
    events: Instrumentation,
    name: K,
    listener: ProducerEventListener<K>,
  ): void {
    events.on(name, listener)
    this.unsubscribe.push(() => events.off(name, listener))
  }

  private broker(nodeId: number, now = this.clock.now()): BrokerCounters {
    let b = this.brokers.get(nodeId)
    if (!b) this.brokers.set(nodeId, (b = new BrokerCounters(now)))
    return b
  }

  private topic(name: string): TopicCounters {
    let t = this.topics.get(name)
    if (!t) this.topics.set(name, (t = new TopicCounters()))
    return t
  }

  private partition(t: TopicCounters, id: number): { txmsgs: number; txbytes: number } {
    let p = t.partitions.get(id)
    if (!p) t.partitions.set(id, (p = { txmsgs: 0, txbytes: 0 }))
    return p
  }
}
