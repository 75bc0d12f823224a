// Issue 11 against a real secured broker (the harness's startKafka({ security: true })): our producer
// writes over SSL with a client certificate, SASL_SSL with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and
// OAUTHBEARER, and SASL_PLAINTEXT, and Kafka's own console consumer reads the records back over the
// PLAINTEXT listener; a wrong password, an untrusted CA and a hostname mismatch fail with clear errors
// and a reconnect backoff; ACLs deny one topic while another works in the same producer; sessions
// re-authenticate (KIP-368) under load; no secret reaches any output. One broker for the whole file.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { addAcls, allowProduce, allowTransactionalId } from '../../scripts/kafka/acl.js'
import { startKafka, type SecureKafkaCluster } from '../../scripts/kafka/cluster.js'
import { consoleConsumeRecords } from '../../scripts/kafka/tools.js'
import { Instrumentation } from '../../src/observability/events.js'
import {
  KafkaError,
  Producer,
  type OAuthBearerToken,
  type ProducerConfig,
  type DeliveryReport,
} from '../../src/index.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

/** Short, so that the re-authentication test sees several rounds (KIP-368; the broker's setting). */
const REAUTH_MS = 4_000

let cluster: SecureKafkaCluster

before(async () => {
  cluster = await startKafka({
    security: true,
    brokerProps: { 'connections.max.reauth.ms': String(REAUTH_MS) },
  })
})

after(async () => {
  await cluster?.stop()
})

/** An unsecured JWT (alg none), which the broker's default OAUTHBEARER validator accepts: tests only. */
function unsecuredJwt(sub: string, lifetimeMs: number): OAuthBearerToken {
  const now = Date.now()
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const token = `${b64({ alg: 'none' })}.${b64({ sub, iat: Math.floor(now / 1000), exp: Math.floor((now + lifetimeMs) / 1000) })}.`
  return { token, expiresAtMs: now + lifetimeMs, principal: sub }
}

function saslSsl(mechanism: string, user: 'admin' | 'alice' = 'admin'): ProducerConfig {
  return {
    'bootstrap.servers': cluster.security.listeners.saslSsl,
    'security.protocol': 'SASL_SSL',
    'ssl.ca.location': cluster.security.caPath,
    'sasl.mechanisms': mechanism as ProducerConfig['sasl.mechanisms'],
    'sasl.username': cluster.security.users[user].name,
    'sasl.password': cluster.security.users[user].password,
  }
}

/** Produces `count` records `<label>-<i>` to `topic` and flushes; every report must be a success. */
async function produceAll(config: ProducerConfig, topic: string, label: string, count = 20): Promise<void> {
  const producer = new Producer({ 'linger.ms': 5, ...config })
  try {
    const reports = await Promise.all(
      Array.from({ length: count }, (_, i) => producer.send({ topic, key: label, value: `${label}-${i}` })),
    )
    assert.equal(reports.length, count)
  } finally {
    await producer.close()
  }
}

describe('produce over every secured listener and mechanism, read back by an independent consumer', () => {
  it('SSL (client certificate), SASL_SSL × 4 mechanisms, SASL_PLAINTEXT, sasl.jaas.config', async () => {
    const s = cluster.security
    const topic = uniqueTopic('secure-all')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 2 })
    // The client certificate's principal is no super user: it needs an ACL like any other.
    await allowProduce(cluster, s.clientPrincipal, topic)
    const runs: [string, ProducerConfig][] = [
      [
        'ssl-mtls',
        {
          'bootstrap.servers': s.listeners.ssl,
          'security.protocol': 'ssl',
          'ssl.ca.location': s.caPath,
          'ssl.certificate.location': s.clientCertPath,
          'ssl.key.location': s.clientKeyEncryptedPath,
          'ssl.key.password': s.clientKeyPassphrase,
        },
      ],
      ['sasl-ssl-plain', saslSsl('PLAIN')],
      ['sasl-ssl-scram-256', saslSsl('SCRAM-SHA-256')],
      ['sasl-ssl-scram-512', saslSsl('SCRAM-SHA-512')],
      [
        'sasl-ssl-oauthbearer',
        {
          'bootstrap.servers': s.listeners.saslSsl,
          'security.protocol': 'sasl_ssl',
          'ssl.ca.pem': s.caPem,
          'sasl.mechanism': 'OAUTHBEARER',
          oauth_cb: async () => unsecuredJwt('admin', 3_600_000),
        },
      ],
      [
        'sasl-plaintext-plain',
        {
          'bootstrap.servers': s.listeners.saslPlaintext,
          'security.protocol': 'SASL_PLAINTEXT',
          'sasl.mechanisms': 'PLAIN',
          'sasl.username': s.users.admin.name,
          'sasl.password': s.users.admin.password,
        },
      ],
      [
        'sasl-plaintext-jaas-scram',
        {
          'bootstrap.servers': s.listeners.saslPlaintext,
          'security.protocol': 'SASL_PLAINTEXT',
          'sasl.mechanism': 'SCRAM-SHA-512',
          'sasl.jaas.config':
            'org.apache.kafka.common.security.scram.ScramLoginModule required ' +
            `username="${s.users.admin.name}" password="${s.users.admin.password}";`,
        },
      ],
    ]
    for (const [label, config] of runs) await produceAll(config, topic, label)
    const records = await consoleConsumeRecords({
      bootstrapServers: cluster.bootstrapServers,
      topic,
      isolationLevel: 'read_uncommitted',
      maxMessages: runs.length * 20,
    })
    const values = new Set(records.map((r) => r.value))
    for (const [label] of runs) {
      for (let i = 0; i < 20; i++) assert.ok(values.has(`${label}-${i}`), `${label}-${i} read back`)
    }
    assert.equal(records.length, runs.length * 20)
  })
})

describe('failures say what failed, soon', () => {
  it('a wrong password: SASL_AUTHENTICATION_FAILED within seconds, and reconnects back off over 30 s', async () => {
    const topic = uniqueTopic('secure-wrong-pw')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 1 })
    const events = new Instrumentation()
    let attempts = 0
    events.on('connection.failed', () => attempts++)
    const errors: KafkaError[] = []
    const producer = new Producer(
      {
        ...saslSsl('SCRAM-SHA-512', 'alice'),
        'sasl.password': 'not-the-password',
        'reconnect.backoff.ms': 100,
        'reconnect.backoff.max.ms': 2_000,
        error_cb: (e) => errors.push(e),
      },
      { instrumentation: events },
    )
    try {
      const started = Date.now()
      const err = await producer.send({ topic, value: 'x' }).then(
        () => assert.fail('delivered with a wrong password'),
        (e: unknown) => e as KafkaError,
      )
      const tookMs = Date.now() - started
      assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED', err.message)
      assert.equal(err.retriable, false)
      assert.match(err.message, /SCRAM-SHA-512/)
      assert.ok(tookMs < 5_000, `failed after ${tookMs} ms`)
      // Keep sending for 30 s: each record fails with the refusal; attempts grow with the backoff.
      const outcomes: string[] = []
      const until = Date.now() + 30_000
      while (Date.now() < until) {
        await producer.send({ topic, value: 'y' }).then(
          () => outcomes.push('delivered'),
          (e: KafkaError) => outcomes.push(e.code),
        )
        await new Promise((r) => setTimeout(r, 200))
      }
      assert.ok(
        outcomes.every((c) => c === 'SASL_AUTHENTICATION_FAILED'),
        outcomes.join(','),
      )
      // 100, 200, 400, 800, 1600 ms, then one attempt per ~2 s: about 19 in 30 s (a storm would be
      // hundreds). Printed for the closing note.
      console.log(
        `wrong password: ${attempts} connection attempts in 30 s, ${outcomes.length} records refused`,
      )
      assert.ok(attempts >= 8 && attempts <= 30, `${attempts} attempts`)
      assert.equal(errors.filter((e) => e.code === 'SASL_AUTHENTICATION_FAILED').length, 1, 'error_cb once')
    } finally {
      await producer.close()
    }
  })

  it('an untrusted CA and a hostname mismatch: _SSL errors saying which', async () => {
    const s = cluster.security
    const port = s.listeners.saslSsl.split(',')[0]!.split(':')[1]!
    const cases: [string, ProducerConfig, RegExp][] = [
      [
        'untrusted CA',
        { ...saslSsl('PLAIN'), 'ssl.ca.location': s.untrustedCaPath },
        /broker certificate not trusted/,
      ],
      [
        'hostname mismatch',
        { ...saslSsl('PLAIN'), 'bootstrap.servers': `127.0.0.1:${port}` },
        /does not match host 127\.0\.0\.1/,
      ],
    ]
    for (const [label, config, message] of cases) {
      const producer = new Producer({ ...config, 'reconnect.backoff.ms': 200 })
      try {
        const err = await producer.send({ topic: 'any', value: 'x' }).then(
          () => assert.fail(`${label}: delivered`),
          (e: unknown) => e as KafkaError,
        )
        assert.equal(err.code, '_SSL', `${label}: ${err.message}`)
        assert.match(err.message, message, label)
      } finally {
        await producer.close()
      }
    }
    // The same hostname mismatch is accepted when the check is off (Java's empty algorithm).
    const topic = uniqueTopic('secure-no-hostcheck')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 1 })
    const producer = new Producer({
      ...saslSsl('PLAIN'),
      'bootstrap.servers': `127.0.0.1:${port}`,
      'ssl.endpoint.identification.algorithm': 'none',
    })
    try {
      // Metadata then names the broker as localhost, whose certificate matches anyway.
      const report: DeliveryReport = await producer.send({ topic, value: 'x' })
      assert.equal(report.topic, topic)
    } finally {
      await producer.close()
    }
  })

  it('a denied topic fails with TOPIC_AUTHORIZATION_FAILED while an allowed one works in the same producer', async () => {
    const allowed = uniqueTopic('secure-allowed')
    const denied = uniqueTopic('secure-denied')
    await createTopic(cluster.bootstrapServers, { name: allowed, numPartitions: 2 })
    await createTopic(cluster.bootstrapServers, { name: denied, numPartitions: 2 })
    await allowProduce(cluster, 'User:alice', allowed)
    const producer = new Producer({ ...saslSsl('SCRAM-SHA-256', 'alice'), 'linger.ms': 2 })
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => [
          producer.send({ topic: allowed, key: `k${i}`, value: `ok-${i}` }),
          producer.send({ topic: denied, key: `k${i}`, value: `no-${i}` }),
        ]).flat(),
      )
      for (let i = 0; i < outcomes.length; i++) {
        const o = outcomes[i]!
        if (i % 2 === 0) assert.equal(o.status, 'fulfilled', `allowed #${i}`)
        else {
          assert.equal(o.status, 'rejected', `denied #${i}`)
          const err = (o as PromiseRejectedResult).reason as KafkaError
          assert.equal(err.code, 'TOPIC_AUTHORIZATION_FAILED', err.message)
          assert.equal(err.retriable, false)
          assert.match(err.message, new RegExp(`${denied}.*authorization failed`, 'i'))
        }
      }
      // The producer is not stuck: the allowed topic keeps working after the refusals.
      await producer.send({ topic: allowed, value: 'after' })
    } finally {
      await producer.close()
    }
  })
})

describe('authorization of the producer id and the transactional id', () => {
  /** OAUTHBEARER as `sub`: a principal with no password and only the ACLs a test gives it. */
  function asPrincipal(sub: string, extra: ProducerConfig = {}): ProducerConfig {
    return {
      'bootstrap.servers': cluster.security.listeners.saslPlaintext,
      'security.protocol': 'sasl_plaintext',
      'sasl.mechanism': 'OAUTHBEARER',
      oauth_cb: () => unsecuredJwt(sub, 3_600_000),
      ...extra,
    }
  }

  it('no Write on any topic: idempotent producing fails with CLUSTER_AUTHORIZATION_FAILED, fatal', async () => {
    const topic = uniqueTopic('secure-describe-only')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 1 })
    // Describe only: metadata answers, but InitProducerId needs Write on some topic (KIP-679).
    await addAcls(cluster, {
      principal: 'User:carol',
      operations: ['Describe'],
      resource: { type: 'topic', name: topic },
    })
    const errors: KafkaError[] = []
    const producer = new Producer(asPrincipal('carol', { error_cb: (e) => errors.push(e) }))
    try {
      const err = await producer.send({ topic, value: 'x' }).then(
        () => assert.fail('delivered without Write'),
        (e: unknown) => e as KafkaError,
      )
      assert.equal(err.code, 'CLUSTER_AUTHORIZATION_FAILED', err.message)
      assert.equal(producer.fatal?.code, 'CLUSTER_AUTHORIZATION_FAILED')
      assert.throws(
        () => producer.produce({ topic, value: 'y' }),
        /CLUSTER_AUTHORIZATION_FAILED|Cluster authorization/,
      )
    } finally {
      await producer.close()
    }
  })

  it('no ACL on the transactional id: initTransactions() fails with TRANSACTIONAL_ID_AUTHORIZATION_FAILED; with it, commits', async () => {
    const topic = uniqueTopic('secure-txn')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 1 })
    await allowProduce(cluster, 'User:dave', topic)
    const id = `secure-txn-${Date.now()}`
    const denied = new Producer(asPrincipal('dave', { 'transactional.id': id }))
    try {
      const err = await denied.initTransactions(10_000).then(
        () => assert.fail('initTransactions without an ACL'),
        (e: unknown) => e as KafkaError,
      )
      assert.equal(err.code, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', err.message)
      assert.equal(err.fatal, true)
    } finally {
      await denied.close()
    }
    await allowTransactionalId(cluster, 'User:dave', id)
    const allowed = new Producer(asPrincipal('dave', { 'transactional.id': id }))
    try {
      await allowed.initTransactions(30_000)
      allowed.beginTransaction()
      allowed.produce({ topic, value: 'committed' })
      await allowed.commitTransaction()
    } finally {
      await allowed.close()
    }
    const records = await consoleConsumeRecords({
      bootstrapServers: cluster.bootstrapServers,
      topic,
      isolationLevel: 'read_committed',
      maxMessages: 1,
    })
    assert.deepEqual(
      records.map((r) => r.value),
      ['committed'],
    )
  })
})

describe('sessions and secrets', () => {
  it(`re-authenticates every ~${REAUTH_MS} ms under load without dropping a request (KIP-368)`, async () => {
    const topic = uniqueTopic('secure-reauth')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 3 })
    const events = new Instrumentation()
    let opened = 0
    let closed = 0
    let saslRequests = 0
    events.on('connection.opened', () => opened++)
    events.on('connection.closed', () => closed++)
    events.on('request.sent', (e) => {
      if (e.apiKey === 36) saslRequests++ // SaslAuthenticate
    })
    let tokens = 0
    const producer = new Producer(
      {
        'bootstrap.servers': cluster.security.listeners.saslSsl,
        'security.protocol': 'sasl_ssl',
        'ssl.ca.location': cluster.security.caPath,
        'sasl.mechanism': 'OAUTHBEARER',
        // Tokens live 6 s: each re-authentication needs a fresh one (refreshed at 80 % of its life).
        oauth_cb: () => {
          tokens++
          return unsecuredJwt('admin', 6_000)
        },
        'linger.ms': 1,
      },
      { instrumentation: events },
    )
    let sent = 0
    try {
      const until = Date.now() + 3 * REAUTH_MS
      const pending: Promise<unknown>[] = []
      while (Date.now() < until) {
        for (let i = 0; i < 50; i++)
          pending.push(producer.send({ topic, key: `k${sent % 7}`, value: `v${sent++}` }))
        await new Promise((r) => setTimeout(r, 20))
      }
      const results = await Promise.allSettled(pending)
      const failed = results.filter((r) => r.status === 'rejected')
      assert.equal(failed.length, 0, String((failed[0] as PromiseRejectedResult | undefined)?.reason))
    } finally {
      await producer.close()
    }
    console.log(
      `re-authentication: ${sent} records, ${saslRequests} SaslAuthenticate requests, ${opened} connections ` +
        `opened, ${closed} closed, ${tokens} tokens`,
    )
    // Two connections (bootstrap, then the broker by node id) each re-authenticated at least twice.
    assert.ok(saslRequests >= opened + 4, `${saslRequests} SaslAuthenticate for ${opened} connections`)
    assert.ok(closed <= opened, 'connections closed only by close()')
    assert.ok(tokens >= 3, `${tokens} tokens fetched`)
  })

  it('debug: all output, util.inspect and JSON of the producer show no password, key password or token', async () => {
    const s = cluster.security
    const topic = uniqueTopic('secure-secrets')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 1 })
    const jwt = unsecuredJwt('admin', 3_600_000)
    const captured: string[] = []
    const write = (stream: NodeJS.WriteStream) => {
      const original = stream.write.bind(stream)
      stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        captured.push(String(chunk))
        return original(chunk, ...rest)
      }) as typeof stream.write
      return () => {
        stream.write = original
      }
    }
    const restore = [write(process.stdout), write(process.stderr)]
    const errors: string[] = []
    const events = new Instrumentation()
    for (const name of [
      'connection.opened',
      'connection.failed',
      'connection.closed',
      'request.sent',
    ] as const) {
      events.on(name, (e) => captured.push(inspect(e, { depth: 6 })))
    }
    try {
      const configs: ProducerConfig[] = [
        { ...saslSsl('SCRAM-SHA-512'), 'ssl.key.password': s.clientKeyPassphrase },
        { ...saslSsl('SCRAM-SHA-512'), 'sasl.password': `${s.users.admin.password}-wrong` },
        {
          'bootstrap.servers': s.listeners.saslSsl,
          'security.protocol': 'sasl_ssl',
          'ssl.ca.location': s.caPath,
          'sasl.mechanism': 'OAUTHBEARER',
          oauth_cb: () => jwt,
        },
      ]
      for (const config of configs) {
        const producer = new Producer(
          { ...config, debug: 'all', error_cb: (e) => errors.push(`${e.message} ${inspect(e)}`) },
          { instrumentation: events },
        )
        try {
          await producer.send({ topic, value: 'x' }).then(
            () => {},
            (e: KafkaError) => errors.push(`${e.message} ${inspect(e, { depth: 6 })} ${JSON.stringify(e)}`),
          )
          captured.push(inspect(producer, { depth: 8, showHidden: true }), JSON.stringify(producer.config))
        } finally {
          await producer.close()
        }
      }
    } finally {
      for (const r of restore) r()
    }
    const all = [...captured, ...errors].join('\n')
    assert.ok(
      errors.some((e) => /SASL_AUTHENTICATION_FAILED|Authentication failed/.test(e)),
      'the wrong password was refused',
    )
    for (const [what, secret] of [
      ['admin password', s.users.admin.password],
      ['alice password', s.users.alice.password],
      ['key passphrase', s.clientKeyPassphrase],
      ['token', jwt.token],
      ['token payload', jwt.token.split('.')[1]!],
    ] as const) {
      assert.ok(!all.includes(secret), `${what} appears in the output`)
    }
    // And debug 'all' did log (to stderr, the default logger): the SASL steps, the configuration with
    // its secrets redacted, the records' requests (docs/logging.md).
    for (const step of [
      /^%7\|[\d.]+\|SEND\|[^|]+\| sent SaslHandshake v\d+ request/m,
      /^%7\|[\d.]+\|SEND\|[^|]+\| sent SaslAuthenticate v\d+ request/m,
      /^%7\|[\d.]+\|CONF\|[^|]+\| sasl\.password = \[redacted\]$/m,
      /^%7\|[\d.]+\|CONF\|[^|]+\| ssl\.key\.password = \[redacted\]$/m,
      /^%7\|[\d.]+\|SEND\|[^|]+\| sent Produce v\d+ request/m,
      /^%3\|[\d.]+\|ERROR\|[^|]+\| SASL_AUTHENTICATION_FAILED: /m,
    ]) {
      assert.match(all, step)
    }
  })
})
