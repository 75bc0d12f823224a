import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../../src/errors/index.js'
import type { AuthenticationContext } from '../../../../src/network/connection.js'
import { saslExchange } from '../../../../src/network/sasl/exchange.js'
import type { SaslMechanism } from '../../../../src/network/sasl/mechanism.js'
import { saslAuthenticator } from '../../../../src/network/sasl/index.js'
import { FakeCluster } from '../../../helpers/fake-broker.js'
import { FakeSaslBroker, SASL_API_VERSIONS, saslConnection } from '../../../helpers/fake-sasl.js'

const plain = () => saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' })

async function connectError(broker: FakeSaslBroker, step = plain()): Promise<KafkaError> {
  const { conn } = saslConnection(broker, step)
  return conn.connect().then(
    () => assert.fail('must not connect'),
    (e: unknown) => {
      assert.ok(e instanceof KafkaError, String(e))
      assert.equal(conn.isClosed, true)
      return e
    },
  )
}

/** A broker whose ApiVersions answer lists SaslHandshake and SaslAuthenticate as given. */
function brokerWith(
  handshake: [number, number] | null,
  authenticate: [number, number] | null,
): FakeSaslBroker {
  const versions = SASL_API_VERSIONS.filter((v) => v.apiKey !== 17 && v.apiKey !== 36)
  if (handshake) versions.push({ apiKey: 17, minVersion: handshake[0], maxVersion: handshake[1] })
  if (authenticate) versions.push({ apiKey: 36, minVersion: authenticate[0], maxVersion: authenticate[1] })
  return new FakeSaslBroker(new FakeCluster({ topics: { a: { partitions: 1 } }, apiVersions: versions }))
}

describe('SASL exchange', () => {
  it('a mechanism the broker does not enable fails with UNSUPPORTED_SASL_MECHANISM listing the enabled ones', async () => {
    const broker = new FakeSaslBroker()
    broker.enabled = ['SCRAM-SHA-512', 'OAUTHBEARER']
    const err = await connectError(broker)
    assert.equal(err.code, 'UNSUPPORTED_SASL_MECHANISM')
    assert.equal(err.kafkaCode, 33)
    assert.equal(err.retriable, false)
    assert.equal(
      err.message,
      'broker1:9092: SASL PLAIN authentication as user "alice" failed: ' +
        'the broker does not enable PLAIN; it enables: SCRAM-SHA-512, OAUTHBEARER',
    )
    assert.equal(broker.rounds.length, 0, 'no credentials sent')
  })

  it("a hostile broker's mechanism list is escaped, shortened and capped in the message", async () => {
    const broker = new FakeSaslBroker()
    broker.handshake = () => ({
      errorCode: 33,
      mechanisms: [
        'EVIL\nINJECTED LOG LINE',
        'X'.repeat(5000),
        ...Array.from({ length: 1000 }, (_, i) => `M${i}`),
      ],
    })
    const err = await connectError(broker)
    assert.ok(!err.message.includes('\n'))
    assert.match(err.message, /it enables: EVIL\\u000aINJECTED LOG LINE, X{300}… \(5000 chars\), M0, /)
    assert.match(err.message, /M17, … \(1002 in all\)$/)
    assert.ok(err.message.length < 1000)
  })

  it('an empty list says none; ILLEGAL_SASL_STATE hints at a non-SASL listener; other codes keep their name', async () => {
    const none = new FakeSaslBroker()
    none.handshake = () => ({ errorCode: 33, mechanisms: [] })
    assert.match((await connectError(none)).message, /it enables: none$/)

    const illegal = new FakeSaslBroker()
    illegal.handshake = () => ({ errorCode: 34, mechanisms: [] })
    const e34 = await connectError(illegal)
    assert.equal(e34.code, 'ILLEGAL_SASL_STATE')
    assert.match(e34.message, /is this a SASL listener/)

    const other = new FakeSaslBroker()
    other.handshake = () => ({ errorCode: 35, mechanisms: [] })
    const e35 = await connectError(other)
    assert.equal(e35.code, 'UNSUPPORTED_VERSION')
    assert.equal(e35.kafkaCode, 35)
  })

  it('a broker without SaslAuthenticate, or with SaslHandshake v0 only, is refused before anything is sent', async () => {
    for (const broker of [brokerWith([0, 1], null), brokerWith(null, [0, 2]), brokerWith([0, 0], [0, 2])]) {
      const err = await connectError(broker)
      assert.equal(err.code, '_UNSUPPORTED_FEATURE')
      assert.match(err.message, /^broker1:9092: SASL PLAIN authentication as user "alice" failed: the broker/)
      assert.deepEqual(broker.requestNames(), ['ApiVersions'])
    }
  })

  it('uses the versions negotiated: SaslAuthenticate v0 has no session lifetime', async () => {
    const broker = brokerWith([0, 1], [0, 0])
    broker.sessionLifetimeMs = 60_000
    const { conn } = saslConnection(broker, async (ctx) => {
      const outcome = await plain()(ctx)
      assert.deepEqual(outcome, { sessionLifetimeMs: 0 })
      return outcome
    })
    await conn.connect()
    assert.equal(broker.rounds[0]!.apiVersion, 0)
    conn.close()
  })

  it('an unknown error code keeps its number', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = (_r, a) => ({ ...a, errorCode: 9999, errorMessage: null })
    const err = await connectError(broker)
    assert.equal(err.code, 'UNKNOWN_SERVER_ERROR')
    assert.equal(err.kafkaCode, 9999)
    assert.match(err.message, /\(error code 9999\)$/)
  })

  it('an answer over 64 KiB is refused before it is buffered', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = (_r, a) => ({ ...a, errorCode: 58, errorMessage: 'x'.repeat(70_000) })
    const err = await connectError(broker)
    assert.equal(err.code, '_BAD_MSG')
    assert.match(err.message, /SaslAuthenticate/)
  })

  it('a broker that closes the connection mid-exchange fails connect() with _TRANSPORT', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = () => 'close'
    const err = await connectError(broker)
    assert.equal(err.code, '_TRANSPORT')
    assert.equal(err.retriable, true)
  })

  it('a broker that never answers is bounded by the connection setup timeout', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = () => 'hold'
    const { conn, clock } = saslConnection(broker, plain(), { connectTimeoutMs: 3000 })
    const p = conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    await new Promise((r) => setTimeout(r, 20))
    clock.advance(3000)
    const err = await p
    assert.match(err.message, /connection setup timed out after 3000 ms/)
    assert.equal(clock.pendingTimers, 0)
  })

  // The exchange itself, with a scripted context and mechanism.
  function context(answers: { authBytes: Buffer; sessionLifetimeMs: bigint }[], reauthentication = false) {
    const sent: string[] = []
    const ctx: AuthenticationContext = {
      host: 'b',
      port: 1,
      nodeId: 1,
      reauthentication,
      apiVersions: new Map(),
      versionFor: (api) => api.maxVersion,
      request: ((api: { name: string }): Promise<unknown> => {
        sent.push(api.name)
        if (api.name === 'SaslHandshake') return Promise.resolve({ errorCode: 0, mechanisms: ['PLAIN'] })
        const a = answers.shift()!
        return Promise.resolve({ errorCode: 0, errorMessage: null, ...a })
      }) as AuthenticationContext['request'],
    }
    return { ctx, sent }
  }

  const endless: SaslMechanism = {
    name: 'PLAIN',
    session: () => ({
      identity: () => null,
      first: () => Promise.resolve(Buffer.from('hi')),
      next: () => Promise.resolve(Buffer.from('more')),
      redact: (t) => t,
      failureDetail: () => null,
    }),
  }

  it('a broker that keeps challenging is given up on after four rounds', async () => {
    const { ctx, sent } = context(
      Array.from({ length: 10 }, () => ({ authBytes: Buffer.from('c'), sessionLifetimeMs: 0n })),
    )
    await assert.rejects(saslExchange(ctx, endless), {
      code: '_AUTHENTICATION',
      message: 'b:1: SASL PLAIN authentication failed: the broker kept challenging after 4 rounds',
    })
    assert.deepEqual(sent, ['SaslHandshake', ...Array<string>(4).fill('SaslAuthenticate')])
  })

  it('returns the final answer’s session lifetime as a safe number; negative means none', async () => {
    const done: SaslMechanism = {
      name: 'PLAIN',
      session: () => ({
        identity: () => null,
        first: () => Promise.resolve(Buffer.from('hi')),
        next: () => Promise.resolve(null),
        redact: (t) => t,
        failureDetail: () => null,
      }),
    }
    for (const [given, expected] of [
      [3_600_000n, 3_600_000],
      [-5n, 0],
      [0n, 0],
      [2n ** 62n, Number.MAX_SAFE_INTEGER],
    ] as const) {
      const { ctx } = context([{ authBytes: Buffer.alloc(0), sessionLifetimeMs: given }])
      assert.deepEqual(await saslExchange(ctx, done), { sessionLifetimeMs: expected })
    }
  })

  it('says re-authentication in messages when it is one', async () => {
    const { ctx } = context([], true)
    const refusing: SaslMechanism = {
      name: 'PLAIN',
      session: (fail) => ({
        identity: () => 'user "u"',
        first: () => Promise.reject(fail('_AUTHENTICATION', 'no')),
        next: () => Promise.resolve(null),
        redact: (t) => t,
        failureDetail: () => null,
      }),
    }
    await assert.rejects(saslExchange(ctx, refusing), {
      message: 'b:1: SASL PLAIN re-authentication as user "u" failed: no',
    })
  })
})
