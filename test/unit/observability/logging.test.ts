// The logging module on its own (src/observability/logging/): the sink's line format and its
// protection from a logger that throws and from hostile strings, the default stderr logger, and
// which events each debug context subscribes to (none for a context that is off).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import {
  Instrumentation,
  PRODUCER_EVENT_NAMES,
  type ProducerEventName,
} from '../../../src/observability/events.js'
import {
  DEBUG_CONTEXTS,
  LogSink,
  attachDebugLog,
  expandContexts,
  sanitize,
  stderrLogger,
  type Logger,
} from '../../../src/observability/logging/index.js'

/** A logger that keeps `[level, message]` pairs. */
function capture(): { logger: Logger; lines: [string, string][] } {
  const lines: [string, string][] = []
  const at = (level: string) => (m: string) => void lines.push([level, m])
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

const request = { nodeId: 1, apiKey: 0, apiName: 'Produce', apiVersion: 11, bytes: 120, correlationId: 5 }

describe('LogSink', () => {
  it('writes FAC|name| text at the level asked, with the logger as this', () => {
    const seen: string[] = []
    const logger = {
      prefix: 'P:',
      debug(this: { prefix: string }, m: string) {
        seen.push(this.prefix + m)
      },
      info() {},
      warn() {},
      error() {},
    }
    new LogSink(logger, 'app-1').write('debug', 'SEND', 'hello')
    assert.deepEqual(seen, ['P:SEND|app-1| hello'])
  })

  it('a logger that throws loses its line and nothing else', () => {
    const sink = new LogSink(
      {
        debug: () => {
          throw new Error('disk full')
        },
        info: () => {},
        warn: () => {},
        error: () => {},
      },
      'app',
    )
    assert.doesNotThrow(() => sink.write('debug', 'SEND', 'x'))
  })

  it('escapes control characters (a broker-sent string cannot forge a line) and bounds the length', () => {
    assert.equal(sanitize('topic\nFAKE|line\r\u0000\u2028'), 'topic\\x0aFAKE|line\\x0d\\x00\\u2028')
    assert.equal(sanitize('\u202eevil'), '\\u202eevil')
    const long = sanitize('a'.repeat(5000))
    assert.ok(long.length < 2100, String(long.length))
    assert.match(long, /\.\.\. \(2952 more\)$/)
  })
})

describe('stderrLogger', () => {
  it("writes librdkafka's %level|seconds|message lines", () => {
    const out: string[] = []
    const log = stderrLogger(
      (l) => out.push(l),
      () => 1_733_400_000_123,
    )
    log.debug('SEND|app| x')
    log.error('ERROR|app| y')
    log.warn('W')
    log.info('I')
    assert.deepEqual(out, [
      '%7|1733400000.123|SEND|app| x\n',
      '%3|1733400000.123|ERROR|app| y\n',
      '%4|1733400000.123|W\n',
      '%6|1733400000.123|I\n',
    ])
  })
})

describe('debug contexts', () => {
  it("'all' is every context; unknown names are dropped", () => {
    assert.deepEqual([...expandContexts(['all'])], DEBUG_CONTEXTS)
    assert.deepEqual([...expandContexts(['msg', 'broker'])], ['msg', 'broker'])
    assert.equal(expandContexts([]).size, 0)
  })

  it('subscribes only the events an enabled context needs: nothing is computed for the rest', () => {
    const subscribed = (debug: string[]): ProducerEventName[] => {
      const hub = new Instrumentation()
      attachDebugLog(hub, new LogSink(capture().logger, 'a'), expandContexts(debug))
      return PRODUCER_EVENT_NAMES.filter((n) => hub.has(n))
    }
    assert.deepEqual(subscribed([]), [])
    assert.deepEqual(subscribed(['broker']), ['connection.opened', 'connection.closed', 'connection.failed'])
    assert.deepEqual(subscribed(['protocol']), ['request.sent', 'request.answered', 'request.failed'])
    assert.deepEqual(subscribed(['eos']), ['producer.id', 'transaction.state'])
    assert.deepEqual(subscribed(['topic']), ['metadata.updated'])
    assert.deepEqual(subscribed(['conf']), [])
    assert.deepEqual(subscribed(['all']), PRODUCER_EVENT_NAMES)
  })

  it('the detach function unsubscribes everything it subscribed', () => {
    const hub = new Instrumentation()
    const detach = attachDebugLog(hub, new LogSink(capture().logger, 'a'), expandContexts(['all']))
    detach()
    assert.deepEqual(
      PRODUCER_EVENT_NAMES.filter((n) => hub.has(n)),
      [],
    )
  })

  it('protocol logs every request; feature only ApiVersions answers; security only SASL requests', () => {
    const run = (debug: string[]): string[] => {
      const hub = new Instrumentation()
      const { logger, lines } = capture()
      attachDebugLog(hub, new LogSink(logger, 'app'), expandContexts(debug))
      hub.emit('request.sent', request)
      hub.emit('request.sent', { ...request, apiKey: 17, apiName: 'SaslHandshake', apiVersion: 1 })
      hub.emit('request.answered', { ...request, apiKey: 18, apiName: 'ApiVersions', rttMs: 1.234 })
      hub.emit('request.failed', {
        ...request,
        apiKey: 36,
        apiName: 'SaslAuthenticate',
        error: new KafkaError('_TIMED_OUT', 'request timed out'),
      })
      return lines.map(([, m]) => m)
    }
    assert.deepEqual(run(['protocol']), [
      'SEND|app| sent Produce v11 request (api key 0, correlation id 5, 120 bytes) to broker 1',
      'SEND|app| sent SaslHandshake v1 request (api key 17, correlation id 5, 120 bytes) to broker 1',
      'RECV|app| received ApiVersions response (correlation id 5, 120 bytes, rtt 1.23 ms) from broker 1',
      'REQERR|app| SaslAuthenticate request (correlation id 5) to broker 1 failed: _TIMED_OUT: request timed out',
    ])
    assert.deepEqual(run(['feature']), [
      'RECV|app| received ApiVersions response (correlation id 5, 120 bytes, rtt 1.23 ms) from broker 1',
    ])
    assert.deepEqual(run(['security']), [
      'SEND|app| sent SaslHandshake v1 request (api key 17, correlation id 5, 120 bytes) to broker 1',
      'REQERR|app| SaslAuthenticate request (correlation id 5) to broker 1 failed: _TIMED_OUT: request timed out',
    ])
  })

  it('metadata logs the brokers, topic one line per topic, and hostile names come out escaped', () => {
    const hub = new Instrumentation()
    const { logger, lines } = capture()
    attachDebugLog(hub, new LogSink(logger, 'app'), expandContexts(['metadata', 'topic']))
    hub.emit('metadata.updated', {
      nodeId: -1,
      brokers: [{ nodeId: 1, host: 'evil\nhost', port: 9092 }],
      topics: [
        { topic: 't', partitions: 3, available: 2, error: null },
        { topic: 'gone', partitions: 0, available: 0, error: 'UNKNOWN_TOPIC_OR_PARTITION' },
      ],
    })
    assert.deepEqual(
      lines.map(([, m]) => m),
      [
        'METADATA|app| metadata from bootstrap broker -1: 1 brokers (1 at evil\\x0ahost:9092), 2 topics',
        'TOPIC|app| topic t: 3 partitions, 2 with a leader',
        'TOPIC|app| topic gone: UNKNOWN_TOPIC_OR_PARTITION',
      ],
    )
    assert.ok(lines.every(([level]) => level === 'debug'))
  })
})
