import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { KafkaError } from '../../../../src/errors/index.js'
import { saslMechanism } from '../../../../src/network/sasl/authenticator.js'
import { saslAuthenticator, type SaslSettings } from '../../../../src/network/sasl/index.js'
import { OAuthTokenSource, checkToken } from '../../../../src/network/sasl/oauth-token.js'
import { SaltedPasswordCache } from '../../../../src/network/sasl/salted-password-cache.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { FakeSaslBroker, saslConnection } from '../../../helpers/fake-sasl.js'

const PASSWORD = 'Pa55-w0rd-n3ver-sh0wn'
const TOKEN = 'eyJ0b2tlbi1uZXZlci1zaG93bg.eyJzdWIiOiJzdmMifQ.c2ln'

/** Everything util.inspect (hidden properties, any depth) and JSON.stringify reveal of `v`. */
function revealed(v: unknown): string {
  let json = ''
  try {
    json = JSON.stringify(v) ?? ''
  } catch {
    // cyclic: inspect covers it
  }
  return inspect(v, { depth: 20, showHidden: true, getters: true }) + json
}

function assertHidden(v: unknown, what: string): void {
  const shown = revealed(v)
  assert.ok(!shown.includes(PASSWORD), `${what} shows the password: ${shown}`)
  assert.ok(!shown.includes(TOKEN), `${what} shows the token: ${shown}`)
}

describe('SASL secrets stay out of sight', () => {
  const clock = new ManualClock()
  const settings: SaslSettings[] = [
    { mechanism: 'PLAIN', username: 'alice', password: PASSWORD },
    { mechanism: 'SCRAM-SHA-256', username: 'alice', password: PASSWORD },
    { mechanism: 'SCRAM-SHA-512', username: 'alice', password: PASSWORD },
    {
      mechanism: 'OAUTHBEARER',
      oauthCb: () => ({ token: TOKEN, expiresAtMs: clock.now() + 3_600_000, principal: 'svc' }),
      clock,
    },
  ]

  it('in the authenticator, the mechanisms and their sessions, before and after an exchange', async () => {
    for (const s of settings) {
      const step = saslAuthenticator(s)
      assertHidden(step, `${s.mechanism} authenticator`)
      const mechanism = saslMechanism(s)
      const session = mechanism.session((code, reason) => new KafkaError(code, reason))
      assertHidden(mechanism, `${s.mechanism} mechanism`)
      await session.first()
      assertHidden(session, `${s.mechanism} session`)
      assertHidden(mechanism, `${s.mechanism} mechanism after use`)
    }
  })

  it('in the token source, a checked token and the salted-password cache', async () => {
    const tokens = new OAuthTokenSource(
      () => ({ token: TOKEN, expiresAtMs: clock.now() + 60_000 }),
      null,
      clock,
    )
    const token = await tokens.current()
    assert.equal(token.value(), TOKEN)
    assertHidden(tokens, 'token source')
    assertHidden(token, 'token')
    assertHidden(checkToken({ token: TOKEN, expiresAtMs: clock.now() + 1 }, clock.now()), 'checked token')
    const cache = new SaltedPasswordCache(PASSWORD)
    await cache.get('sha256', Buffer.from('salt'), 4096)
    assertHidden(cache, 'salted password cache')
  })

  it('in every error of a failed authentication, and in a connection that authenticated', async () => {
    for (const s of settings) {
      const broker = new FakeSaslBroker()
      broker.users.set('alice', 'another password')
      broker.checkToken = () => 'invalid_token'
      // A broker that echoes what it got: the client must not repeat it.
      broker.tamper = (round, answer) =>
        answer.errorCode === 0
          ? answer
          : { ...answer, errorMessage: `${answer.errorMessage} ${round.authBytes}` }
      const { conn, closes } = saslConnection(broker, saslAuthenticator(s), { clock })
      const err = await conn.connect().then(
        () => assert.fail(`${s.mechanism} must fail`),
        (e: unknown) => e as KafkaError,
      )
      assert.ok(err instanceof KafkaError)
      assertHidden(err, `${s.mechanism} error`)
      assertHidden(err.message, `${s.mechanism} message`)
      assertHidden(closes, `${s.mechanism} close error`)
      assertHidden(conn, `${s.mechanism} failed connection`)
    }
    const broker = new FakeSaslBroker()
    broker.users.set('alice', PASSWORD)
    const { conn } = saslConnection(broker, saslAuthenticator(settings[1]!), { clock })
    await conn.connect()
    assertHidden(conn, 'ready connection')
    conn.close()
  })

  it('in the errors of invalid settings and of a callback returning a bad token', async () => {
    const e1 = (() => {
      try {
        saslAuthenticator({ mechanism: 'PLAIN', username: '', password: PASSWORD })
      } catch (e) {
        return e
      }
      return null
    })()
    assert.ok(e1 instanceof KafkaError)
    assertHidden(e1, 'settings error')
    const bad = new OAuthTokenSource(
      () => ({ token: `${TOKEN} with a space`, expiresAtMs: clock.now() + 1 }),
      null,
      clock,
    )
    const e2 = await bad.current().then(
      () => assert.fail('must fail'),
      (e: unknown) => e,
    )
    assertHidden(e2, 'bad token error')
  })
})
