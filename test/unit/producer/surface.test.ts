// What a Producer shows of itself: its configuration without secrets, read-only views of its
// internals.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { inspect } from 'node:util'
import { secretValue } from '../../../src/config/index.js'
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
