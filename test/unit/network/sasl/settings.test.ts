import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../../src/errors/index.js'
import {
  SASL_MECHANISMS,
  saslAuthenticator,
  validateSaslSettings,
  type SaslSettings,
} from '../../../../src/network/sasl/index.js'

function refusal(s: unknown): KafkaError {
  try {
    saslAuthenticator(s as SaslSettings)
  } catch (e) {
    assert.ok(e instanceof KafkaError)
    assert.equal(e.code, '_INVALID_ARG')
    assert.equal(e.retriable, false)
    return e
  }
  return assert.fail('accepted')
}

describe('SASL settings', () => {
  it('accepts complete settings for every mechanism', () => {
    assert.deepEqual(SASL_MECHANISMS, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'])
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      validateSaslSettings({ mechanism, username: 'u', password: 'p' })
    }
    validateSaslSettings({ mechanism: 'OAUTHBEARER', oauthCb: () => ({ token: 't', expiresAtMs: 1 }) })
    validateSaslSettings({
      mechanism: 'OAUTHBEARER',
      oauthCb: () => ({ token: 't', expiresAtMs: 1 }),
      oauthConfig: null,
    })
    assert.equal(typeof saslAuthenticator({ mechanism: 'PLAIN', username: 'u', password: 'p' }), 'function')
  })

  it('refuses incomplete settings at construction, saying what is missing', () => {
    for (const [s, message] of [
      [{ mechanism: 'PLAIN', password: 'p' }, 'SASL: PLAIN needs a username (sasl.username)'],
      [{ mechanism: 'SCRAM-SHA-256', username: 'u' }, 'SASL: SCRAM-SHA-256 needs a password (sasl.password)'],
      [
        { mechanism: 'SCRAM-SHA-512', username: '', password: 'p' },
        'SASL: SCRAM-SHA-512 needs a username (sasl.username)',
      ],
      [{ mechanism: 'PLAIN', username: 'u', password: 7 }, 'SASL: PLAIN needs a password (sasl.password)'],
      [
        { mechanism: 'PLAIN', username: 'u\0admin', password: 'p' },
        'SASL: PLAIN: the username and the password must not contain a NUL character',
      ],
      [
        { mechanism: 'OAUTHBEARER' },
        'SASL: OAUTHBEARER needs a token callback (oauth_cb) that returns { token, expiresAtMs }',
      ],
      [
        { mechanism: 'OAUTHBEARER', oauthCb: () => null, oauthConfig: 5 },
        'SASL: sasl.oauthbearer.config must be a string',
      ],
      [
        { mechanism: 'GSSAPI' },
        "SASL: unsupported mechanism 'GSSAPI'; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER",
      ],
      [{ mechanism: 'plain', username: 'u', password: 'p' }, /unsupported mechanism 'plain'/],
      [null, 'SASL: settings must be an object'],
      [
        { mechanism: 'PLAIN', username: 'u', password: 'p', randomBytes: 1 },
        'SASL: randomBytes must be a function',
      ],
    ] as const) {
      const e = refusal(s)
      if (typeof message === 'string') assert.equal(e.message, message)
      else assert.match(e.message, message)
    }
  })
})
