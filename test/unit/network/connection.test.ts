import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { describe, it } from 'node:test'
import {
  Connection,
  type AuthenticationContext,
  type ConnectionOptions,
} from '../../../src/network/connection.js'
import { KafkaError } from '../../../src/errors/index.js'
import { Instrumentation } from '../../../src/observability/events.js'
import {
  ApiVersionsApi,
  MetadataApi,
  ProduceApi,
  RecordBatchBuilder,
  SaslAuthenticateApi,
  SaslHandshakeApi,
  encodeRequestFrame,
  encodeResponseFrame,
  type ApiVersionsRequest,
  type MetadataRequest,
  type MetadataResponse,
  type SaslAuthenticateRequest,
  type SaslAuthenticateResponse,
  type SaslHandshakeRequest,
  type SaslHandshakeResponse,
} from '../../../src/protocol/index.js'
import { getCodec } from '../../../src/compression/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import { DEFAULT_API_VERSIONS, FakeCluster, settle, type FakeConnection } from '../../helpers/fake-broker.js'
import { CountingClock, GuardedInstrumentation, listen, payloads } from '../../helpers/instrumentation.js'

const metadataRequest = (topic: string): MetadataRequest => ({
  topics: [{ topicId: Buffer.alloc(16), name: topic }],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
})

/** A connection to broker1:9092 with the test's defaults, over whatever `opts` give (transport, clock...). */
function connection(opts: Partial<ConnectionOptions> & Pick<ConnectionOptions, 'transport'>): Connection {
  return new Connection({
    host: 'broker1',
    port: 9092,
    nodeId: 1,
    clientId: 'unit',
    requestTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    clock: new ManualClock(),
    ...opts,
  })
}

function setup(opts: Partial<ConnectionOptions> = {}): {
  cluster: FakeCluster
  clock: ManualClock
  conn: Connection
  closes: (KafkaError | null)[]
} {
  const cluster = new FakeCluster({
    topics: { a: { partitions: 1 }, b: { partitions: 2 }, c: { partitions: 3 } },
  })
  const clock = new ManualClock()
  const closes: (KafkaError | null)[] = []
  const conn = connection({
    transport: cluster.transport,
    clock,
    onClose: (_c, err) => closes.push(err),
    ...opts,
  })
  return { cluster, clock, conn, closes }
}

/** Holds every Metadata request; returns the held answers in arrival order. */
function holdMetadata(cluster: FakeCluster): (() => void)[] {
  const held: (() => void)[] = []
  cluster.interceptor = (req, respond) => {
    if (req.apiName !== 'Metadata') return 'default'
    held.push(respond)
    return 'hold'
  }
  return held
}

/** A response frame: size, correlation id, body. */
function frameOf(correlationId: number, body: Buffer): Buffer {
  const b = Buffer.alloc(8 + body.length)
  b.writeInt32BE(4 + body.length, 0)
  b.writeInt32BE(correlationId, 4)
  body.copy(b, 8)
  return b
}

describe('Connection', () => {
  it('handshakes with ApiVersions at our newest version and learns the broker ranges', async () => {
    const { cluster, conn } = setup()
    assert.equal(conn.isReady, false)
    await conn.connect()
    assert.equal(conn.isReady, true)
    assert.equal(cluster.requests.length, 1)
    const [hello] = cluster.requests
    assert.equal(hello!.apiName, 'ApiVersions')
    assert.equal(hello!.apiVersion, 4)
    assert.equal(hello!.clientId, 'unit')
    assert.deepEqual(hello!.body, {
      clientSoftwareName: 'reliable-kafka',
      clientSoftwareVersion: '0.1.0',
    } satisfies ApiVersionsRequest)
    assert.deepEqual(conn.apiVersions.get(ProduceApi.apiKey), { minVersion: 3, maxVersion: 13 })
    assert.deepEqual(conn.apiVersions.get(MetadataApi.apiKey), { minVersion: 0, maxVersion: 13 })
    assert.equal(conn.versionFor(ProduceApi), 13)
    assert.equal(conn.versionFor(ProduceApi, 12), 12)
    assert.equal(conn.versionFor(ApiVersionsApi), 4)
    conn.close()
  })

  it('retries the handshake with the version the broker names after UNSUPPORTED_VERSION', async () => {
    const cluster = new FakeCluster()
    const versions: number[] = []
    // A broker that only knows ApiVersions up to v2 answers v4 with error 35 and its own range.
    const transport = (opts: { host: string; port: number }): Duplex => {
      const s = cluster.transport(opts)
      const conn = cluster.connections.at(-1)!
      const handle = cluster.handle.bind(cluster)
      cluster.handle = (c, req) => {
        if (c !== conn || req.apiKey !== 18) return handle(c, req)
        versions.push(req.apiVersion)
        if (req.apiVersion > 2) {
          c.send(ApiVersionsApi, 0, req.correlationId, {
            errorCode: 35,
            apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 2 }],
            throttleTimeMs: 0,
          })
        } else handle(c, req)
      }
      return s
    }
    const conn = connection({ transport })
    await conn.connect()
    // The v0-layout answer cannot be read as v4, so the client falls back to v0, which every broker
    // supports (KIP-511), and the handshake completes.
    assert.deepEqual(versions, [4, 0])
    assert.deepEqual(conn.apiVersions.get(ProduceApi.apiKey), { minVersion: 3, maxVersion: 13 })
    assert.equal(conn.isReady, true)
    conn.close()
  })

  it('pipelines requests: all are on the wire before any answer, and answers resolve in order', async () => {
    const { cluster, conn } = setup()
    await conn.connect()
    const held = holdMetadata(cluster)
    const order: string[] = []
    const ps = ['a', 'b', 'c'].map((t) =>
      conn.request(MetadataApi, metadataRequest(t)).then((res: MetadataResponse) => {
        order.push(res.topics[0]!.name!)
        return res
      }),
    )
    await settle(3)
    assert.equal(conn.inFlight, 3)
    assert.equal(held.length, 3)
    const ids = cluster.metadataRequests().map((r) => r.correlationId)
    assert.deepEqual(ids, [2, 3, 4]) // 1 was the handshake
    for (const r of cluster.metadataRequests()) assert.equal(r.apiVersion, 13)
    held[0]!()
    await settle(2)
    assert.deepEqual(order, ['a'])
    assert.equal(conn.inFlight, 2)
    held[1]!()
    held[2]!()
    const res = await Promise.all(ps)
    assert.deepEqual(order, ['a', 'b', 'c'])
    assert.deepEqual(
      res.map((r) => r.topics[0]!.partitions.length),
      [1, 2, 3],
    )
    assert.equal(conn.inFlight, 0)
    conn.close()
  })

  it('a request timeout fails that request with _TIMED_OUT, every other with _TRANSPORT, and closes', async () => {
    const { cluster, clock, conn, closes } = setup()
    await conn.connect()
    const held = holdMetadata(cluster)
    const first = conn.request(MetadataApi, metadataRequest('a')).then(
      () => assert.fail('must not resolve'),
      (e: unknown) => e as KafkaError,
    )
    clock.advance(400)
    const later = ['b', 'c'].map((t) =>
      conn.request(MetadataApi, metadataRequest(t)).then(
        () => assert.fail('must not resolve'),
        (e: unknown) => e as KafkaError,
      ),
    )
    await settle(3)
    assert.equal(held.length, 3)
    clock.advance(599)
    await settle(2)
    assert.equal(conn.isClosed, false)
    clock.advance(1)
    const e1 = await first
    assert.ok(e1 instanceof KafkaError)
    assert.equal(e1.code, '_TIMED_OUT')
    assert.equal(e1.retriable, true)
    assert.match(e1.message, /Metadata request to broker1:9092 timed out after 1000 ms/)
    for (const p of later) {
      const e = await p
      assert.equal(e.code, '_TRANSPORT')
      assert.equal(e.retriable, true)
    }
    assert.equal(conn.isClosed, true)
    assert.equal(conn.inFlight, 0)
    assert.equal(closes.length, 1)
    assert.equal(closes[0]!.code, '_TRANSPORT')
    assert.equal(cluster.connections[0]!.closed, true, 'the socket was destroyed')
    assert.equal(clock.pendingTimers, 0, 'no timer left behind')
    // A late answer cannot reach a closed connection; a new request fails at once.
    held[1]!()
    await assert.rejects(conn.request(MetadataApi, metadataRequest('a')), { code: '_TRANSPORT' })
  })

  it('a connection closed by the peer fails every outstanding request with _TRANSPORT', async () => {
    const { cluster, clock, conn, closes } = setup()
    await conn.connect()
    holdMetadata(cluster)
    const ps = ['a', 'b'].map((t) => conn.request(MetadataApi, metadataRequest(t)).catch((e: unknown) => e))
    await settle(3)
    assert.equal(conn.inFlight, 2)
    cluster.connections[0]!.close()
    const errs = (await Promise.all(ps)) as KafkaError[]
    for (const e of errs) {
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, '_TRANSPORT')
      assert.equal(e.retriable, true)
      assert.match(e.message, /connection closed by broker/)
    }
    assert.equal(conn.isClosed, true)
    assert.equal(closes.length, 1)
    assert.equal(clock.pendingTimers, 0)
  })

  it('a noResponse request (acks=0) resolves with null once written and leaves nothing in flight', async () => {
    const { cluster, conn } = setup()
    await conn.connect()
    const b = new RecordBatchBuilder(1024)
    b.append(1_700_000_000_000, Buffer.from('k'), Buffer.from('v'), null)
    const records = b.build({
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      transactional: false,
      codec: getCodec('none'),
    })
    const res = await conn.request(
      ProduceApi,
      {
        transactionalId: null,
        acks: 0,
        timeoutMs: 1000,
        topicData: [{ name: 'a', topicId: Buffer.alloc(16), partitionData: [{ index: 0, records }] }],
      },
      { noResponse: true, maxVersion: 12 },
    )
    assert.equal(res, null)
    assert.equal(conn.inFlight, 0)
    await settle(2)
    assert.equal(cluster.produceCalls.length, 1)
    const call = cluster.produceCalls[0]!
    assert.equal(call.acks, 0)
    assert.equal(call.apiVersion, 12)
    assert.deepEqual(
      call.partitions[0]!.records.map((r) => r.value!.toString()),
      ['v'],
    )
    // The next request still pairs with its own answer.
    const md = await conn.request(MetadataApi, metadataRequest('b'))
    assert.equal(md.topics[0]!.name, 'b')
    conn.close()
  })

  it('reads a response that arrives one byte at a time', async () => {
    const { cluster, conn } = setup()
    await conn.connect()
    let fake: FakeConnection | undefined
    cluster.interceptor = (req, _respond, c) => {
      fake = c
      const bytes = Buffer.concat(
        encodeResponseFrame(
          MetadataApi,
          req.apiVersion,
          req.correlationId,
          cluster.metadataResponse(req.body as MetadataRequest),
        ),
      )
      for (let i = 0; i < bytes.length; i++) c.sendRaw(bytes.subarray(i, i + 1))
      return 'hold'
    }
    const res = await conn.request(MetadataApi, metadataRequest('c'))
    assert.ok(fake)
    assert.equal(res.topics[0]!.partitions.length, 3)
    assert.deepEqual(
      res.brokers.map((b) => [b.nodeId, b.host, b.port]),
      [[1, 'broker1', 9092]],
    )
    conn.close()
  })

  it('closes with _BAD_MSG on a response with an unknown correlation id', async () => {
    const { cluster, conn, closes } = setup()
    await conn.connect()
    cluster.interceptor = (req, _respond, c) => {
      const body = cluster.metadataResponse(req.body as MetadataRequest)
      c.send(MetadataApi, req.apiVersion, req.correlationId + 100, body)
      return 'hold'
    }
    await assert.rejects(conn.request(MetadataApi, metadataRequest('a')), {
      code: '_BAD_MSG',
      retriable: true,
    })
    assert.equal(conn.isClosed, true)
    assert.equal(closes[0]!.code, '_BAD_MSG')
  })

  for (const [what, reply] of [
    ['an answer to no request', (id: number) => frameOf(id + 7, Buffer.alloc(2))],
    ['garbage under the right correlation id', (id: number) => frameOf(id, Buffer.from([0xff, 0xff, 0xff]))],
    ['an impossible frame size', () => Buffer.from([0x7f, 0xff, 0xff, 0xff])],
  ] as const) {
    it(`fails connect() at once on ${what} to ApiVersions, without waiting for a timeout`, async () => {
      const clock = new ManualClock()
      const hostile = (): Duplex => {
        const s: Duplex = new Duplex({
          read() {},
          write: (chunk: Buffer, _e, cb) => {
            cb()
            // Every request is answered with the hostile bytes, like a broken or hostile broker.
            process.nextTick(() => s.push(reply(chunk.readInt32BE(8))))
          },
        })
        ;(s as Duplex & { connecting: boolean }).connecting = false
        return s
      }
      const conn = connection({
        requestTimeoutMs: 30_000,
        connectTimeoutMs: 60_000,
        transport: hostile,
        clock,
      })
      // The manual clock never moves: only a failure that needs no timer can settle this.
      const outcome = await Promise.race([
        conn.connect().then(
          () => 'connected',
          (e: KafkaError) => e,
        ),
        settle(50).then(() => 'still waiting'),
      ])
      assert.ok(outcome instanceof KafkaError, `connect() ${String(outcome)}`)
      assert.equal(outcome.code, '_BAD_MSG')
      assert.equal(conn.isClosed, true)
    })
  }

  it('fails connect() with a retriable _TRANSPORT error when the broker refuses', async () => {
    const { cluster, conn, closes } = setup()
    cluster.down.add('broker1:9092')
    await assert.rejects(conn.connect(), (e: unknown) => {
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, '_TRANSPORT')
      assert.equal(e.retriable, true)
      assert.match(e.message, /ECONNREFUSED/)
      return true
    })
    assert.equal(conn.isClosed, true)
    assert.equal(closes.length, 1)
  })

  it('bounds connect + handshake by the connection setup timeout', async () => {
    const clock = new ManualClock()
    const silent = (): Duplex => {
      const s = new Duplex({ read() {}, write: (_c, _e, cb) => cb() })
      ;(s as Duplex & { connecting: boolean }).connecting = true
      return s
    }
    const conn = connection({ transport: silent, clock })
    const p = conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    clock.advance(4999)
    await settle(2)
    assert.equal(conn.isClosed, false)
    clock.advance(1)
    const e = await p
    assert.equal(e.code, '_TRANSPORT')
    assert.match(e.message, /connection setup timed out after 5000 ms/)
    assert.equal(clock.pendingTimers, 0)
  })
})

/** A produce request of one record to topic 'a', partition 0. */
function oneRecordProduce(acks: number): Parameters<Connection['request']>[1] {
  const b = new RecordBatchBuilder(1024)
  b.append(1_700_000_000_000, Buffer.from('k'), Buffer.from('v'), null)
  const records = b.build({
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    transactional: false,
    codec: getCodec('none'),
  })
  return {
    transactionalId: null,
    acks,
    timeoutMs: 1000,
    topicData: [{ name: 'a', topicId: Buffer.alloc(16), partitionData: [{ index: 0, records }] }],
  }
}

describe('Connection instrumentation', () => {
  it('emits request.sent with the frame size and request.answered with the round trip on the clock', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, 'request.sent', 'request.answered', 'request.failed')
    const { cluster, clock, conn } = setup({ instrumentation: events })
    await conn.connect()
    const [hello] = payloads(heard, 'request.sent')
    assert.deepEqual(hello, {
      nodeId: 1,
      apiKey: 18,
      apiName: 'ApiVersions',
      apiVersion: 4,
      bytes: cluster.connections[0]!.socket.written.reduce((n, c) => n + c.length, 0),
      correlationId: 1,
    })
    const helloAnswer = encodeResponseFrame(ApiVersionsApi, 4, 1, cluster.apiVersionsResponse(4))
    assert.deepEqual(payloads(heard, 'request.answered'), [
      {
        nodeId: 1,
        apiKey: 18,
        apiName: 'ApiVersions',
        correlationId: 1,
        bytes: Buffer.concat(helloAnswer).length,
        rttMs: 0,
        throttleTimeMs: 0,
      },
    ])

    // Metadata answered 37 ms later (by the manual clock), with a quota delay of 250 ms.
    let responseBytes = 0
    const held: (() => void)[] = []
    cluster.interceptor = (req, _respond, c) => {
      const frame = Buffer.concat(
        encodeResponseFrame(MetadataApi, req.apiVersion, req.correlationId, {
          ...cluster.metadataResponse(req.body as MetadataRequest),
          throttleTimeMs: 250,
        }),
      )
      responseBytes = frame.length
      held.push(() => c.sendRaw(frame))
      return 'hold'
    }
    heard.length = 0
    const p = conn.request(MetadataApi, metadataRequest('a'))
    await settle(2)
    assert.deepEqual(payloads(heard, 'request.sent'), [
      {
        nodeId: 1,
        apiKey: 3,
        apiName: 'Metadata',
        apiVersion: 13,
        bytes: Buffer.concat(encodeRequestFrame(MetadataApi, 13, 2, 'unit', metadataRequest('a'))).length,
        correlationId: 2,
      },
    ])
    assert.equal(payloads(heard, 'request.answered').length, 0)
    clock.advance(37)
    held[0]!()
    await p
    assert.deepEqual(payloads(heard, 'request.answered'), [
      {
        nodeId: 1,
        apiKey: 3,
        apiName: 'Metadata',
        correlationId: 2,
        bytes: responseBytes,
        rttMs: 37,
        throttleTimeMs: 250,
      },
    ])
    assert.deepEqual(payloads(heard, 'request.failed'), [])
    assert.deepEqual(events.unguarded, [])
    conn.close()
  })

  it('emits request.failed for the timed-out request and for every other one its closing fails', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, 'request.sent', 'request.answered', 'request.failed')
    const { cluster, clock, conn } = setup({ instrumentation: events })
    await conn.connect()
    holdMetadata(cluster)
    heard.length = 0
    const ps = ['a', 'b'].map((t) => conn.request(MetadataApi, metadataRequest(t)).catch((e: unknown) => e))
    await settle(2)
    clock.advance(1000)
    await Promise.all(ps)
    assert.deepEqual(
      heard.map((e) => e.name),
      ['request.sent', 'request.sent', 'request.failed', 'request.failed'],
    )
    const failed = payloads(heard, 'request.failed')
    assert.deepEqual(
      failed.map((f) => [f.correlationId, f.apiKey, f.apiName, f.nodeId, f.error.code]),
      [
        [2, 3, 'Metadata', 1, '_TIMED_OUT'],
        [3, 3, 'Metadata', 1, '_TRANSPORT'],
      ],
    )
    assert.deepEqual(events.unguarded, [])
  })

  it('emits request.failed when the peer closes the connection under a request', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, 'request.failed')
    const { cluster, conn } = setup({ instrumentation: events })
    await conn.connect()
    holdMetadata(cluster)
    const p = conn.request(MetadataApi, metadataRequest('a')).catch((e: unknown) => e)
    await settle(2)
    cluster.connections[0]!.close()
    const err = await p
    assert.deepEqual(payloads(heard, 'request.failed'), [
      { nodeId: 1, apiKey: 3, apiName: 'Metadata', correlationId: 2, error: err },
    ])
  })

  it('a request without an answer (acks=0) emits request.sent only', async () => {
    const events = new GuardedInstrumentation()
    const heard = listen(events, 'request.sent', 'request.answered', 'request.failed')
    const { conn } = setup({ instrumentation: events })
    await conn.connect()
    heard.length = 0
    const msg = oneRecordProduce(0)
    assert.equal(await conn.request(ProduceApi, msg, { noResponse: true, maxVersion: 12 }), null)
    await settle(2)
    assert.deepEqual(payloads(heard, 'request.sent'), [
      {
        nodeId: 1,
        apiKey: 0,
        apiName: 'Produce',
        apiVersion: 12,
        bytes: Buffer.concat(encodeRequestFrame(ProduceApi, 12, 2, 'unit', msg)).length,
        correlationId: 2,
      },
    ])
    assert.equal(heard.length, 1)
    conn.close()
  })

  it('without a listener no payload is built and the clock is not read more than without a hub', async () => {
    async function run(instrumentation: Instrumentation | undefined): Promise<number> {
      const clock = new CountingClock()
      const { cluster, conn } = setup({ clock, ...(instrumentation ? { instrumentation } : {}) })
      await conn.connect()
      await conn.request(MetadataApi, metadataRequest('a'))
      await conn.request(ProduceApi, oneRecordProduce(1), { maxVersion: 12 })
      await conn.request(ProduceApi, oneRecordProduce(0), { noResponse: true, maxVersion: 12 })
      holdMetadata(cluster)
      const timedOut = conn.request(MetadataApi, metadataRequest('b')).catch(() => undefined)
      const closed = conn.request(MetadataApi, metadataRequest('c')).catch(() => undefined)
      await settle(2)
      clock.advance(1000)
      await Promise.all([timedOut, closed])
      assert.equal(conn.isClosed, true)
      return clock.reads
    }
    const none = await run(undefined)
    const silent = new GuardedInstrumentation()
    assert.equal(await run(silent), none, 'an unlistened hub costs no clock read')
    assert.deepEqual(silent.unguarded, [], 'no emit() without a listener')
    // A hub that listens to something else still builds nothing for request.*.
    const other = new GuardedInstrumentation()
    other.on('connection.opened', () => undefined)
    assert.equal(await run(other), none)
    assert.deepEqual(other.unguarded, [])
  })

  it('off() stops the events; a request sent while no one listened gets no request.answered', async () => {
    const events = new Instrumentation()
    const { cluster, clock, conn } = setup({ instrumentation: events })
    await conn.connect()
    const held = holdMetadata(cluster)
    const early = conn.request(MetadataApi, metadataRequest('a'))
    await settle(2)
    const answered: number[] = []
    const onAnswered = (e: { correlationId: number }): void => void answered.push(e.correlationId)
    events.on('request.answered', onAnswered)
    const late = conn.request(MetadataApi, metadataRequest('b'))
    await settle(2)
    clock.advance(5)
    held[0]!()
    held[1]!()
    await Promise.all([early, late])
    assert.deepEqual(answered, [3], 'only the request sent after subscribing, with a measured rtt')
    events.off('request.answered', onAnswered)
    const after = conn.request(MetadataApi, metadataRequest('c'))
    await settle(2)
    held[2]!()
    await after
    assert.deepEqual(answered, [3])
    assert.equal(events.has('request.answered'), false)
    conn.close()
  })

  it('a listener that throws cannot break the connection', async () => {
    const reported: string[] = []
    const events = new Instrumentation({
      onListenerError: (err, event) => reported.push(`${event}: ${err.message}`),
    })
    for (const name of ['request.sent', 'request.answered', 'request.failed'] as const) {
      events.on(name, () => {
        throw new Error(`${name} listener is broken`)
      })
    }
    const { cluster, clock, conn } = setup({ instrumentation: events })
    await conn.connect()
    const res = await conn.request(MetadataApi, metadataRequest('b'))
    assert.equal(res.topics[0]!.partitions.length, 2)
    assert.equal(conn.isReady, true)
    holdMetadata(cluster)
    const p = conn.request(MetadataApi, metadataRequest('a')).then(
      () => assert.fail('must not resolve'),
      (e: unknown) => e as KafkaError,
    )
    await settle(2)
    clock.advance(1000)
    assert.equal((await p).code, '_TIMED_OUT', 'the timeout still fails the request')
    assert.equal(conn.isClosed, true)
    assert.equal(clock.pendingTimers, 0)
    assert.ok(
      reported.includes("request.sent: a listener of 'request.sent' threw: request.sent listener is broken"),
    )
    assert.ok(reported.some((r) => r.startsWith('request.answered:')))
    assert.ok(reported.some((r) => r.startsWith('request.failed:')))
  })
})

/** A cluster whose brokers know SaslHandshake and SaslAuthenticate, answered as `answer` says. */
function saslCluster(
  answer: {
    handshake?: (req: SaslHandshakeRequest) => SaslHandshakeResponse | 'hold'
    authenticate?: (req: SaslAuthenticateRequest) => SaslAuthenticateResponse
  } = {},
): FakeCluster {
  const cluster = new FakeCluster({
    topics: { a: { partitions: 1 } },
    apiVersions: [
      ...DEFAULT_API_VERSIONS,
      { apiKey: 17, minVersion: 0, maxVersion: 1 },
      { apiKey: 36, minVersion: 0, maxVersion: 2 },
    ],
  })
  cluster.interceptor = (req, respond, c) => {
    if (req.apiKey === SaslHandshakeApi.apiKey) {
      const body = req.body as SaslHandshakeRequest
      const res = answer.handshake?.(body) ?? { errorCode: 0, mechanisms: ['PLAIN'] }
      if (res === 'hold') return 'hold'
      c.send(SaslHandshakeApi, req.apiVersion, req.correlationId, res)
      return 'hold'
    }
    if (req.apiKey === SaslAuthenticateApi.apiKey) {
      const body = req.body as SaslAuthenticateRequest
      const res = answer.authenticate?.(body) ?? {
        errorCode: 0,
        errorMessage: null,
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
      }
      c.send(SaslAuthenticateApi, req.apiVersion, req.correlationId, res)
      return 'hold'
    }
    respond()
    return 'hold'
  }
  return cluster
}

/** A PLAIN exchange as SASL will do it: SaslHandshake, then SaslAuthenticate with the credentials. */
async function plain(ctx: AuthenticationContext): Promise<void> {
  const hs = await ctx.request(SaslHandshakeApi, { mechanism: 'PLAIN' })
  if (hs.errorCode !== 0) throw KafkaError.fromKafkaCode(hs.errorCode, `SaslHandshake from ${ctx.host}`)
  const res = await ctx.request(SaslAuthenticateApi, { authBytes: Buffer.from('\0alice\0secret') })
  if (res.errorCode !== 0) throw KafkaError.fromKafkaCode(res.errorCode, res.errorMessage)
}

describe('Connection authentication step', () => {
  it('runs after ApiVersions and before the connection is ready; connect() waits for it', async () => {
    let finish!: () => void
    let saved: AuthenticationContext | undefined
    const seen: { ready: boolean; versions: number; nodeId: number; host: string; port: number }[] = []
    const { cluster, conn } = setup({
      authenticate: (ctx) => {
        saved = ctx
        seen.push({
          ready: conn.isReady,
          versions: ctx.apiVersions.size,
          nodeId: ctx.nodeId,
          host: ctx.host,
          port: ctx.port,
        })
        return new Promise<void>((resolve) => (finish = resolve))
      },
    })
    let connected = false
    const p = conn.connect().then(() => (connected = true))
    await settle(5)
    assert.deepEqual(seen, [
      { ready: false, versions: DEFAULT_API_VERSIONS.length, nodeId: 1, host: 'broker1', port: 9092 },
    ])
    assert.deepEqual(
      cluster.requests.map((r) => r.apiName),
      ['ApiVersions'],
    )
    assert.equal(connected, false)
    assert.equal(conn.isReady, false)
    // Nothing else may use the connection meanwhile.
    await assert.rejects(conn.request(MetadataApi, metadataRequest('a')), { code: '_TRANSPORT' })
    finish()
    await p
    assert.equal(conn.isReady, true)
    // The step's context is for the step only.
    await assert.rejects(saved!.request(MetadataApi, metadataRequest('a')), { code: '_STATE' })
    const md = await conn.request(MetadataApi, metadataRequest('a'))
    assert.equal(md.topics[0]!.name, 'a')
    conn.close()
  })

  it('requests sent by the step go over the connection, in order, before the first other request', async () => {
    const mechanisms: string[] = []
    const credentials: string[] = []
    const cluster = saslCluster({
      handshake: (req) => {
        mechanisms.push(req.mechanism)
        return { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] }
      },
      authenticate: (req) => {
        credentials.push(req.authBytes.toString())
        return { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n }
      },
    })
    const events = new GuardedInstrumentation()
    const heard = listen(events, 'request.answered')
    const versions: number[] = []
    const { conn } = setup({
      transport: cluster.transport,
      instrumentation: events,
      authenticate: async (ctx) => {
        versions.push(ctx.versionFor(SaslHandshakeApi), ctx.versionFor(SaslAuthenticateApi))
        await plain(ctx)
      },
    })
    await conn.connect()
    await conn.request(MetadataApi, metadataRequest('a'))
    assert.deepEqual(
      cluster.requests.map((r) => [r.apiName, r.apiVersion, r.correlationId]),
      [
        ['ApiVersions', 4, 1],
        ['SaslHandshake', 1, 2],
        ['SaslAuthenticate', 2, 3],
        ['Metadata', 13, 4],
      ],
    )
    assert.deepEqual(versions, [1, 2])
    assert.deepEqual(mechanisms, ['PLAIN'])
    assert.deepEqual(credentials, ['\0alice\0secret'])
    // The step's requests are instrumented like any other; these answers carry no throttle time.
    const answered = payloads(heard, 'request.answered')
    assert.deepEqual(
      answered.map((a) => [a.apiName, 'throttleTimeMs' in a]),
      [
        ['ApiVersions', true],
        ['SaslHandshake', false],
        ['SaslAuthenticate', false],
        ['Metadata', true],
      ],
    )
    conn.close()
  })

  it('a rejection with a KafkaError fails connect() with that very error and closes the socket', async () => {
    const cluster = saslCluster({
      authenticate: () => ({
        errorCode: 58,
        errorMessage: 'Authentication failed: Invalid username or password',
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
      }),
    })
    let thrown: unknown
    const { conn, closes, clock } = setup({
      transport: cluster.transport,
      authenticate: (ctx) =>
        plain(ctx).catch((e: unknown) => {
          thrown = e
          throw e
        }),
    })
    await assert.rejects(conn.connect(), (e: unknown) => {
      assert.equal(e, thrown, 'the same error object')
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, 'SASL_AUTHENTICATION_FAILED')
      assert.equal(e.kafkaCode, 58)
      assert.match(e.message, /Invalid username or password/)
      return true
    })
    assert.equal(conn.isClosed, true)
    assert.equal(conn.isReady, false)
    assert.equal(cluster.connections[0]!.closed, true, 'the socket was destroyed')
    assert.deepEqual(closes, [thrown], 'onClose hears the same error')
    assert.equal(clock.pendingTimers, 0)
  })

  it('anything else it throws becomes _AUTHENTICATION with the original as cause', async () => {
    for (const step of [
      async (): Promise<void> => {
        throw new Error('token provider unreachable')
      },
      // Not even async: a synchronous throw is caught the same way.
      (): Promise<void> => {
        throw new Error('token provider unreachable')
      },
    ]) {
      const { cluster, conn, closes } = setup({ authenticate: step })
      const err = await conn.connect().then(
        () => assert.fail('must not connect'),
        (e: unknown) => e as KafkaError,
      )
      assert.ok(err instanceof KafkaError)
      assert.equal(err.code, '_AUTHENTICATION')
      assert.equal(err.retriable, false)
      assert.ok(err.cause instanceof Error)
      assert.equal((err.cause as Error).message, 'token provider unreachable')
      assert.equal(err.message, 'broker1:9092: authentication failed: token provider unreachable')
      assert.equal(conn.isClosed, true)
      assert.equal(cluster.connections[0]!.closed, true)
      assert.equal(closes[0], err)
    }
  })

  it('the connection setup timeout bounds a step that never finishes', async () => {
    const { cluster, clock, conn } = setup({
      connectTimeoutMs: 5000,
      authenticate: () => new Promise<void>(() => undefined),
    })
    const p = conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    await settle(5)
    clock.advance(4999)
    await settle(2)
    assert.equal(conn.isClosed, false)
    clock.advance(1)
    const e = await p
    assert.equal(e.code, '_TRANSPORT')
    assert.equal(e.retriable, true)
    assert.match(e.message, /connection setup timed out after 5000 ms/)
    assert.equal(cluster.connections[0]!.closed, true)
    assert.equal(clock.pendingTimers, 0)
  })

  it('the setup timeout also ends a step waiting for an answer longer than it', async () => {
    const cluster = saslCluster({ handshake: () => 'hold' })
    const { clock, conn } = setup({
      transport: cluster.transport,
      requestTimeoutMs: 30_000,
      connectTimeoutMs: 5000,
      authenticate: plain,
    })
    const p = conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    await settle(5)
    assert.equal(cluster.requests.at(-1)?.apiName, 'SaslHandshake')
    clock.advance(5000)
    const e = await p
    assert.equal(e.code, '_TRANSPORT')
    assert.match(e.message, /connection setup timed out after 5000 ms/)
    assert.equal(conn.isClosed, true)
    assert.equal(clock.pendingTimers, 0)
  })

  it('a connection lost during the step fails connect() with the transport error', async () => {
    const cluster = saslCluster({ handshake: () => 'hold' })
    const { conn } = setup({ transport: cluster.transport, authenticate: plain })
    const p = conn.connect().then(
      () => assert.fail('must not connect'),
      (e: unknown) => e as KafkaError,
    )
    await settle(5)
    cluster.connections[0]!.close()
    const e = await p
    assert.equal(e.code, '_TRANSPORT')
    assert.match(e.message, /connection closed by broker/)
  })
})
