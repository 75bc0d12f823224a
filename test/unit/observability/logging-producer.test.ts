// A producer's `logger` and `debug` options against the fake cluster (manual clock): each context
// logs the protocol steps it is about, errors reach logger.error, a logger that throws does not
// disturb delivery, and no secret set in the configuration reaches a log line.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { ConfigError } from '../../../src/config/index.js'
import { Instrumentation, PRODUCER_EVENT_NAMES } from '../../../src/observability/events.js'
import type { Logger } from '../../../src/observability/logging/index.js'
import { configLines } from '../../../src/producer/logging-setup.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

function capture(): { logger: Logger; lines: string[]; errors: string[] } {
  const lines: string[] = []
  const errors: string[] = []
  return {
    lines,
    errors,
    logger: {
      debug: (m) => void lines.push(m),
      info: (m) => void lines.push(m),
      warn: (m) => void lines.push(m),
      error: (m) => void errors.push(m),
    },
  }
}

const SECRETS = {
  'sasl.username': 'alice',
  'sasl.password': 'pw-SECRET-1',
  'ssl.key.password': 'pw-SECRET-2',
  'sasl.oauthbearer.config': 'token=pw-SECRET-3',
}

describe('producer debug logging', () => {
  it("debug 'all': the protocol steps, the connection, the producer id and the records, no secret", async () => {
    const { logger, lines } = capture()
    const { producer, pump } = fakeProducer({
      'linger.ms': 0,
      'client.id': 'log-app',
      debug: 'all',
      logger,
      ...SECRETS,
    })
    const d = new Deliveries()
    producer.produce({ topic: 't', key: 'k-1', value: 'value-1' }, d.cb('r'))
    for (let i = 0; i < 5; i++) await pump(10)
    d.assertAllOnce()
    const text = lines.join('\n')
    for (const step of [
      /^CONF\|log-app\| client\.id = log-app$/m,
      /^CONF\|log-app\| sasl\.password = \[redacted\]$/m,
      /^SEND\|log-app\| sent ApiVersions v\d+ request/m,
      /^CONNECT\|log-app\| connected to bootstrap broker -1 at broker1:9092/m,
      /^SEND\|log-app\| sent Metadata v\d+ request/m,
      /^METADATA\|log-app\| metadata from .*: 1 brokers \(1 at broker1:9092\)/m,
      /^TOPIC\|log-app\| topic t: 1 partitions, 1 with a leader$/m,
      /^INIT\|log-app\| producer log-app bootstrapped/m,
      /^SEND\|log-app\| sent InitProducerId v\d+ request/m,
      /^PID\|log-app\| producer id ready: id \d+, epoch 0$/m,
      /^PRODUCE\|log-app\| record of \d+ bytes accepted for t/m,
      /^BATCH\|log-app\| batch for t \[0\]: 1 records/m,
      /^SEND\|log-app\| sent Produce v\d+ request/m,
      /^RECV\|log-app\| received Produce response/m,
      /^DR\|log-app\| record delivered to t \[0\] at offset 0/m,
    ]) {
      assert.match(text, step)
    }
    // Neither the secrets nor the record's key or value.
    for (const secret of ['pw-SECRET', 'k-1', 'value-1']) assert.equal(text.includes(secret), false, secret)
  })

  it("eos: the transactional producer's id and each state of a committed transaction", async () => {
    const { logger, lines } = capture()
    const { producer, pump } = fakeProducer(
      { 'linger.ms': 0, 'transactional.id': 'tx-log', debug: 'eos', logger },
      { topics: { t: { partitions: 1 } }, transactionVersion: 2 },
    )
    const settle = async <T>(p: Promise<T>): Promise<T> => {
      let done = false
      void p.then(
        () => (done = true),
        () => (done = true),
      )
      for (let i = 0; i < 500 && !done; i++) await pump(1)
      return p
    }
    await settle(producer.initTransactions())
    producer.beginTransaction()
    const sent = producer.send({ topic: 't', value: 'x' })
    await settle(sent)
    await settle(producer.commitTransaction())
    // KIP-890 (transaction.version 2): EndTxn hands out the next epoch, and the log says so.
    const epochs = lines.flatMap((l) => /producer id assigned: id \d+, epoch (\d+)$/.exec(l)?.[1] ?? [])
    assert.equal(epochs.length, 2)
    assert.equal(Number(epochs[1]), Number(epochs[0]) + 1)
    assert.deepEqual(
      lines.map((l) => l.replace(/id \d+, epoch \d+/, 'id N, epoch E')),
      [
        'TXNSTATE|reliable-kafka| transaction tx-log: state initializing',
        'PID|reliable-kafka| producer id assigned: id N, epoch E',
        'TXNSTATE|reliable-kafka| transaction tx-log: state ready',
        'TXNSTATE|reliable-kafka| transaction tx-log: state inTransaction',
        'TXNSTATE|reliable-kafka| transaction tx-log: state committing',
        'PID|reliable-kafka| producer id assigned: id N, epoch E',
        'TXNSTATE|reliable-kafka| transaction tx-log: state ready',
      ],
    )
  })

  it('only the contexts asked for log, and without debug or logger nothing subscribes', async () => {
    const { logger, lines } = capture()
    const { producer, pump } = fakeProducer({ 'linger.ms': 0, debug: 'broker', logger })
    producer.produce({ topic: 't', value: 'x' })
    for (let i = 0; i < 5; i++) await pump(10)
    assert.ok(lines.length > 0)
    assert.ok(
      lines.every((l) => /^(CONNECT|DISCONNECT|FAIL)\|/.test(l)),
      lines.join('\n'),
    )

    // Metrics (on by default) subscribe batch and request events of their own: switched off here.
    const quiet = fakeProducer({ 'linger.ms': 0, 'metrics.enable': false })
    assert.deepEqual(
      PRODUCER_EVENT_NAMES.filter((n) => quiet.producer.instrumentation.has(n)),
      [],
    )
  })

  it('close() unsubscribes from the hub, which may outlive the producer', async () => {
    const hub = new Instrumentation()
    const { logger } = capture()
    const { producer, pump } = fakeProducer({ debug: 'all', logger, 'metrics.enable': false }, undefined, 7, {
      instrumentation: hub,
    })
    assert.ok(hub.has('request.sent'))
    const closed = producer.close(0)
    await pump()
    await closed
    assert.deepEqual(
      PRODUCER_EVENT_NAMES.filter((n) => hub.has(n)),
      [],
    )
  })

  it('errors error_cb hears go to logger.error, debug or not', async () => {
    const { logger, errors, lines } = capture()
    const heard: string[] = []
    const { cluster, producer, pump } = fakeProducer({
      logger,
      error_cb: (err) => void heard.push(err.code),
    })
    cluster.down.add('broker1:9092')
    producer.produce({ topic: 't', value: 'x' })
    for (let i = 0; i < 3; i++) await pump(200)
    assert.ok(heard.length > 0)
    assert.equal(errors.length, heard.length)
    assert.match(errors[0]!, /^ERROR\|reliable-kafka\| _ALL_BROKERS_DOWN: /)
    assert.deepEqual(lines, [])
  })

  it('a logger that throws does not disturb delivery', async () => {
    const throwing: Logger = {
      debug: () => {
        throw new Error('broken logger')
      },
      info: () => {},
      warn: () => {},
      error: () => {
        throw new Error('broken logger')
      },
    }
    const { producer, pump } = fakeProducer({ 'linger.ms': 0, debug: 'all', logger: throwing })
    const d = new Deliveries()
    for (let i = 0; i < 10; i++) producer.produce({ topic: 't', value: `v${i}` }, d.cb(`r${i}`))
    for (let i = 0; i < 5; i++) await pump(10)
    d.assertAllOnce()
    assert.equal([...d.calls.values()].filter((c) => c[0]!.err === null).length, 10)
  })

  it('a logger without one of debug, info, warn, error is a ConfigError', () => {
    assert.throws(
      () => fakeProducer({ logger: { debug() {}, info() {}, warn() {} } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'logger' && /error\(\)/.test(err.message),
    )
  })

  it('the conf dump shows set secrets as [redacted] and reads no secret', () => {
    const { producer } = fakeProducer({ ...SECRETS, 'sasl.jaas.config': 'x password="pw-SECRET-4";' })
    const lines = configLines(producer.config)
    const shown = new Map(lines)
    assert.equal(shown.get('sasl.password'), '[redacted]')
    assert.equal(shown.get('sasl.jaas.config'), '[redacted]')
    assert.equal(shown.get('sasl.username'), 'alice')
    assert.equal(shown.get('error_cb'), '[function]')
    assert.equal(JSON.stringify(lines).includes('pw-SECRET'), false)
  })
})
