// What the producer does when SASL or TLS refuses its connections (issue 11): the records waiting for
// the refusing broker fail with the refusal soon, not at delivery.timeout.ms; error_cb hears it once
// per broker; reconnects back off exponentially instead of storming; other brokers keep working.
// The refusal is injected as the connection's authentication step (where SASL runs), over the fake
// cluster; test/integration/security.test.ts shows the same against a real secured broker.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { KafkaError } from '../../../src/errors/index.js'
import { KafkaError as KafkaErrorClass } from '../../../src/errors/index.js'
import { Connection, type ConnectionOptions } from '../../../src/network/connection.js'
import { Deliveries } from '../../helpers/deliveries.js'
import { closeFakeProducers, fakeProducer } from '../../helpers/fake-producer.js'

afterEach(closeFakeProducers)

const BROKERS = [
  { nodeId: 1, host: 'broker1', port: 9092 },
  { nodeId: 2, host: 'broker2', port: 9093 },
]

/** A connection factory whose authentication step refuses the addresses in `refused`. */
function refusing(refused: Set<string>, attempts: Map<string, number>) {
  return (o: ConnectionOptions): Connection => {
    const address = `${o.host}:${o.port}`
    return new Connection({
      ...o,
      authenticate: async () => {
        attempts.set(address, (attempts.get(address) ?? 0) + 1)
        if (refused.has(address)) {
          throw new KafkaErrorClass(
            'SASL_AUTHENTICATION_FAILED',
            `${address}: Authentication failed: Invalid username or password`,
            { retriable: false },
          )
        }
      },
    })
  }
}

describe('SASL/TLS refusals', () => {
  it('fail records waiting for metadata within a reconnect backoff, report once, and back off', async () => {
    const attempts = new Map<string, number>()
    const errors: KafkaError[] = []
    const d = new Deliveries()
    const { producer, pump } = fakeProducer(
      {
        'linger.ms': 0,
        'reconnect.backoff.ms': 100,
        'reconnect.backoff.max.ms': 1_000,
        'delivery.timeout.ms': 120_000,
        error_cb: (e: KafkaError) => errors.push(e),
      },
      { brokers: [BROKERS[0]!], topics: { t: { partitions: 1 } } },
      7,
      { connectionFactory: refusing(new Set(['broker1:9092']), attempts) },
    )
    for (const id of ['a', 'b', 'c']) producer.produce({ topic: 't', value: id }, d.cb(id))
    await pump(0)
    for (const id of ['a', 'b', 'c']) {
      const { err } = d.one(id)
      assert.equal(err?.code, 'SASL_AUTHENTICATION_FAILED', id)
      assert.equal(err?.retriable, false)
      assert.match(err!.message, /Invalid username or password/)
    }
    // 30 s of a producer that keeps trying: records sent later fail too, each within the backoff.
    let n = 0
    for (let t = 0; t < 30_000; t += 250) {
      const id = `late-${n++}`
      producer.produce({ topic: 't', value: id }, d.cb(id))
      await pump(250)
    }
    for (let i = 0; i < 3; i++) await pump(1_000)
    d.assertAllOnce()
    for (const [id, calls] of d.calls) assert.equal(calls[0]!.err?.code, 'SASL_AUTHENTICATION_FAILED', id)
    const tries = attempts.get('broker1:9092') ?? 0
    // 100, 200, 400, 800 ms and then at most one attempt a second (±20 % jitter): about 33 in 30 s,
    // where a retry every retry.backoff.ms (100 ms) would make 300.
    assert.ok(tries >= 20 && tries <= 45, `${tries} attempts in 30 s`)
    const auth = errors.filter((e) => e.code === 'SASL_AUTHENTICATION_FAILED')
    assert.equal(auth.length, 1, 'error_cb hears the refusal once per broker')
  })

  it("fail the refusing leader's batches while the other broker's partitions are delivered", async () => {
    const attempts = new Map<string, number>()
    const refused = new Set<string>()
    const d = new Deliveries()
    const { producer, pump, cluster } = fakeProducer(
      { 'linger.ms': 0, 'reconnect.backoff.ms': 100, 'delivery.timeout.ms': 120_000 },
      { brokers: BROKERS, topics: { t: { partitions: [{ leader: 1 }, { leader: 2 }] } } },
      7,
      { connectionFactory: refusing(refused, attempts) },
    )
    refused.add('broker2:9093')
    for (let i = 0; i < 4; i++) {
      producer.produce({ topic: 't', partition: 0, value: `p0-${i}` }, d.cb(`p0-${i}`))
      producer.produce({ topic: 't', partition: 1, value: `p1-${i}` }, d.cb(`p1-${i}`))
    }
    await pump(0)
    await pump(200)
    for (let i = 0; i < 4; i++) {
      assert.equal(d.one(`p0-${i}`).err, null)
      assert.equal(d.one(`p1-${i}`).err?.code, 'SASL_AUTHENTICATION_FAILED')
    }
    assert.equal(cluster.log('t', 0).length, 4)
    assert.equal(cluster.log('t', 1).length, 0)
    // The broker learns the credentials: the next attempt after the backoff works again.
    refused.clear()
    await pump(2_000)
    producer.produce({ topic: 't', partition: 1, value: 'after' }, d.cb('after'))
    await pump(0)
    await pump(100)
    assert.equal(d.one('after').err, null)
    assert.equal(cluster.log('t', 1).length, 1)
  })
})
