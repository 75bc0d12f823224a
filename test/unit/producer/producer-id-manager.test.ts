// The producer-id manager's lifecycle, transition by transition, with a manual clock and a scripted
// InitProducerId answer: uninitialized → initializing → ready, retriable failures back off, a broken
// sequence waits for the in-flight requests before the epoch bump, an exhausted epoch asks for a new
// id, and fatal errors are reported once and end the lifecycle.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BrokerAddress } from '../../../src/cluster/connection-pool.js'
import { KafkaError } from '../../../src/errors/index.js'
import type { Connection } from '../../../src/network/connection.js'
import { IdempotenceState } from '../../../src/producer/idempotence.js'
import {
  PRODUCER_ID_TRANSITIONS,
  ProducerIdManager,
  type ProducerIdState,
} from '../../../src/producer/producer-id-manager.js'
import type { InitProducerIdResponse } from '../../../src/protocol/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import { seededRandom } from '../../../src/util/random.js'
import { settle } from '../../helpers/fake-broker.js'

type Answer = InitProducerIdResponse | KafkaError

function setup(answers: Answer[], opts: { noInitProducerId?: boolean } = {}) {
  const clock = new ManualClock(1_000_000)
  const idem = new IdempotenceState()
  const fatal: KafkaError[] = []
  let requests = 0
  let wakeups = 0
  const conn = {
    address: 'broker1:9092',
    apiVersions: new Map(opts.noInitProducerId ? [[0, { minVersion: 0, maxVersion: 2 }]] : []),
    versionFor: () => {
      if (opts.noInitProducerId) throw new KafkaError('_UNSUPPORTED_FEATURE', 'no InitProducerId')
      return 5
    },
    request: () => {
      requests++
      const a = answers.shift()
      if (!a) return new Promise(() => undefined)
      return a instanceof KafkaError ? Promise.reject(a) : Promise.resolve(a)
    },
  } as unknown as Connection
  const broker: BrokerAddress = { nodeId: 1, host: 'broker1', port: 9092 }
  const m = new ProducerIdManager({
    idempotence: idem,
    pool: { get: () => Promise.resolve(conn), ready: () => conn },
    metadata: { brokers: new Map([[1, broker]]), requestUpdate: () => undefined },
    clock,
    random: seededRandom(1),
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    transactionTimeoutMs: 60_000,
    onFatal: (err) => fatal.push(err),
    wakeup: () => {
      wakeups++
    },
  })
  return {
    clock,
    idem,
    m,
    fatal,
    get requests() {
      return requests
    },
    get wakeups() {
      return wakeups
    },
  }
}

const ok = (producerId: bigint, epoch = 0): InitProducerIdResponse => ({
  throttleTimeMs: 0,
  errorCode: 0,
  producerId,
  producerEpoch: epoch,
  ongoingTxnProducerId: -1n,
  ongoingTxnProducerEpoch: -1,
})
const failed = (errorCode: number): InitProducerIdResponse => ({ ...ok(-1n, -1), errorCode })
const none = (): Iterable<never> => []

describe('ProducerIdManager', () => {
  it('every state is in the table, and "fatal" is the end', () => {
    const states: ProducerIdState[] = ['uninitialized', 'initializing', 'ready', 'bumpPending', 'fatal']
    assert.deepEqual(Object.keys(PRODUCER_ID_TRANSITIONS).sort(), [...states].sort())
    assert.deepEqual(PRODUCER_ID_TRANSITIONS.fatal, [])
    for (const s of states) if (s !== 'fatal') assert.ok(PRODUCER_ID_TRANSITIONS[s].includes('fatal'))
  })

  it('uninitialized → initializing → ready: batches may go only once the id is there', async () => {
    const t = setup([ok(42n)])
    assert.equal(t.m.state, 'uninitialized')
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false)
    assert.equal(t.m.state, 'initializing')
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false, 'one request at a time')
    await settle(5)
    assert.equal(t.requests, 1)
    assert.equal(t.m.state, 'ready')
    assert.deepEqual(t.idem.producerId, { producerId: 42n, epoch: 0 })
    assert.equal(t.m.maySend(t.clock.now(), 3, none), true)
    assert.ok(t.wakeups > 0)
  })

  it('a retriable error goes back to uninitialized and asks again after the backoff', async () => {
    const t = setup([failed(15 /* COORDINATOR_NOT_AVAILABLE */), ok(43n)])
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    assert.equal(t.m.state, 'uninitialized')
    const at = t.m.nextAttemptAt
    assert.ok(at > t.clock.now(), 'a backoff')
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false)
    assert.equal(t.requests, 1, 'not before the backoff ends')
    t.clock.advance(at - t.clock.now())
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    assert.equal(t.requests, 2)
    assert.equal(t.m.state, 'ready')
  })

  it('a broken sequence waits for the in-flight requests, then bumps the epoch locally', async () => {
    const t = setup([ok(44n, 3)])
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    t.idem.requestBump() // the response handler saw OUT_OF_ORDER_SEQUENCE_NUMBER, say
    assert.equal(t.m.maySend(t.clock.now(), 2, none), false)
    assert.equal(t.m.state, 'bumpPending')
    assert.equal(t.idem.producerId!.epoch, 3, 'not while requests are in flight')
    assert.equal(t.m.maySend(t.clock.now(), 0, none), true)
    assert.equal(t.m.state, 'ready')
    assert.deepEqual(t.idem.producerId, { producerId: 44n, epoch: 4 })
    assert.equal(t.requests, 1, 'a local bump: no request')
  })

  it('an exhausted epoch asks for a new producer id', async () => {
    const t = setup([ok(45n, 0x7fff), ok(46n)])
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    t.idem.requestBump()
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false)
    assert.equal(t.m.state, 'initializing')
    await settle(5)
    assert.equal(t.m.state, 'ready')
    assert.deepEqual(t.idem.producerId, { producerId: 46n, epoch: 0 })
  })

  it('a non-retriable InitProducerId error is fatal, reported once', async () => {
    const t = setup([failed(53 /* TRANSACTIONAL_ID_AUTHORIZATION_FAILED */)])
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false)
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false)
    assert.equal(t.m.state, 'fatal')
    assert.equal(t.fatal.length, 1)
    assert.equal(t.fatal[0]!.fatal, true)
  })

  it('a broker without InitProducerId is fatal at once, naming what to do', async () => {
    const t = setup([], { noInitProducerId: true })
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    t.m.maySend(t.clock.now(), 0, none)
    assert.equal(t.m.state, 'fatal')
    assert.equal(t.requests, 0)
    assert.match(t.fatal[0]!.message, /does not support InitProducerId/)
  })

  it('a fatal error flagged by the response handler ends a ready producer', async () => {
    const t = setup([ok(47n)])
    t.m.maySend(t.clock.now(), 0, none)
    await settle(5)
    t.idem.setFatal(new KafkaError('PRODUCER_FENCED', 'fenced', { fatal: true }))
    assert.equal(t.m.maySend(t.clock.now(), 0, none), false)
    assert.equal(t.m.state, 'fatal')
    assert.equal(t.fatal[0]!.code, 'PRODUCER_FENCED')
  })
})
