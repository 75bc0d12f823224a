import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../../src/errors/index.js'
import { saslAuthenticator } from '../../../../src/network/sasl/index.js'
import { plainMessage } from '../../../../src/network/sasl/plain.js'
import { MetadataApi, type MetadataRequest } from '../../../../src/protocol/index.js'
import { FakeSaslBroker, saslConnection } from '../../../helpers/fake-sasl.js'

const metadata: MetadataRequest = {
  topics: [{ topicId: Buffer.alloc(16), name: 'a' }],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
}

async function connectError(p: Promise<void>): Promise<KafkaError> {
  return p.then(
    () => assert.fail('must not connect'),
    (e: unknown) => {
      assert.ok(e instanceof KafkaError, String(e))
      return e
    },
  )
}

describe('SASL PLAIN', () => {
  it('is NUL, user, NUL, password in UTF-8 (RFC 4616, no authorization id)', () => {
    assert.deepEqual(plainMessage('alice', 'pässword'), Buffer.from('\0alice\0pässword', 'utf8'))
  })

  it('authenticates with SaslHandshake v1 then one SaslAuthenticate round, before any other request', async () => {
    const broker = new FakeSaslBroker()
    const step = saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' })
    const { conn } = saslConnection(broker, step)
    await conn.connect()
    assert.equal(conn.isReady, true)
    await conn.request(MetadataApi, metadata)
    assert.deepEqual(
      broker.cluster.requests.map((r) => [r.apiName, r.apiVersion]),
      [
        ['ApiVersions', 4],
        ['SaslHandshake', 1],
        ['SaslAuthenticate', 2],
        ['Metadata', 13],
      ],
    )
    assert.deepEqual(broker.cluster.requests[1]!.body, { mechanism: 'PLAIN' })
    assert.equal(broker.rounds.length, 1)
    assert.equal(broker.rounds[0]!.authBytes.toString(), '\0alice\0alice-secret')
    conn.close()
  })

  it('a wrong password fails with SASL_AUTHENTICATION_FAILED naming broker, mechanism and user, not the password', async () => {
    const broker = new FakeSaslBroker()
    const step = saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'wrong-one' })
    const { conn, closes } = saslConnection(broker, step)
    const err = await connectError(conn.connect())
    assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED')
    assert.equal(err.kafkaCode, 58)
    assert.equal(err.retriable, false)
    assert.equal(
      err.message,
      'broker1:9092: SASL PLAIN authentication as user "alice" failed: ' +
        'Authentication failed: Invalid username or password',
    )
    assert.ok(!err.message.includes('wrong-one'))
    assert.equal(conn.isClosed, true)
    assert.deepEqual(closes, [err])
  })

  it('a broker echoing the password in its error message gets it redacted', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = () => ({
      errorCode: 58,
      errorMessage: 'bad password hunter2-hunter2 for\nalice',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    })
    const step = saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'hunter2-hunter2' })
    const err = await connectError(saslConnection(broker, step).conn.connect())
    assert.ok(!err.message.includes('hunter2'), err.message)
    assert.match(err.message, /bad password \[redacted\] for\\u000aalice$/)
  })

  it('a server message after PLAIN (which has none) fails the exchange', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = (_r, a) => ({ ...a, authBytes: Buffer.from('surprise') })
    const step = saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' })
    const err = await connectError(saslConnection(broker, step).conn.connect())
    assert.equal(err.code, '_AUTHENTICATION')
    assert.equal(err.retriable, false)
    assert.match(
      err.message,
      /^broker1:9092: SASL PLAIN authentication as user "alice" failed: unexpected 8-byte/,
    )
  })
})
