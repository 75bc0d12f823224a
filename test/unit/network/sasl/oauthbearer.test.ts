import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../../src/errors/index.js'
import {
  saslAuthenticator,
  type OAuthBearerToken,
  type OAuthCallback,
} from '../../../../src/network/sasl/index.js'
import { OAuthTokenSource, STALE_CALL_MS, checkToken } from '../../../../src/network/sasl/oauth-token.js'
import {
  describeServerError,
  extensionProblem,
  oauthBearerInitialResponse,
} from '../../../../src/network/sasl/oauthbearer.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { FakeSaslBroker, saslConnection } from '../../../helpers/fake-sasl.js'

const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'
const HOUR = 3_600_000

describe('OAUTHBEARER messages (RFC 7628, KIP-255, KIP-342)', () => {
  it('builds the client initial response: GS2 header, auth=Bearer, extensions in key order, two kvseps', () => {
    assert.equal(oauthBearerInitialResponse(TOKEN).toString(), `n,,\x01auth=Bearer ${TOKEN}\x01\x01`)
    assert.equal(
      oauthBearerInitialResponse('t', { traceId: 'x y', logicalCluster: 'lkc-1' }).toString(),
      'n,,\x01auth=Bearer t\x01logicalCluster=lkc-1\x01traceId=x y\x01\x01',
    )
    assert.equal(
      oauthBearerInitialResponse('t', {}, 'a,b=c').toString(),
      'n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01',
    )
  })

  it('validates extensions as KIP-342 and RFC 7628 say, never quoting a value', () => {
    assert.equal(extensionProblem({ ok: 'value with spaces\tand\r\nbreaks' }), null)
    assert.match(extensionProblem({ 'bad-key': 'v' })!, /letters only/)
    assert.match(extensionProblem({ k1: 'v' })!, /letters only/)
    assert.match(extensionProblem({ auth: 'v' })!, /reserved/)
    assert.match(extensionProblem({ k: '' })!, /empty value/)
    const framing = extensionProblem({ k: 'secret\x01value' })!
    assert.match(framing, /characters RFC 7628/)
    assert.ok(!framing.includes('secret'))
    assert.match(extensionProblem({ k: 5 })!, /string value/)
  })

  it('checks what the callback returns and never echoes the token', () => {
    const now = 1_700_000_000_000
    const good = checkToken({ token: TOKEN, expiresAtMs: now + HOUR, principal: 'alice' }, now)
    assert.ok(typeof good !== 'string')
    assert.equal(good.value(), TOKEN)
    for (const [raw, reason] of [
      [null, /expected an object/],
      [{ token: '', expiresAtMs: now + 1 }, /non-empty string/],
      [{ token: 'has space secretpart', expiresAtMs: now + 1 }, /outside the bearer token set/],
      [{ token: 'tok\x01en', expiresAtMs: now + 1 }, /outside the bearer token set/],
      [{ token: TOKEN, expiresAtMs: 'soon' }, /finite number/],
      [{ token: TOKEN, expiresAtMs: Number.NaN }, /finite number/],
      [{ token: TOKEN, expiresAtMs: now }, /expired already/],
      [{ token: TOKEN, expiresAtMs: now / 1000 + 3600 }, /looks like seconds/],
      [{ token: TOKEN, expiresAtMs: now + 1, principal: 7 }, /principal must be a string/],
      [{ token: TOKEN, expiresAtMs: now + 1, extensions: ['x'] }, /object of strings/],
      [{ token: TOKEN, expiresAtMs: now + 1, extensions: { auth: 'x' } }, /reserved/],
    ] as const) {
      const r = checkToken(raw, now)
      assert.equal(typeof r, 'string', String(reason))
      assert.match(r as string, reason)
      assert.ok(!(r as string).includes('secretpart') && !(r as string).includes(TOKEN))
    }
  })

  it("describes the broker's error document, escaped; unreadable ones too", () => {
    assert.equal(
      describeServerError('{"status":"invalid_token","scope":"kafka","openid-configuration":"https://x/"}'),
      'status "invalid_token", scope "kafka", openid-configuration "https://x/"',
    )
    assert.equal(
      describeServerError('{"status":"bad\\ntoken T0K"}', ['T0K']),
      'status "bad\\u000atoken [redacted]"',
    )
    assert.equal(describeServerError('not json'), 'an error the client cannot read (not JSON)')
    assert.equal(describeServerError('[1]'), 'an error that is not a JSON object')
    assert.equal(describeServerError('{}'), 'an error without a status')
  })
})

describe('OAUTHBEARER tokens from the callback', () => {
  function source(
    cb: OAuthCallback,
    clock = new ManualClock(),
  ): { tokens: OAuthTokenSource; clock: ManualClock } {
    return { tokens: new OAuthTokenSource(cb, 'cfg', clock), clock }
  }

  it('calls the callback with sasl.oauthbearer.config, caches the token, refreshes at 80 % of its lifetime', async () => {
    const clock = new ManualClock()
    const configs: (string | null)[] = []
    let n = 0
    const { tokens } = source((config) => {
      configs.push(config)
      return { token: `tok${++n}`, expiresAtMs: clock.now() + 10_000 }
    }, clock)
    assert.equal((await tokens.current()).value(), 'tok1')
    clock.advance(7_999)
    assert.equal((await tokens.current()).value(), 'tok1')
    clock.advance(1)
    assert.equal((await tokens.current()).value(), 'tok2', 'refreshed at 8 s of 10 s')
    assert.deepEqual(configs, ['cfg', 'cfg'])
    assert.equal(tokens.calls, 2)
  })

  it('an async callback is awaited, and concurrent connections share one call', async () => {
    let resolve!: (t: OAuthBearerToken) => void
    const clock = new ManualClock()
    const { tokens } = source(() => new Promise<OAuthBearerToken>((r) => (resolve = r)), clock)
    const a = tokens.current()
    const b = tokens.current()
    resolve({ token: TOKEN, expiresAtMs: clock.now() + HOUR })
    assert.equal((await a).value(), TOKEN)
    assert.equal((await b).value(), TOKEN)
    assert.equal(tokens.calls, 1)
  })

  it('a call that never settles is not waited for forever', async () => {
    const clock = new ManualClock()
    let calls = 0
    const { tokens } = source(
      () =>
        ++calls === 1
          ? new Promise<OAuthBearerToken>(() => undefined)
          : { token: 't', expiresAtMs: clock.now() + HOUR },
      clock,
    )
    void tokens.current()
    clock.advance(STALE_CALL_MS)
    assert.equal((await tokens.current()).value(), 't')
  })

  it('a failing refresh keeps the cached token while it is valid, never past its expiry', async () => {
    const clock = new ManualClock()
    let fail = false
    const { tokens } = source(() => {
      if (fail) throw new Error('identity provider down')
      return { token: 'first', expiresAtMs: clock.now() + 10_000 }
    }, clock)
    await tokens.current()
    fail = true
    clock.advance(9_000)
    assert.equal((await tokens.current()).value(), 'first')
    clock.advance(1_000)
    await assert.rejects(tokens.current(), {
      code: '_AUTHENTICATION',
      message: 'the OAUTHBEARER token callback (oauth_cb) failed: identity provider down',
    })
  })

  it('a callback that throws synchronously, rejects, or returns garbage gives _AUTHENTICATION', async () => {
    for (const cb of [
      (): never => {
        throw new Error('sync boom')
      },
      () => Promise.reject(new Error('async boom')),
      () => ({ token: 'bad token secretpart', expiresAtMs: Date.now() + HOUR }) as OAuthBearerToken,
      () => 'just a string' as unknown as OAuthBearerToken,
    ]) {
      const { tokens } = source(cb as OAuthCallback)
      const e = await tokens.current().then(
        () => assert.fail('must fail'),
        (err: unknown) => err as KafkaError,
      )
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, '_AUTHENTICATION')
      assert.match(
        e.message,
        /^the OAUTHBEARER token callback \(oauth_cb\) (failed: (sync|async) boom|returned an invalid token: )/,
      )
      assert.ok(!e.message.includes('secretpart'))
    }
  })
})

describe('OAUTHBEARER against the fake broker', () => {
  it('sends the token with its extensions and connects; the broker sees the bytes of RFC 7628', async () => {
    const broker = new FakeSaslBroker()
    const clock = new ManualClock()
    const step = saslAuthenticator({
      mechanism: 'OAUTHBEARER',
      oauthCb: async () => ({
        token: TOKEN,
        expiresAtMs: clock.now() + HOUR,
        extensions: { logicalCluster: 'lkc-1' },
      }),
      clock,
    })
    const { conn } = saslConnection(broker, step, { clock })
    await conn.connect()
    assert.equal(conn.isReady, true)
    assert.equal(
      broker.rounds[0]!.authBytes.toString(),
      `n,,\x01auth=Bearer ${TOKEN}\x01logicalCluster=lkc-1\x01\x01`,
    )
    conn.close()
  })

  it('a refused token: %x01 is sent, and the error gives the broker status, principal, never the token', async () => {
    const broker = new FakeSaslBroker()
    broker.checkToken = () => 'invalid_token'
    const clock = new ManualClock()
    const step = saslAuthenticator({
      mechanism: 'OAUTHBEARER',
      oauthCb: () => ({ token: TOKEN, expiresAtMs: clock.now() + HOUR, principal: 'svc-orders' }),
      clock,
    })
    const { conn } = saslConnection(broker, step, { clock })
    const err = await conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    assert.deepEqual(
      broker.rounds.map((r) => r.authBytes.toString()),
      [`n,,\x01auth=Bearer ${TOKEN}\x01\x01`, '\x01'],
    )
    assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED')
    assert.equal(err.retriable, false)
    assert.equal(
      err.message,
      'broker1:9092: SASL OAUTHBEARER authentication as principal "svc-orders" failed: Authentication failed ' +
        'during authentication due to invalid credentials with SASL mechanism OAUTHBEARER ' +
        '(the broker reported status "invalid_token", scope "kafka")',
    )
    assert.ok(!err.message.includes(TOKEN))
  })

  it('a broker that carries on after its error document is not believed', async () => {
    const broker = new FakeSaslBroker()
    broker.checkToken = () => 'invalid_token'
    broker.tamper = (round, a) =>
      round.round === 2 ? { ...a, errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0) } : a
    const clock = new ManualClock()
    const step = saslAuthenticator({
      mechanism: 'OAUTHBEARER',
      oauthCb: () => ({ token: TOKEN, expiresAtMs: clock.now() + HOUR }),
      clock,
    })
    await assert.rejects(saslConnection(broker, step, { clock }).conn.connect(), {
      code: 'SASL_AUTHENTICATION_FAILED',
      message:
        'broker1:9092: SASL OAUTHBEARER authentication failed: the broker reported status "invalid_token", scope "kafka"',
    })
  })

  it('a failing callback fails connect() before any SaslAuthenticate, naming broker and mechanism', async () => {
    const broker = new FakeSaslBroker()
    const step = saslAuthenticator({
      mechanism: 'OAUTHBEARER',
      oauthCb: () => {
        throw new Error('no credentials for the identity provider')
      },
    })
    await assert.rejects(saslConnection(broker, step).conn.connect(), {
      code: '_AUTHENTICATION',
      message:
        'broker1:9092: SASL OAUTHBEARER authentication failed: the OAUTHBEARER token callback (oauth_cb) ' +
        'failed: no credentials for the identity provider',
    })
    assert.equal(broker.rounds.length, 0)
  })

  it('new connections reuse the token until 80 % of its life, then get a fresh one', async () => {
    const broker = new FakeSaslBroker()
    const clock = new ManualClock()
    let n = 0
    const step = saslAuthenticator({
      mechanism: 'OAUTHBEARER',
      oauthCb: () => ({ token: `token${++n}`, expiresAtMs: clock.now() + 100_000 }),
      clock,
    })
    for (const advance of [0, 50_000, 30_000, 1]) {
      clock.advance(advance)
      const { conn } = saslConnection(broker, step, { clock })
      await conn.connect()
      conn.close()
    }
    assert.deepEqual(broker.tokens, ['token1', 'token1', 'token2', 'token2'])
  })
})
