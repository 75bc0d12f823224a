// The producer's metric names, groups and meanings, after Java's SenderMetricsRegistry (group
// producer-metrics and producer-topic-metrics), Selector's network metrics (producer-metrics and,
// per broker, producer-node-metrics), BufferPool's buffer metrics and KafkaProducerMetrics (flush,
// metadata wait and transaction timings). The descriptions are ours; docs/metrics.md lists where each
// value comes from in this client and how it differs from Java's.
import type { MetricTemplate } from './registry.js'

export const PRODUCER_GROUP = 'producer-metrics'
export const TOPIC_GROUP = 'producer-topic-metrics'
export const NODE_GROUP = 'producer-node-metrics'

function m(group: string, name: string, description: string): MetricTemplate {
  return Object.freeze({ name, group, description })
}

const g = (name: string, description: string): MetricTemplate => m(PRODUCER_GROUP, name, description)
const t = (name: string, description: string): MetricTemplate => m(TOPIC_GROUP, name, description)
const n = (name: string, description: string): MetricTemplate => m(NODE_GROUP, name, description)

/** producer-metrics: the whole producer (tag client-id). */
export const P = {
  batchSizeAvg: g(
    'batch-size-avg',
    'The average number of bytes sent per partition per request (the built batch).',
  ),
  batchSizeMax: g(
    'batch-size-max',
    'The maximum number of bytes sent per partition per request (the built batch).',
  ),
  compressionRateAvg: g(
    'compression-rate-avg',
    'The average compression rate of record batches: compressed size divided by uncompressed size.',
  ),
  recordQueueTimeAvg: g(
    'record-queue-time-avg',
    'The average time in ms record batches spent in the send buffer.',
  ),
  recordQueueTimeMax: g(
    'record-queue-time-max',
    'The maximum time in ms record batches spent in the send buffer.',
  ),
  requestLatencyAvg: g('request-latency-avg', 'The average Produce request latency in ms.'),
  requestLatencyMax: g('request-latency-max', 'The maximum Produce request latency in ms.'),
  produceThrottleTimeAvg: g(
    'produce-throttle-time-avg',
    'The average time in ms a Produce request was throttled by a broker.',
  ),
  produceThrottleTimeMax: g(
    'produce-throttle-time-max',
    'The maximum time in ms a Produce request was throttled by a broker.',
  ),
  recordSendRate: g('record-send-rate', 'The average number of records sent per second.'),
  recordSendTotal: g('record-send-total', 'The total number of records sent (a resent record counts again).'),
  recordsPerRequestAvg: g('records-per-request-avg', 'The average number of records per Produce request.'),
  recordRetryRate: g('record-retry-rate', 'The average per-second number of retried record sends.'),
  recordRetryTotal: g('record-retry-total', 'The total number of retried record sends.'),
  recordErrorRate: g(
    'record-error-rate',
    'The average per-second number of record sends that resulted in errors.',
  ),
  recordErrorTotal: g('record-error-total', 'The total number of record sends that resulted in errors.'),
  recordSizeAvg: g('record-size-avg', 'The average of the largest record size in each batch, in bytes.'),
  recordSizeMax: g('record-size-max', 'The maximum record size in bytes.'),
  requestRate: g('request-rate', 'The number of requests sent per second, to all brokers.'),
  requestTotal: g('request-total', 'The total number of requests sent, to all brokers.'),
  requestSizeAvg: g('request-size-avg', 'The average size of all requests in bytes.'),
  requestSizeMax: g('request-size-max', 'The maximum size of any request sent, in bytes.'),
  outgoingByteRate: g('outgoing-byte-rate', 'The number of bytes sent per second, to all brokers.'),
  outgoingByteTotal: g('outgoing-byte-total', 'The total number of bytes sent, to all brokers.'),
  responseRate: g('response-rate', 'The number of responses received per second.'),
  responseTotal: g('response-total', 'The total number of responses received.'),
  incomingByteRate: g('incoming-byte-rate', 'The number of bytes read per second, from all brokers.'),
  incomingByteTotal: g('incoming-byte-total', 'The total number of bytes read, from all brokers.'),
  connectionCount: g('connection-count', 'The current number of open connections.'),
  connectionCreationRate: g('connection-creation-rate', 'New connections established per second.'),
  connectionCreationTotal: g('connection-creation-total', 'The total number of new connections established.'),
  connectionCloseRate: g('connection-close-rate', 'Connections closed per second.'),
  connectionCloseTotal: g('connection-close-total', 'The total number of connections closed.'),
  bufferTotalBytes: g(
    'buffer-total-bytes',
    'The maximum amount of buffer memory the producer can use (buffer.memory).',
  ),
  bufferAvailableBytes: g(
    'buffer-available-bytes',
    'The total amount of buffer memory that is not being used (neither queued nor in flight).',
  ),
  waitingThreads: g('waiting-threads', 'The number of send() calls blocked waiting for buffer memory.'),
  bufferpoolWaitRatio: g(
    'bufferpool-wait-ratio',
    'The fraction of time send() calls spent waiting for buffer space (summed over the calls).',
  ),
  bufferpoolWaitTimeNsTotal: g(
    'bufferpool-wait-time-ns-total',
    'The total time in ns send() calls spent waiting for buffer space.',
  ),
  bufferExhaustedRate: g(
    'buffer-exhausted-rate',
    'The average per-second number of records refused or failed because the buffer was full.',
  ),
  bufferExhaustedTotal: g(
    'buffer-exhausted-total',
    'The total number of records refused or failed because the buffer was full.',
  ),
  flushTimeNsTotal: g('flush-time-ns-total', 'The total time in ns the producer spent in flush().'),
  metadataWaitTimeNsTotal: g(
    'metadata-wait-time-ns-total',
    'The total time in ns records waited for their topic metadata before being batched.',
  ),
  txnInitTimeNsTotal: g(
    'txn-init-time-ns-total',
    'The total time in ns the producer spent in initTransactions().',
  ),
  txnBeginTimeNsTotal: g(
    'txn-begin-time-ns-total',
    'The total time in ns the producer spent in beginTransaction().',
  ),
  txnSendOffsetsTimeNsTotal: g(
    'txn-send-offsets-time-ns-total',
    'The total time in ns the producer spent in sendOffsetsToTransaction().',
  ),
  txnCommitTimeNsTotal: g(
    'txn-commit-time-ns-total',
    'The total time in ns the producer spent in commitTransaction().',
  ),
  txnAbortTimeNsTotal: g(
    'txn-abort-time-ns-total',
    'The total time in ns the producer spent in abortTransaction().',
  ),
} as const

/** producer-topic-metrics: per topic (tags client-id, topic). */
export const T = {
  recordSendRate: t('record-send-rate', 'The average number of records sent per second for a topic.'),
  recordSendTotal: t('record-send-total', 'The total number of records sent for a topic.'),
  byteRate: t('byte-rate', 'The average number of bytes sent per second for a topic.'),
  byteTotal: t('byte-total', 'The total number of bytes sent for a topic.'),
  compressionRate: t('compression-rate', 'The average compression rate of record batches for a topic.'),
  recordRetryRate: t(
    'record-retry-rate',
    'The average per-second number of retried record sends for a topic.',
  ),
  recordRetryTotal: t('record-retry-total', 'The total number of retried record sends for a topic.'),
  recordErrorRate: t(
    'record-error-rate',
    'The average per-second number of record sends that resulted in errors for a topic.',
  ),
  recordErrorTotal: t(
    'record-error-total',
    'The total number of record sends that resulted in errors for a topic.',
  ),
} as const

/** producer-node-metrics: per broker (tags client-id, node-id `node-<id>`). */
export const N = {
  requestRate: n('request-rate', 'The number of requests sent per second to the broker.'),
  requestTotal: n('request-total', 'The total number of requests sent to the broker.'),
  requestSizeAvg: n('request-size-avg', 'The average size of the requests sent to the broker, in bytes.'),
  requestSizeMax: n('request-size-max', 'The maximum size of a request sent to the broker, in bytes.'),
  outgoingByteRate: n('outgoing-byte-rate', 'The number of bytes sent per second to the broker.'),
  outgoingByteTotal: n('outgoing-byte-total', 'The total number of bytes sent to the broker.'),
  responseRate: n('response-rate', 'The number of responses received per second from the broker.'),
  responseTotal: n('response-total', 'The total number of responses received from the broker.'),
  incomingByteRate: n('incoming-byte-rate', 'The number of bytes read per second from the broker.'),
  incomingByteTotal: n('incoming-byte-total', 'The total number of bytes read from the broker.'),
  requestLatencyAvg: n('request-latency-avg', 'The average Produce request latency to the broker, in ms.'),
  requestLatencyMax: n('request-latency-max', 'The maximum Produce request latency to the broker, in ms.'),
} as const

/** The timed producer calls, each with its `-time-ns-total` metric. */
export type TimedCall =
  'flush' | 'metadataWait' | 'txnInit' | 'txnBegin' | 'txnSendOffsets' | 'txnCommit' | 'txnAbort'

export const TIMED_CALLS: Readonly<Record<TimedCall, MetricTemplate>> = {
  flush: P.flushTimeNsTotal,
  metadataWait: P.metadataWaitTimeNsTotal,
  txnInit: P.txnInitTimeNsTotal,
  txnBegin: P.txnBeginTimeNsTotal,
  txnSendOffsets: P.txnSendOffsetsTimeNsTotal,
  txnCommit: P.txnCommitTimeNsTotal,
  txnAbort: P.txnAbortTimeNsTotal,
}
