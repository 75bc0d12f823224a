// One log line per event: the facility (librdkafka's upper-case FAC names where it has one: SEND,
// RECV, CONNECT, METADATA, TOPIC, ...) and the text. Built from event payloads only, which carry no
// secret: no record key or value, no credential, only sizes, names, ids and error codes.
import type { KafkaError } from '../../errors/index.js'
import type { ProducerEventName, ProducerEvents } from '../events.js'

export interface LogLine {
  readonly facility: string
  readonly text: string
}

type Formatters = { readonly [K in ProducerEventName]: (e: ProducerEvents[K]) => LogLine }

const broker = (nodeId: number): string => (nodeId < 0 ? `bootstrap broker ${nodeId}` : `broker ${nodeId}`)
const err = (e: KafkaError): string => `${e.code}: ${e.message}`
const ms = (n: number): string => `${Math.round(n * 100) / 100} ms`
const where = (topic: string, partition: number): string =>
  partition < 0 ? `${topic} (partition not chosen yet)` : `${topic} [${partition}]`

export const FORMATTERS: Formatters = {
  'record.accepted': (e) => ({
    facility: 'PRODUCE',
    text: `record of ${e.bytes} bytes accepted for ${where(e.topic, e.partition)}`,
  }),
  'record.delivered': (e) => ({
    facility: 'DR',
    text:
      `record delivered to ${where(e.topic, e.partition)} at offset ${e.offset}` +
      (e.latencyMs === undefined ? '' : ` after ${ms(e.latencyMs)}`),
  }),
  'record.failed': (e) => ({
    facility: 'DR',
    text: `record for ${where(e.topic, e.partition)} failed: ${err(e.error)}`,
  }),
  'batch.built': (e) => ({
    facility: 'BATCH',
    text: `batch for ${where(e.topic, e.partition)}: ${e.records} records, ${e.bytes} bytes, ${e.wireBytes} on the wire (${e.codec})`,
  }),
  'batch.sent': (e) => ({
    facility: 'BATCH',
    text: `batch of ${e.records} records for ${where(e.topic, e.partition)} sent to ${broker(e.nodeId)} (attempt ${e.attempt})`,
  }),
  'batch.answered': (e) => ({
    facility: 'BATCH',
    text:
      `${broker(e.nodeId)} answered the batch of ${e.records} records for ${where(e.topic, e.partition)} ` +
      `with error code ${e.errorCode} after ${ms(e.latencyMs)}`,
  }),
  'batch.retried': (e) => ({
    facility: 'RETRY',
    text: `batch of ${e.records} records for ${where(e.topic, e.partition)} retried after attempt ${e.attempt}: ${err(e.error)}`,
  }),
  'request.sent': (e) => ({
    facility: 'SEND',
    text: `sent ${e.apiName} v${e.apiVersion} request (api key ${e.apiKey}, correlation id ${e.correlationId}, ${e.bytes} bytes) to ${broker(e.nodeId)}`,
  }),
  'request.answered': (e) => ({
    facility: 'RECV',
    text:
      `received ${e.apiName} response (correlation id ${e.correlationId}, ${e.bytes} bytes, rtt ${ms(e.rttMs)}) from ${broker(e.nodeId)}` +
      (e.throttleTimeMs ? `, throttled ${e.throttleTimeMs} ms` : ''),
  }),
  'request.failed': (e) => ({
    facility: 'REQERR',
    text: `${e.apiName} request (correlation id ${e.correlationId}) to ${broker(e.nodeId)} failed: ${err(e.error)}`,
  }),
  'connection.opened': (e) => ({
    facility: 'CONNECT',
    text: `connected to ${broker(e.nodeId)} at ${e.host}:${e.port} in ${ms(e.setupMs)} (ApiVersions and authentication done)`,
  }),
  'connection.closed': (e) => ({
    facility: 'DISCONNECT',
    text:
      `connection to ${broker(e.nodeId)} at ${e.host}:${e.port} closed` +
      (e.error ? `: ${err(e.error)}` : ''),
  }),
  'connection.failed': (e) => ({
    facility: 'FAIL',
    text: `connection to ${broker(e.nodeId)} at ${e.host}:${e.port} failed: ${err(e.error)}`,
  }),
  'producer.connected': (e) => ({
    facility: 'INIT',
    text: `producer ${e.clientId} bootstrapped: ${e.brokers} brokers known`,
  }),
  'producer.fatal': (e) => ({
    facility: 'FATAL',
    text: `producer ${e.clientId} stopped by a fatal error: ${err(e.error)}`,
  }),
  'producer.closed': (e) => ({
    facility: 'TERMINATE',
    text: `producer ${e.clientId} closed (${e.failed} records failed by close)`,
  }),
  'metadata.updated': (e) => ({
    facility: 'METADATA',
    text:
      `metadata from ${broker(e.nodeId)}: ${e.brokers.length} brokers (` +
      e.brokers.map((b) => `${b.nodeId} at ${b.host}:${b.port}`).join(', ') +
      `), ${e.topics.length} topics`,
  }),
  'producer.id': (e) => ({
    facility: 'PID',
    text: `producer id ${e.state}: id ${e.producerId ?? 'none'}, epoch ${e.epoch ?? 'none'}`,
  }),
  'transaction.state': (e) => ({
    facility: 'TXNSTATE',
    text: `transaction ${e.transactionalId}: state ${e.state}`,
  }),
}

/** The `topic` context's lines for a Metadata answer: one per topic. */
export function topicLines(e: ProducerEvents['metadata.updated']): LogLine[] {
  return e.topics.map((t) => ({
    facility: 'TOPIC',
    text:
      t.error === null
        ? `topic ${t.topic}: ${t.partitions} partitions, ${t.available} with a leader`
        : `topic ${t.topic}: ${t.error}`,
  }))
}
