import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError, type KafkaErrorCode } from '../../../../src/errors/index.js'
import { saslExchange } from '../../../../src/network/sasl/exchange.js'
import { saslAuthenticator } from '../../../../src/network/sasl/index.js'
import type { SaslFail } from '../../../../src/network/sasl/mechanism.js'
import { SaltedPasswordCache } from '../../../../src/network/sasl/salted-password-cache.js'
import {
  MAX_ITERATIONS,
  ScramMechanism,
  clientFirstMessageBare,
  parseServerFinal,
  parseServerFirst,
  scramProof,
  scramUsername,
} from '../../../../src/network/sasl/scram.js'
import { FakeSaslBroker, saslConnection } from '../../../helpers/fake-sasl.js'

const fail: SaslFail = (code: KafkaErrorCode, reason: string) => new KafkaError(code, `test: ${reason}`)

/** Runs one session against scripted server messages; returns the client's messages. */
async function exchange(mechanism: ScramMechanism, server: (string | Buffer)[]): Promise<string[]> {
  const session = mechanism.session(fail)
  const out = [(await session.first()).toString('utf8')]
  for (const m of server) {
    const next = await session.next(Buffer.isBuffer(m) ? m : Buffer.from(m, 'utf8'))
    if (next === null) break
    out.push(next.toString('utf8'))
  }
  return out
}

// RFC 7677 §3: SCRAM-SHA-256 for user "user", password "pencil".
const RFC7677 = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
}

// SCRAM-SHA-512, computed independently with Python's hashlib (pbkdf2_hmac, hmac) for user
// "ali=ce,bob" (escaped on the wire), password "pāss wörd" (UTF-8), salt "saltysaltysalty", 8192
// iterations, and the client nonce that 24 random bytes de ad be ef 00… give in base64.
const SHA512 = {
  randomBytes: Buffer.concat([Buffer.from([0xde, 0xad, 0xbe, 0xef]), Buffer.alloc(20)]),
  clientFirst: 'n,,n=ali=3Dce=2Cbob,r=3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAA',
  serverNonce: 'c2VydmVyLW5vbmNl',
  salt: 'c2FsdHlzYWx0eXNhbHR5',
  serverFirst: 'r=3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAc2VydmVyLW5vbmNl,s=c2FsdHlzYWx0eXNhbHR5,i=8192',
  clientFinal:
    'c=biws,r=3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAc2VydmVyLW5vbmNl,p=aMr76d5ioT3yeNE3X5Wuvp1mTiGisc69irCGGdCOiMxbiBv9uOsF93+AlpOPTCgdAECCp1OWRTizPU4p126gpw==',
  serverFinal: 'v=lj7GXDYxHYZi/c/wN05DDzTYtYZ6vdxt78hG9Nng3v9XUwCSF+1BXd4QJ4uJJgkzREIfCl+k+gJyAQN1QVKs6g==',
}

const NONCE = 'rOprNGfwEbeRWgbNEkqO'
const SALT = 'W22ZaJ0SNY7soEsUEjb6gQ=='

describe('SCRAM messages (RFC 5802)', () => {
  it('computes the RFC 7677 SCRAM-SHA-256 test vector step by step', async () => {
    assert.equal(clientFirstMessageBare('user', NONCE), RFC7677.clientFirst.slice(3))
    const first = parseServerFirst(RFC7677.serverFirst, NONCE)
    assert.ok(typeof first !== 'string', String(first))
    assert.equal(first.iterations, 4096)
    assert.equal(first.salt.toString('base64'), SALT)
    const salted = await new SaltedPasswordCache('pencil').get('sha256', first.salt, 4096)
    const authMessage = `${RFC7677.clientFirst.slice(3)},${RFC7677.serverFirst},${RFC7677.clientFinal.split(',p=')[0]}`
    const { clientProof, serverSignature } = scramProof('sha256', salted, authMessage)
    assert.equal(`p=${clientProof.toString('base64')}`, RFC7677.clientFinal.split(',').at(-1))
    assert.equal(`v=${serverSignature.toString('base64')}`, RFC7677.serverFinal)
  })

  it('a SCRAM-SHA-256 session produces the RFC 7677 messages and accepts its server signature', async () => {
    const mech = new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil', { nonce: () => NONCE })
    const sent = await exchange(mech, [RFC7677.serverFirst, RFC7677.serverFinal])
    assert.deepEqual(sent, [RFC7677.clientFirst, RFC7677.clientFinal])
  })

  it('a SCRAM-SHA-512 session matches the vector computed with Python (escaped user, UTF-8 password)', async () => {
    const mech = new ScramMechanism('SCRAM-SHA-512', 'ali=ce,bob', 'pāss wörd', {
      randomBytes: (n) => (assert.equal(n, 24), SHA512.randomBytes),
    })
    const sent = await exchange(mech, [SHA512.serverFirst, SHA512.serverFinal])
    assert.deepEqual(sent, [SHA512.clientFirst, SHA512.clientFinal])
  })

  it("escapes '=' and ',' in the user name (saslname)", () => {
    assert.equal(scramUsername('a=b,c=,'), 'a=3Db=2Cc=3D=2C')
    assert.equal(scramUsername('plain'), 'plain')
  })

  it('nonces come from crypto: 192 bits in base64, different every time', async () => {
    const mech = new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil')
    const a = (await mech.session(fail).first()).toString()
    const b = (await mech.session(fail).first()).toString()
    assert.match(a, /^n,,n=user,r=[A-Za-z0-9+/]{32}$/)
    assert.notEqual(a, b)
  })

  const ours = 'abc'
  const salt = 'c2FsdA=='
  for (const [name, message, reason] of [
    ['an empty message', '', /no nonce/],
    ['a nonce that is not ours', `r=xyz123,s=${salt},i=4096`, /does not extend the client nonce/],
    ['our nonce without the server part', `r=${ours},s=${salt},i=4096`, /does not extend/],
    ['a nonce with a control character', `r=${ours}\u0000x,s=${salt},i=4096`, /malformed nonce/],
    ['attributes out of order', `s=${salt},r=${ours}x,i=4096`, /no nonce/],
    ['no salt', `r=${ours}x,i=4096`, /no salt/],
    ['an empty salt', `r=${ours}x,s=,i=4096`, /malformed salt/],
    ['a salt that is not base64', `r=${ours}x,s=c2Fs*A==,i=4096`, /malformed salt/],
    ['unpadded base64', `r=${ours}x,s=c2FsdA,i=4096`, /malformed salt/],
    ['no iteration count', `r=${ours}x,s=${salt}`, /no iteration count/],
    ['a non-numeric count', `r=${ours}x,s=${salt},i=4096x`, /malformed iteration count/],
    ['a count with a leading zero', `r=${ours}x,s=${salt},i=04096`, /malformed iteration count/],
    ['a negative count', `r=${ours}x,s=${salt},i=-4096`, /malformed iteration count/],
    ['too few iterations', `r=${ours}x,s=${salt},i=4095`, /4095 is below the minimum of 4096/],
    ['too many iterations', `r=${ours}x,s=${salt},i=${MAX_ITERATIONS + 1}`, /above the maximum of 1000000/],
    ['an absurd count', `r=${ours}x,s=${salt},i=99999999999`, /malformed iteration count/],
    ['a mandatory extension', `m=x,r=${ours}x,s=${salt},i=4096`, /requires a SCRAM extension/],
    ['garbage after the count', `r=${ours}x,s=${salt},i=4096,garbage`, /malformed attribute/],
  ] as const) {
    it(`refuses a server-first message with ${name}`, () => {
      const parsed = parseServerFirst(message, ours)
      assert.equal(typeof parsed, 'string')
      assert.match(parsed as string, reason)
    })
  }

  it('accepts extensions after the iteration count and exactly the bounds of the count', () => {
    for (const i of [4096, MAX_ITERATIONS]) {
      const parsed = parseServerFirst(`r=${ours}x,s=${salt},i=${i},x=ext`, ours)
      assert.ok(typeof parsed !== 'string')
      assert.equal(parsed.iterations, i)
    }
  })

  it('reads a server-final message: the verifier, or the error; anything else is refused', () => {
    assert.deepEqual(parseServerFinal('v=AAEC'), { verifier: Buffer.from([0, 1, 2]) })
    assert.deepEqual(parseServerFinal('e=invalid-proof'), { error: 'invalid-proof' })
    assert.match(parseServerFinal('') as string, /neither a verifier/)
    assert.match(parseServerFinal('x=1') as string, /neither a verifier/)
    assert.match(parseServerFinal('v=not base64') as string, /malformed verifier/)
    assert.match(parseServerFinal('v=') as string, /malformed verifier/)
    assert.match(parseServerFinal('v=AAEC,junk') as string, /malformed attribute/)
  })
})

describe('SCRAM sessions against hostile servers', () => {
  const mech = (): ScramMechanism =>
    new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil', { nonce: () => NONCE })

  async function refusal(server: (string | Buffer)[], m = mech()): Promise<KafkaError> {
    return exchange(m, server).then(
      () => assert.fail('must fail'),
      (e: unknown) => {
        assert.ok(e instanceof KafkaError, String(e))
        assert.ok(!e.message.includes('pencil'))
        return e
      },
    )
  }

  it('a wrong server signature fails with _AUTHENTICATION: the broker did not prove itself', async () => {
    const wrong = `v=${Buffer.alloc(32, 7).toString('base64')}`
    const short = `v=${Buffer.alloc(16, 7).toString('base64')}`
    for (const final of [wrong, short]) {
      const e = await refusal([RFC7677.serverFirst, final])
      assert.equal(e.code, '_AUTHENTICATION')
      assert.equal(e.retriable, false)
      assert.match(e.message, /server signature mismatch/)
    }
  })

  it("a server error (e=) fails with SASL_AUTHENTICATION_FAILED and the server's words, escaped", async () => {
    const e = await refusal([RFC7677.serverFirst, 'e=invalid-proof\nforged line'])
    assert.equal(e.code, 'SASL_AUTHENTICATION_FAILED')
    assert.equal(e.message, 'test: server error: invalid-proof\\u000aforged line')
  })

  it('a malformed message, invalid UTF-8 or an oversized one is refused without computing anything', async () => {
    const m = mech()
    for (const first of [
      `r=${NONCE}x,s=${SALT},i=${MAX_ITERATIONS * 1000}`,
      Buffer.from([0x72, 0x3d, 0xff, 0xfe]),
      'r=' + 'x'.repeat(20_000),
    ]) {
      const e = await refusal([first], m)
      assert.equal(e.code, '_AUTHENTICATION')
      assert.match(e.message, /malformed server-first|not valid UTF-8|over the 16384-byte limit/)
    }
    assert.equal(m.cachedSaltedPasswords, 0)
  })

  it('caches the salted password per salt and iteration count, and shares a computation in progress', async () => {
    const cache = new SaltedPasswordCache('pencil')
    const salt = Buffer.from(SALT, 'base64')
    const a = cache.get('sha256', salt, 4096)
    assert.equal(cache.get('sha256', salt, 4096), a, 'the same promise while computing')
    await a
    assert.equal(cache.get('sha256', salt, 4096), a)
    assert.notEqual(cache.get('sha256', salt, 8192), a)
    assert.notEqual(cache.get('sha512', salt, 4096), a)
    for (let i = 0; i < 6; i++) await cache.get('sha256', Buffer.from([i]), 4096)
    assert.equal(cache.size, 4, 'bounded')
  })
})

describe('SCRAM against the fake broker', () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`${mechanism}: authenticates in two rounds, and a reconnect reuses the salted password`, async () => {
      const broker = new FakeSaslBroker()
      broker.sessionLifetimeMs = 0
      const mech = new ScramMechanism(mechanism, 'alice', 'alice-secret')
      for (let i = 0; i < 2; i++) {
        const { conn } = saslConnection(broker, (ctx) => saslExchange(ctx, mech))
        await conn.connect()
        assert.equal(conn.isReady, true)
        assert.equal(mech.cachedSaltedPasswords, 1)
        conn.close()
      }
      assert.deepEqual(
        broker.rounds.map((r) => [r.mechanism, r.round]),
        [
          [mechanism, 1],
          [mechanism, 2],
          [mechanism, 1],
          [mechanism, 2],
        ],
      )
    })
  }

  it('the Python SHA-512 vector end to end: settings, randomBytes seam, broker', async () => {
    const broker = new FakeSaslBroker()
    broker.users.set('ali=ce,bob', 'pāss wörd')
    broker.salt = Buffer.from(SHA512.salt, 'base64')
    broker.iterations = 8192
    broker.serverNonce = SHA512.serverNonce
    const step = saslAuthenticator({
      mechanism: 'SCRAM-SHA-512',
      username: 'ali=ce,bob',
      password: 'pāss wörd',
      randomBytes: () => SHA512.randomBytes,
    })
    const { conn } = saslConnection(broker, step)
    await conn.connect()
    assert.deepEqual(
      broker.rounds.map((r) => r.authBytes.toString('utf8')),
      [SHA512.clientFirst, SHA512.clientFinal],
    )
    conn.close()
  })

  it('a wrong password fails with the broker’s SASL_AUTHENTICATION_FAILED, never showing the password', async () => {
    const broker = new FakeSaslBroker()
    const step = saslAuthenticator({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'not-hers' })
    const { conn } = saslConnection(broker, step)
    const err = await conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED')
    assert.equal(err.retriable, false)
    assert.match(
      err.message,
      /^broker1:9092: SASL SCRAM-SHA-256 authentication as user "alice" failed: Authentication failed/,
    )
    assert.ok(!err.message.includes('not-hers'))
  })

  it('an impostor broker that accepts any proof is caught by the server signature', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = (round, answer) =>
      round.round === 2
        ? { ...answer, errorCode: 0, authBytes: Buffer.from(`v=${Buffer.alloc(32).toString('base64')}`) }
        : answer
    const step = saslAuthenticator({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'any' })
    const { conn } = saslConnection(broker, step)
    await assert.rejects(conn.connect(), {
      code: '_AUTHENTICATION',
      message:
        'broker1:9092: SASL SCRAM-SHA-256 authentication as user "alice" failed: server signature mismatch: ' +
        'the broker did not prove that it knows the credential',
    })
    assert.equal(conn.isClosed, true)
  })

  it('a hostile server-first message (a nonce that is not ours) ends the exchange at once', async () => {
    const broker = new FakeSaslBroker()
    broker.tamper = (round, answer) =>
      round.round === 1 ? { ...answer, authBytes: Buffer.from(`r=forged,s=${SALT},i=4096`) } : answer
    const step = saslAuthenticator({
      mechanism: 'SCRAM-SHA-512',
      username: 'alice',
      password: 'alice-secret',
    })
    const { conn } = saslConnection(broker, step)
    await assert.rejects(conn.connect(), {
      code: '_AUTHENTICATION',
      message: /malformed server-first message: the nonce does not extend the client nonce$/,
    })
    assert.equal(broker.rounds.length, 1)
  })
})
