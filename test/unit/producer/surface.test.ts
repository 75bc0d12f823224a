// What a Producer shows of itself: its configuration without secrets, and a warning for each key
// that has no effect yet.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { inspect } from 'node:util'
import { NOT_IMPLEMENTED_WARNING_CODE, WARNING_TYPE, secretValue } from '../../../src/config/index.js'
import { closeFakeProducers, closeIdle, eagerProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

const SECRETS = {
  'sasl.password': 'hunter2',
  'ssl.key.password': 'hunter3',
  'ssl.keystore.password': 'hunter4',
  'ssl.key.pem': '-----BEGIN PRIVATE KEY-----\nhunter5\n-----END PRIVATE KEY-----',
  'sasl.oauthbearer.config': 'principal=alice token=hunter6',
}

describe('producer.config', () => {
  it('never shows a secret: properties, JSON.stringify, util.inspect, template strings', async () => {
    const { producer, pump } = eagerProducer({ ...SECRETS, 'sasl.username': 'alice' })
    producer.produce({ topic: 't', value: 'v' })
    await pump()
    const shown = {
      'producer.config.saslPassword': String(producer.config.saslPassword),
      'JSON.stringify(producer.config)': JSON.stringify(producer.config),
      'util.inspect(producer, { depth: 10 })': inspect(producer, { depth: 10 }),
      'util.inspect(producer, { showHidden })': inspect(producer, { depth: 10, showHidden: true }),
      'util.inspect(producer.config)': inspect(producer.config),
      '`${producer.config}`': `${producer.config}`,
    }
    for (const [where, text] of Object.entries(shown)) {
      assert.doesNotMatch(text, /hunter\d/, where)
    }
    assert.equal(producer.config.saslPassword, '[redacted]')
    assert.equal(producer.config.sslKeyPem, '[redacted]')
    assert.match(shown['util.inspect(producer.config)'], /saslPassword: '\[redacted\]'/)
    assert.equal(producer.config.saslUsername, 'alice')
    // Still there for the code that will need it (SASL, TLS).
    assert.equal(secretValue(producer.config, 'saslPassword'), 'hunter2')
    assert.equal(secretValue(producer.config, 'sslKeyPem'), SECRETS['ssl.key.pem'])
    await closeIdle(producer, pump)
  })
})

describe('keys that have no effect yet', () => {
  /** The warnings this package emits while `fn` runs (and the ticks after it). */
  async function warningsDuring(fn: () => void): Promise<Error[]> {
    const seen: Error[] = []
    const listener = (w: Error): void => {
      if (w.name === WARNING_TYPE) seen.push(w)
    }
    process.on('warning', listener)
    try {
      fn()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', listener)
    }
    return seen
  }

  it('warn once per process and key through process.emitWarning, besides config.notImplemented', async () => {
    const first = await warningsDuring(() => {
      const { producer } = eagerProducer({
        'topic.metadata.refresh.interval.ms': 1000,
        'sasl.kerberos.service.name': 'kafka',
      })
      assert.deepEqual(producer.config.notImplemented, [
        'topic.metadata.refresh.interval.ms',
        'sasl.kerberos.service.name',
      ])
    })
    assert.deepEqual(
      first.map((w) => [(w as Error & { code?: string }).code, w.message.split(':')[0]]),
      [
        [NOT_IMPLEMENTED_WARNING_CODE, "Config key 'topic.metadata.refresh.interval.ms' has no effect yet"],
        [NOT_IMPLEMENTED_WARNING_CODE, "Config key 'sasl.kerberos.service.name' has no effect yet"],
      ],
    )
    assert.match(first[0]!.message, /topic.metadata.refresh.interval.ms/)

    // A second producer with the same keys says nothing more; a new key still warns.
    const second = await warningsDuring(() => {
      const { producer } = eagerProducer({
        'topic.metadata.refresh.interval.ms': 2000,
        'sasl.kerberos.service.name': 'kafka',
        'sasl.kerberos.principal': 'client',
      })
      assert.deepEqual(producer.config.notImplemented, [
        'topic.metadata.refresh.interval.ms',
        'sasl.kerberos.service.name',
        'sasl.kerberos.principal',
      ])
    })
    assert.deepEqual(
      second.map((w) => w.message.split(':')[0]),
      ["Config key 'sasl.kerberos.principal' has no effect yet"],
    )
  })

  it('implemented keys do not warn', async () => {
    const none = await warningsDuring(() => {
      eagerProducer({ 'linger.ms': 5, acks: 'all', dr_cb: () => {} })
    })
    assert.deepEqual(none, [])
  })
})
