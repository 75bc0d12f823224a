import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../../src/errors/index.js'
import type { AuthenticationContext, Connection } from '../../../../src/network/connection.js'
import { saslAuthenticator } from '../../../../src/network/sasl/index.js'
import {
  MIN_REAUTHENTICATION_DELAY_MS,
  reauthenticationDelayMs,
} from '../../../../src/network/reauthentication.js'
import { MetadataApi, type MetadataRequest, type MetadataResponse } from '../../../../src/protocol/index.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { settle } from '../../../helpers/fake-broker.js'
import { FakeSaslBroker, saslConnection } from '../../../helpers/fake-sasl.js'

const metadata = (topic: string): MetadataRequest => ({
  topics: [{ topicId: Buffer.alloc(16), name: topic }],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
})

const plain = () => saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' })

/** A connected PLAIN connection whose broker grants sessions of `lifetime` ms; re-auth at 90 %. */
async function connected(lifetime = 100_000, opts: { connectTimeoutMs?: number } = {}) {
  const broker = new FakeSaslBroker()
  broker.sessionLifetimeMs = lifetime
  const contexts: AuthenticationContext[] = []
  const step = plain()
  const { conn, clock, closes } = saslConnection(
    broker,
    (ctx) => {
      contexts.push(ctx)
      return step(ctx)
    },
    { random: () => 0.5, ...opts },
  )
  await conn.connect()
  return { broker, conn, clock, closes, contexts }
}

/** Sends Metadata for `topic`; records the topic name when the answer comes, in `order`. */
function ask(conn: Connection, topic: string, order: string[]): Promise<MetadataResponse> {
  return conn.request(MetadataApi, metadata(topic)).then((res) => {
    order.push(res.topics[0]!.name!)
    return res
  })
}

function apiNames(broker: FakeSaslBroker): string[] {
  return broker.cluster.requests.map((r) =>
    r.apiName === 'Metadata' ? `Metadata:${(r.body as MetadataRequest).topics![0]!.name}` : r.apiName,
  )
}

describe('re-authentication timing (KIP-368)', () => {
  it('picks a point between 85 % and 95 % of the session, with a floor and the timer ceiling', () => {
    assert.equal(
      reauthenticationDelayMs(100_000, () => 0),
      85_000,
    )
    assert.equal(
      reauthenticationDelayMs(100_000, () => 0.5),
      90_000,
    )
    assert.equal(
      reauthenticationDelayMs(100_000, () => 0.999999),
      94_999,
    )
    assert.equal(
      reauthenticationDelayMs(100_000, () => 7),
      95_000,
      'a broken random source is clamped',
    )
    assert.equal(
      reauthenticationDelayMs(10, () => 0.5),
      MIN_REAUTHENTICATION_DELAY_MS,
    )
    assert.equal(
      reauthenticationDelayMs(Number.MAX_SAFE_INTEGER, () => 0.5),
      2 ** 31 - 1,
    )
    for (const none of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(
        reauthenticationDelayMs(none, () => 0.5),
        null,
      )
    }
  })

  it('re-authenticates on the same connection at the chosen point, then schedules the next one', async () => {
    const { broker, conn, clock, contexts } = await connected()
    assert.equal(clock.pendingTimers, 1, 'the re-authentication timer')
    clock.advance(89_999)
    await settle(5)
    assert.equal(broker.rounds.length, 1)
    clock.advance(1)
    await settle(10)
    assert.deepEqual(apiNames(broker), [
      'ApiVersions',
      'SaslHandshake',
      'SaslAuthenticate',
      'SaslHandshake',
      'SaslAuthenticate',
    ])
    assert.equal(broker.cluster.connections.length, 1, 'no new connection')
    assert.deepEqual(
      contexts.map((c) => c.reauthentication),
      [false, true],
    )
    assert.equal(conn.isReady, true)
    assert.equal(clock.pendingTimers, 1, 'the next one is scheduled')
    clock.advance(90_000)
    await settle(10)
    assert.equal(broker.rounds.length, 3)
    conn.close()
    assert.equal(clock.pendingTimers, 0, 'close() cancels the timer')
  })

  it('no session lifetime (0, or SaslAuthenticate v0) means no timer', async () => {
    const { conn, clock } = await connected(0)
    assert.equal(clock.pendingTimers, 0)
    conn.close()
  })
})

describe('re-authentication with requests in flight', () => {
  it('holds new requests, lets earlier answers through, then sends the held ones in order: nothing lost or reordered', async () => {
    const { broker, conn, clock } = await connected()
    broker.holdMetadata = true
    clock.advance(89_000)
    const order: string[] = []
    const early = [ask(conn, 'a', order), ask(conn, 'b', order)]
    await settle(3)
    clock.advance(1_000)
    await settle(5)
    // The handshake is on the wire behind a and b; the broker answers in order, so it waits for them.
    assert.deepEqual(apiNames(broker).slice(3), ['Metadata:a', 'Metadata:b', 'SaslHandshake'])
    const late = [ask(conn, 'c', order), ask(conn, 'd', order)]
    await settle(5)
    assert.equal(conn.isReady, true)
    assert.deepEqual(apiNames(broker).slice(3), ['Metadata:a', 'Metadata:b', 'SaslHandshake'], 'c and d held')
    assert.equal(conn.inFlight, 4, 'a and b sent, c and d held; the handshake does not count')
    broker.holdMetadata = false
    broker.release()
    await Promise.all([...early, ...late])
    assert.deepEqual(order, ['a', 'b', 'c', 'd'])
    assert.deepEqual(apiNames(broker).slice(3), [
      'Metadata:a',
      'Metadata:b',
      'SaslHandshake',
      'SaslAuthenticate',
      'Metadata:c',
      'Metadata:d',
    ])
    const ids = broker.cluster.requests.map((r) => r.correlationId)
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
      'correlation ids in sending order',
    )
    assert.equal(conn.inFlight, 0)
    assert.equal(conn.isReady, true)
    conn.close()
  })

  it('a re-authentication the broker refuses closes the connection: earlier answers arrive, held requests fail with the error', async () => {
    const { broker, conn, clock, closes } = await connected()
    broker.holdMetadata = true
    clock.advance(89_000)
    const order: string[] = []
    const early = ask(conn, 'a', order)
    await settle(3)
    broker.users.set('alice', 'rotated-away') // the credential changed since the connection was opened
    clock.advance(1_000)
    await settle(5)
    const late = ask(conn, 'b', order).then(
      () => assert.fail('must not be sent'),
      (e: unknown) => e as KafkaError,
    )
    broker.holdMetadata = false
    broker.release()
    await early
    const err = await late
    assert.deepEqual(order, ['a'])
    assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED')
    assert.equal(err.retriable, false)
    assert.match(
      err.message,
      /^broker1:9092: SASL PLAIN re-authentication as user "alice" failed: Authentication failed/,
    )
    assert.equal(conn.isClosed, true)
    assert.deepEqual(closes, [err])
    assert.ok(!apiNames(broker).includes('Metadata:b'))
    assert.equal(clock.pendingTimers, 0)
  })

  it('a re-authentication that gets no answer is bounded by the setup timeout', async () => {
    const { broker, conn, clock, closes } = await connected(100_000, { connectTimeoutMs: 4000 })
    broker.tamper = () => 'hold'
    clock.advance(90_000)
    await settle(5)
    const held = conn.request(MetadataApi, metadata('a')).then(
      () => assert.fail('must not be sent'),
      (e: unknown) => e as KafkaError,
    )
    clock.advance(3999)
    await settle(3)
    assert.equal(conn.isClosed, false)
    clock.advance(1)
    const err = await held
    assert.equal(err.code, '_TRANSPORT')
    assert.equal(err.retriable, true)
    assert.equal(err.message, 'broker1:9092: re-authentication timed out after 4000 ms')
    assert.deepEqual(closes, [err])
    assert.equal(clock.pendingTimers, 0)
  })

  it('a connection lost during re-authentication fails the held requests with the transport error', async () => {
    const { broker, conn, clock } = await connected()
    broker.tamper = () => 'hold'
    clock.advance(90_000)
    await settle(5)
    const held = conn.request(MetadataApi, metadata('a')).then(
      () => assert.fail('must not be sent'),
      (e: unknown) => e as KafkaError,
    )
    broker.cluster.connections[0]!.close()
    const err = await held
    assert.equal(err.code, '_TRANSPORT')
    assert.match(err.message, /connection closed by broker/)
    assert.equal(clock.pendingTimers, 0)
  })

  it('OAUTHBEARER re-authentication presents a fresh token, since the session ends with the token', async () => {
    const broker = new FakeSaslBroker()
    const clock = new ManualClock()
    broker.sessionLifetimeMs = 100_000 // the broker bounds the session by the token's expiry
    let n = 0
    const step = saslAuthenticator({
      mechanism: 'OAUTHBEARER',
      oauthCb: () => ({ token: `token${++n}`, expiresAtMs: clock.now() + 100_000 }),
      clock,
    })
    const { conn } = saslConnection(broker, step, { clock, random: () => 0 })
    await conn.connect()
    clock.advance(85_000)
    await settle(10)
    assert.deepEqual(broker.tokens, ['token1', 'token2'])
    assert.equal(conn.isReady, true)
    conn.close()
  })
})

describe('re-authentication and the process', () => {
  it('a scheduled re-authentication does not keep the process alive (the real clock unrefs its timer)', () => {
    // A child process connects (real clock, in-process broker) with a one-hour session and returns:
    // it must exit at once instead of waiting for the re-authentication timer.
    const helper = new URL('../../../helpers/fake-sasl.js', import.meta.url).href
    const sasl = new URL('../../../../src/network/sasl/index.js', import.meta.url).href
    const script = `
      import { FakeSaslBroker, saslConnection } from ${JSON.stringify(helper)}
      import { saslAuthenticator } from ${JSON.stringify(sasl)}
      import { systemClock } from ${JSON.stringify(new URL('../../../../src/util/clock.js', import.meta.url).href)}
      const broker = new FakeSaslBroker()
      broker.sessionLifetimeMs = 3_600_000
      const step = saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' })
      const { conn } = saslConnection(broker, step, { clock: systemClock })
      await conn.connect()
      console.log(conn.isReady ? 'ready' : 'not ready')
    `
    const started = Date.now()
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 })
    assert.equal(out.toString().trim(), 'ready')
    assert.ok(Date.now() - started < 15_000)
  })
})
