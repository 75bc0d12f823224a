// The statistics object, typed, with librdkafka's field names, units and meanings (STATISTICS.md),
// so that a parser or dashboard written for librdkafka's stats_cb JSON reads ours unchanged.
// docs/statistics.md describes every field; the fields librdkafka has and we do not are listed in
// NOT_APPLICABLE below with the reason.
import type { WindowStats } from './window.js'

export type { WindowStats } from './window.js'

/** librdkafka's broker states that apply here (INIT, DOWN, CONNECT, UP). */
export type BrokerState = 'INIT' | 'DOWN' | 'CONNECT' | 'UP'

/** `brokers.<name>.toppars.<topic-partition>`: a partition this broker leads. */
export interface TopparStatistics {
  readonly topic: string
  readonly partition: number
}

/** `brokers.<name>`: one broker connection (bootstrap addresses too, as `host:port/bootstrap`). */
export interface BrokerStatistics {
  /** `host:port/nodeid` (`host:port/bootstrap` for a bootstrap address). */
  readonly name: string
  /** Broker id; -1 for a bootstrap address. */
  readonly nodeid: number
  /** `host:port`. */
  readonly nodename: string
  /** `configured` (bootstrap.servers) or `learned` (from Metadata). */
  readonly source: 'configured' | 'learned'
  readonly state: BrokerState
  /** µs since the last connection event (opened, closed, failed), or since the broker was first seen. */
  readonly stateage: number
  /** Requests waiting to be written: always 0 here, requests are written to the socket when made. */
  readonly outbuf_cnt: number
  /** Records in requests waiting to be written: always 0 (see outbuf_cnt). */
  readonly outbuf_msg_cnt: number
  /** Requests written and waiting for their answer. */
  readonly waitresp_cnt: number
  /** Records in Produce requests waiting for their answer (partitions this broker leads). */
  readonly waitresp_msg_cnt: number
  /** Requests sent. */
  readonly tx: number
  /** Bytes sent (request frames, size prefix included). */
  readonly txbytes: number
  /** Requests that got no answer because their connection was lost. */
  readonly txerrs: number
  /** Batches sent again (a Produce request carries at most one batch per partition). */
  readonly txretries: number
  /** µs since the last request was written on the current connection, -1 if none yet. */
  readonly txidle: number
  /** Requests that timed out (request.timeout.ms). */
  readonly req_timeouts: number
  /** Answers received. */
  readonly rx: number
  /** Bytes received (response frames, size prefix included). */
  readonly rxbytes: number
  /** µs since the last answer arrived on the current connection, -1 if none yet. */
  readonly rxidle: number
  /** Requests sent per API name (Produce, Metadata, ApiVersions, ...). */
  readonly req: Readonly<Record<string, number>>
  /** Connection attempts that ended (opened or failed). */
  readonly connects: number
  /** Opened connections that closed. */
  readonly disconnects: number
  /** Round-trip time of requests, µs: from request.sent to request.answered, on a monotonic clock. */
  readonly rtt: WindowStats
  /** Throttle time the broker asked for (KIP-219), ms. */
  readonly throttle: WindowStats
  readonly toppars: Readonly<Record<string, TopparStatistics>>
}

/** `topics.<topic>.partitions.<partition>`. */
export interface PartitionStatistics {
  readonly partition: number
  /** The broker records are sent to (the leader), -1 when none. */
  readonly broker: number
  /** The leader's id, -1 when the partition has no leader. */
  readonly leader: number
  /** The partition is not (or no longer) in the topic's metadata. */
  readonly unknown: boolean
  /** Records in the batch still filling (linger.ms, batch.size), not yet ready to send. */
  readonly msgq_cnt: number
  /** Bytes of msgq_cnt (as counted against buffer.memory). */
  readonly msgq_bytes: number
  /** Records in closed batches waiting for their turn to be sent (or for a retry). */
  readonly xmit_msgq_cnt: number
  /** Bytes of xmit_msgq_cnt. */
  readonly xmit_msgq_bytes: number
  /** Records transmitted (counted once per batch, when its bytes are built for its first send). */
  readonly txmsgs: number
  /** Key and value bytes of txmsgs (librdkafka counts the same: msetw_messages_kvlen). */
  readonly txbytes: number
  /** Records in Produce requests waiting for their answer. */
  readonly msgs_inflight: number
  /** The next sequence the broker is to acknowledge (idempotent producer), else 0. */
  readonly next_ack_seq: number
  /** The leader epoch from the last metadata, -1 when unknown. */
  readonly leader_epoch: number
}

/** `topics.<topic>`. */
export interface TopicStatistics {
  readonly topic: string
  /** Batch sizes as sent (RecordBatch bytes, compressed, header included), bytes. */
  readonly batchsize: WindowStats
  /** Records per batch. */
  readonly batchcnt: WindowStats
  readonly partitions: Readonly<Record<string, PartitionStatistics>>
}

/** librdkafka's idempotent producer states that apply here. */
export type IdempotenceStateName =
  'Init' | 'RequestPID' | 'Assigned' | 'DrainBump' | 'FatalError' | 'Terminate'

/** librdkafka's transactional producer states that apply here (ours in parentheses, docs/transactions.md). */
export type TransactionStateName =
  | 'Init'
  | 'WaitPID'
  | 'Ready'
  | 'InTransaction'
  | 'CommittingTransaction'
  | 'AbortingTransaction'
  | 'AbortableError'
  | 'FatalError'

/** `eos`: present when enable.idempotence is on (as in librdkafka). */
export interface EosStatistics {
  readonly idemp_state: IdempotenceStateName
  /** ms since idemp_state was first seen as it is (to within statistics.interval.ms). */
  readonly idemp_stateage: number
  readonly txn_state: TransactionStateName
  /** ms since txn_state was first seen as it is (to within statistics.interval.ms). */
  readonly txn_stateage: number
  /** Whether produce() may be called now as far as the transaction is concerned. */
  readonly txn_may_enq: boolean
  /** -1 until one is assigned. */
  readonly producer_id: number
  /** -1 until one is assigned. */
  readonly producer_epoch: number
  /** Producer id or epoch assignments seen since start. */
  readonly epoch_cnt: number
}

/** The whole object, as stats_cb receives it (JSON) and `producer.statistics()` returns it. */
export interface Statistics {
  /** `<client.id>#producer-<n>`, n counting producers in this process from 1. */
  readonly name: string
  readonly client_id: string
  readonly type: 'producer'
  /** A monotonic clock, µs. */
  readonly ts: number
  /** Wall clock, seconds since the epoch. */
  readonly time: number
  /** µs since the producer was created. */
  readonly age: number
  /** Callbacks waiting for the application to poll: always 0, there is no poll() (they run on Node's loop). */
  readonly replyq: number
  /** Records accepted and not yet reported (Producer.pending). */
  readonly msg_cnt: number
  /** Bytes of msg_cnt, as counted against buffer.memory. */
  readonly msg_size: number
  /** queue.buffering.max.messages (0: no limit). */
  readonly msg_max: number
  /** buffer.memory. */
  readonly msg_size_max: number
  /** Sum of the brokers' tx. */
  readonly tx: number
  /** Sum of the brokers' txbytes. */
  readonly tx_bytes: number
  /** Sum of the brokers' rx. */
  readonly rx: number
  /** Sum of the brokers' rxbytes. */
  readonly rx_bytes: number
  /** Sum of the partitions' txmsgs. */
  readonly txmsgs: number
  /** Sum of the partitions' txbytes. */
  readonly txmsg_bytes: number
  /** Topics in the metadata cache. */
  readonly metadata_cache_cnt: number
  readonly brokers: Readonly<Record<string, BrokerStatistics>>
  readonly topics: Readonly<Record<string, TopicStatistics>>
  readonly eos?: EosStatistics
}

/** Where librdkafka has a field and we have none. */
export type StatisticsSection = 'top' | 'brokers' | 'topics' | 'partitions' | 'eos' | 'window'

/**
 * librdkafka's fields that this client does not emit, per section, with the reason. Nothing is
 * filled with a made-up value: a field is either measured or listed here.
 */
export const NOT_APPLICABLE: Readonly<Record<StatisticsSection, Readonly<Record<string, string>>>> = {
  top: {
    rxmsgs: 'consumer only: this client does not consume',
    rxmsg_bytes: 'consumer only',
    simple_cnt: "consumer only (librdkafka's legacy consumer API)",
    cgrp: 'consumer only (consumer group)',
  },
  brokers: {
    rxerrs:
      'librdkafka counts socket read errors here; a lost connection is counted in txerrs and disconnects',
    rxcorriderrs: 'an answer with an unknown correlation id closes the connection (counted in disconnects)',
    rxpartial: 'consumer only (partial Fetch answers)',
    zbuf_grow: 'consumer only (decompression buffer)',
    buf_grow: 'deprecated and unused in librdkafka',
    wakeups: "librdkafka's broker thread loop: there is no such thread, Node's event loop runs everything",
    int_latency:
      'per-record queue latency: measuring it costs work per record, which statistics must not (use the ' +
      'record.delivered event for per-record latency)',
    outbuf_latency:
      'requests are written to the socket when made: there is no output queue whose latency could be measured',
  },
  topics: {
    age: 'the producer keeps no per-topic object whose age this would be',
    metadata_age: 'metadata is refreshed for all topics at once; no per-topic age is kept',
  },
  partitions: {
    desired: 'consumer only (explicitly assigned partitions)',
    fetchq_cnt: 'consumer only',
    fetchq_size: 'consumer only',
    fetch_state: 'consumer only',
    query_offset: 'consumer only',
    next_offset: 'consumer only',
    app_offset: 'consumer only',
    stored_offset: 'consumer only',
    stored_leader_epoch: 'consumer only',
    commited_offset: "consumer only (librdkafka's misspelt duplicate of committed_offset)",
    committed_offset: 'consumer only',
    committed_leader_epoch: 'consumer only',
    eof_offset: 'consumer only',
    lo_offset: 'consumer only',
    hi_offset: 'consumer only',
    ls_offset: 'consumer only',
    consumer_lag: 'consumer only',
    consumer_lag_stored: 'consumer only',
    rxmsgs: 'consumer only',
    rxbytes: 'consumer only',
    rx_ver_drops: 'consumer only',
    msgs: 'records produced to the partition, counted at produce(): that is work per record (txmsgs + msgq_cnt + xmit_msgq_cnt + msgs_inflight is the same figure while nothing failed)',
    next_err_seq: "librdkafka's internal bookkeeping of failed sequences; no such state here",
    acked_msgid: "librdkafka's internal message ids; records have no such id here",
  },
  eos: {},
  window: {},
}
