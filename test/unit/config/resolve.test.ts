import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CATALOGUE,
  ConfigError,
  KEY_INDEX,
  checkIdempotenceRules,
  resolveProducerConfig,
  tlsEscapeHatch,
  type MutableResolvedProducerConfig,
} from '../../../src/config/index.js'
import { KafkaError } from '../../../src/errors/index.js'

const BASE = { 'bootstrap.servers': 'localhost:9092' }

function configError(fn: () => unknown, key: string, pattern?: RegExp): ConfigError {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`)
  assert.ok(caught instanceof KafkaError)
  assert.equal(caught.code, '_INVALID_ARG')
  assert.equal(caught.name, 'ConfigError')
  assert.equal(caught.retriable, false)
  assert.equal(caught.key, key)
  if (pattern) assert.match(caught.message, pattern)
  return caught
}

describe("the guide's dictionaries resolve", () => {
  it('Production Configuration', () => {
    // Copied from the guide's "Production Configuration" section (Python → JS literal).
    const producer = {
      // Connection
      'bootstrap.servers': 'kafka:9092',
      'client.id': 'order-service-producer',

      // Durability (CRITICAL)
      acks: 'all', // Wait for all replicas
      'enable.idempotence': true, // Prevent duplicates

      // Retries
      retries: 2147483647, // Infinite retries
      'retry.backoff.ms': 100, // Backoff between retries
      'delivery.timeout.ms': 120000, // 2 min total timeout

      // Batching (performance)
      'batch.size': 16384, // 16KB batch
      'linger.ms': 5, // Wait 5ms for batch
      'compression.type': 'lz4', // Compress batches

      // Memory
      'buffer.memory': 33554432, // 32MB buffer
      'max.block.ms': 60000, // Block if buffer full
    }
    const c = resolveProducerConfig(producer)
    assert.deepEqual(c.bootstrapServers, ['kafka:9092'])
    assert.equal(c.clientId, 'order-service-producer')
    assert.equal(c.acks, -1)
    assert.equal(c.enableIdempotence, true)
    assert.equal(c.enableIdempotenceExplicit, true)
    assert.equal(c.retries, 2147483647)
    assert.equal(c.retryBackoffMs, 100)
    assert.equal(c.deliveryTimeoutMs, 120000)
    assert.equal(c.batchSize, 16384)
    assert.equal(c.lingerMs, 5)
    assert.equal(c.compressionType, 'lz4')
    assert.equal(c.bufferMemory, 33554432)
    assert.equal(c.maxBlockMs, 60000)
    assert.deepEqual(c.notImplemented, [])
    assert.ok(Object.isFrozen(c))
  })

  it('basic producer', () => {
    const c = resolveProducerConfig({ 'bootstrap.servers': 'kafka:9092', 'client.id': 'my-producer' })
    assert.equal(c.clientId, 'my-producer')
  })

  it('at-most-once', () => {
    const c = resolveProducerConfig({ 'bootstrap.servers': 'kafka:9092', acks: '0' })
    assert.equal(c.acks, 0)
    // enable.idempotence was not set: acks 0 turns it off silently, as Java does.
    assert.equal(c.enableIdempotence, false)
    assert.equal(c.enableIdempotenceExplicit, false)
  })

  it('at-least-once', () => {
    const c = resolveProducerConfig({
      'bootstrap.servers': 'kafka:9092',
      acks: 'all',
      'enable.idempotence': true,
      retries: 2147483647,
    })
    assert.equal(c.acks, -1)
    assert.equal(c.enableIdempotence, true)
  })

  it('exactly-once', () => {
    const c = resolveProducerConfig({
      'bootstrap.servers': 'kafka:9092',
      'transactional.id': 'order-processor-1', // Unique per instance
      acks: 'all',
      'enable.idempotence': true,
    })
    assert.equal(c.transactionalId, 'order-processor-1')
    assert.equal(c.transactionTimeoutMs, 60000)
    assert.deepEqual(c.notImplemented, [])
  })

  it('ReliableProducer', () => {
    const c = resolveProducerConfig({
      'bootstrap.servers': 'localhost:30092',
      'client.id': 'task-service',
      acks: 'all',
      'enable.idempotence': true,
      retries: 2147483647,
      'delivery.timeout.ms': 120000,
    })
    assert.equal(c.deliveryTimeoutMs, 120000)
  })

  it('batching for throughput', () => {
    const c = resolveProducerConfig({
      'bootstrap.servers': 'kafka:9092',
      acks: 'all',

      // Aggressive batching
      'batch.size': 65536, // 64KB batches
      'linger.ms': 50, // Wait 50ms for batch
      'compression.type': 'lz4',

      // More in-flight
      'max.in.flight.requests.per.connection': 5,
    })
    assert.equal(c.batchSize, 65536)
    assert.equal(c.lingerMs, 50)
    assert.equal(c.maxInFlight, 5)
    assert.equal(c.enableIdempotence, true)
  })

  it('stats callback', () => {
    const stats_callback = (_json: string): void => {}
    const c = resolveProducerConfig({
      'bootstrap.servers': 'localhost:30092',
      'linger.ms': 50,
      'batch.size': 65536,
      stats_cb: stats_callback,
      'statistics.interval.ms': 5000, // Stats every 5 seconds
    })
    assert.equal(c.statsCb, stats_callback)
    assert.equal(c.statisticsIntervalMs, 5000)
    // Both implemented (docs/statistics.md): neither is reported as having no effect.
    assert.deepEqual(c.notImplemented, [])
  })
})

describe('defaults', () => {
  it('follow the Java producer', () => {
    const c = resolveProducerConfig(BASE)
    assert.equal(c.acks, -1)
    assert.equal(c.lingerMs, 5)
    assert.equal(c.batchSize, 16384)
    assert.equal(c.bufferMemory, 32 * 1024 * 1024)
    assert.equal(c.maxBlockMs, 60000)
    assert.equal(c.deliveryTimeoutMs, 120000)
    assert.equal(c.requestTimeoutMs, 30000)
    assert.equal(c.retries, 2147483647)
    assert.equal(c.retryBackoffMs, 100)
    assert.equal(c.retryBackoffMaxMs, 1000)
    assert.equal(c.maxInFlight, 5)
    assert.equal(c.messageMaxBytes, 1048576)
    assert.equal(c.metadataMaxAgeMs, 300000)
    assert.equal(c.topicMetadataRefreshIntervalMs, 300000)
    assert.equal(c.enableIdempotence, true)
    assert.equal(c.enableIdempotenceExplicit, false)
    assert.equal(c.compressionType, 'none')
    assert.equal(c.compressionLevel, null)
    assert.equal(c.partitioner, 'murmur2_random')
    assert.equal(c.transactionalId, null)
    assert.equal(c.statsCb, null)
    assert.equal(c.deliveryReportCb, null)
    assert.equal(c.errorCb, null)
    assert.deepEqual(c.debug, [])
    assert.deepEqual(c.notImplemented, [])
  })

  it('every catalogue entry has its resolved property', () => {
    const c = resolveProducerConfig(BASE) as unknown as Record<string, unknown>
    for (const e of CATALOGUE) assert.ok(e.prop in c, `${e.name} → ${e.prop}`)
  })

  it('undefined and null mean "not set"', () => {
    const c = resolveProducerConfig({ ...BASE, 'linger.ms': undefined, 'transactional.id': null })
    assert.equal(c.lingerMs, 5)
    assert.equal(c.transactionalId, null)
  })

  it('bootstrap.servers is required', () => {
    configError(() => resolveProducerConfig({}), 'bootstrap.servers', /required/)
  })
})

describe('aliases', () => {
  const cases: [string, unknown, keyof ReturnType<typeof resolveProducerConfig>, unknown][] = [
    ['metadata.broker.list', 'a:1,b:2', 'bootstrapServers', ['a:1', 'b:2']],
    ['queue.buffering.max.ms', 7, 'lingerMs', 7],
    ['message.send.max.retries', 3, 'retries', 3],
    ['max.in.flight', 2, 'maxInFlight', 2],
    ['max.request.size', 2000000, 'messageMaxBytes', 2000000],
    ['compression.codec', 'zstd', 'compressionType', 'zstd'],
    ['socket.timeout.ms', 20000, 'requestTimeoutMs', 20000],
    ['message.timeout.ms', 90000, 'deliveryTimeoutMs', 90000],
    ['request.required.acks', -1, 'acks', -1],
    ['sasl.mechanisms', 'scram-sha-512', 'saslMechanism', 'SCRAM-SHA-512'],
    ['queue.buffering.max.kbytes', 1024, 'bufferMemory', 1024 * 1024],
  ]
  for (const [alias, value, prop, expected] of cases) {
    it(`${alias} → ${prop}`, () => {
      const c = resolveProducerConfig({ ...(alias === 'metadata.broker.list' ? {} : BASE), [alias]: value })
      assert.deepEqual(c[prop], expected)
    })
  }

  it('dr_cb, dr_msg_cb and on_delivery are one callback', () => {
    const fn = (): void => {}
    for (const key of ['dr_cb', 'dr_msg_cb', 'on_delivery']) {
      assert.equal(resolveProducerConfig({ ...BASE, [key]: fn }).deliveryReportCb, fn)
    }
  })

  it('every alias in the catalogue is accepted and maps to its entry', () => {
    for (const e of CATALOGUE) {
      for (const a of e.aliases) assert.equal(KEY_INDEX.get(a.name)?.entry, e)
    }
  })

  it('queue.buffering.max.kbytes is converted from KiB to bytes', () => {
    const c = resolveProducerConfig({ ...BASE, 'queue.buffering.max.kbytes': '32768' })
    assert.equal(c.bufferMemory, 33554432)
  })

  it('the same value under two spellings is fine', () => {
    const c = resolveProducerConfig({
      ...BASE,
      'buffer.memory': 33554432,
      'queue.buffering.max.kbytes': 32768,
    })
    assert.equal(c.bufferMemory, 33554432)
    resolveProducerConfig({ ...BASE, 'linger.ms': 5, 'queue.buffering.max.ms': '5' })
  })

  it('different values under two spellings → ConfigError', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'linger.ms': 5, 'queue.buffering.max.ms': 10 }),
      'linger.ms',
      /'linger.ms' and 'queue.buffering.max.ms'.*different values/,
    )
    configError(
      () => resolveProducerConfig({ ...BASE, 'buffer.memory': 33554432, 'queue.buffering.max.kbytes': 1024 }),
      'buffer.memory',
    )
  })
})

describe('value parsing', () => {
  it('acks accepts every Python spelling', () => {
    const table: [unknown, number][] = [
      ['all', -1],
      ['-1', -1],
      ['0', 0],
      ['1', 1],
      [-1, -1],
      [0, 0],
      [1, 1],
    ]
    for (const [v, expected] of table)
      assert.equal(resolveProducerConfig({ ...BASE, acks: v }).acks, expected)
  })

  it("acks: 'some' → ConfigError", () => {
    configError(
      () => resolveProducerConfig({ ...BASE, acks: 'some' }),
      'acks',
      /'some'.*'all', '-1', '0', '1'/,
    )
    configError(() => resolveProducerConfig({ ...BASE, acks: 2 }), 'acks')
  })

  it('booleans as booleans or strings', () => {
    assert.equal(resolveProducerConfig({ ...BASE, 'enable.idempotence': 'false' }).enableIdempotence, false)
    assert.equal(resolveProducerConfig({ ...BASE, 'enable.idempotence': 'true' }).enableIdempotence, true)
    configError(() => resolveProducerConfig({ ...BASE, 'enable.idempotence': 'yes' }), 'enable.idempotence')
    configError(() => resolveProducerConfig({ ...BASE, 'enable.idempotence': 1 }), 'enable.idempotence')
  })

  it('numbers as numbers or numeric strings', () => {
    assert.equal(resolveProducerConfig({ ...BASE, 'linger.ms': '100' }).lingerMs, 100)
    assert.equal(resolveProducerConfig({ ...BASE, 'linger.ms': 0.5 }).lingerMs, 0.5)
    assert.equal(resolveProducerConfig({ ...BASE, 'batch.size': '65536' }).batchSize, 65536)
  })

  it('wrong type → ConfigError naming key, value and expectation', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'linger.ms': 'soon' }),
      'linger.ms',
      /Invalid value 'soon' for config key 'linger.ms': expected a number from 0 to 900000 ms/,
    )
    configError(() => resolveProducerConfig({ ...BASE, 'batch.size': 1.5 }), 'batch.size', /an integer/)
    configError(() => resolveProducerConfig({ ...BASE, 'client.id': 42 }), 'client.id', /a string/)
    configError(() => resolveProducerConfig({ ...BASE, stats_cb: 'print' }), 'stats_cb', /a function/)
    configError(() => resolveProducerConfig({ ...BASE, retries: true }), 'retries')
  })

  it('out of range → ConfigError with the bounds', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'linger.ms': -1 }),
      'linger.ms',
      /out of range: -1 given, expected from 0 to 900000 ms/,
    )
    configError(() => resolveProducerConfig({ ...BASE, 'max.in.flight': 0 }), 'max.in.flight')
    configError(
      () => resolveProducerConfig({ ...BASE, 'queue.buffering.max.kbytes': 0 }),
      'queue.buffering.max.kbytes',
      /from 1 to 2147483647 KiB/,
    )
  })

  it('enum values are checked', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'compression.type': 'brotli' }),
      'compression.type',
      /'brotli'.*'none', 'gzip', 'snappy', 'lz4', 'zstd'/,
    )
    assert.equal(
      resolveProducerConfig({ ...BASE, 'security.protocol': 'PLAINTEXT' }).securityProtocol,
      'plaintext',
    )
    configError(() => resolveProducerConfig({ ...BASE, 'security.protocol': 'tls' }), 'security.protocol')
    configError(() => resolveProducerConfig({ ...BASE, partitioner: 'roundrobin' }), 'partitioner')
  })

  it('a partitioner function is accepted', () => {
    const fn = (): number => 0
    assert.equal(resolveProducerConfig({ ...BASE, partitioner: fn }).partitioner, fn)
  })

  it('compression.level is checked per codec', () => {
    assert.equal(
      resolveProducerConfig({ ...BASE, 'compression.type': 'gzip', 'compression.level': 6 }).compressionLevel,
      6,
    )
    assert.equal(resolveProducerConfig({ ...BASE, 'compression.level': -1 }).compressionLevel, null)
    configError(
      () => resolveProducerConfig({ ...BASE, 'compression.type': 'gzip', 'compression.level': 12 }),
      'compression.level',
      /gzip/,
    )
  })

  it('secrets are not echoed', () => {
    const err = configError(() => resolveProducerConfig({ ...BASE, 'sasl.password': 1234 }), 'sasl.password')
    assert.doesNotMatch(err.message, /1234/)
  })

  it('debug contexts are validated (and implemented: docs/logging.md)', () => {
    const c = resolveProducerConfig({ ...BASE, debug: 'broker,topic,msg' })
    assert.deepEqual(c.debug, ['broker', 'topic', 'msg'])
    assert.deepEqual(c.notImplemented, [])
    configError(() => resolveProducerConfig({ ...BASE, debug: 'brokers' }), 'debug')
  })

  it('topic.metadata.refresh.interval.ms is validated but listed as not implemented; compression.level is implemented', () => {
    const c = resolveProducerConfig({
      ...BASE,
      'compression.type': 'gzip',
      'compression.level': 6,
      'topic.metadata.refresh.interval.ms': 1000,
    })
    assert.deepEqual(c.notImplemented, ['topic.metadata.refresh.interval.ms'])
    assert.equal(c.compressionLevel, 6)
  })
})

describe('TLS and SASL settings', () => {
  for (const protocol of ['ssl', 'SSL', 'sasl_plaintext', 'SASL_PLAINTEXT', 'sasl_ssl', 'SASL_SSL']) {
    it(`security.protocol '${protocol}' is accepted in any case`, () => {
      const c = resolveProducerConfig({
        ...BASE,
        'security.protocol': protocol,
        'sasl.mechanisms': 'PLAIN',
        'sasl.username': 'alice',
        'sasl.password': 'pw',
      })
      assert.equal(c.securityProtocol, protocol.toLowerCase())
      assert.deepEqual(c.notImplemented, [])
    })
  }

  it('a SASL protocol with GSSAPI (the default mechanism) → ConfigError naming the alternatives', () => {
    const err = configError(
      () => resolveProducerConfig({ ...BASE, 'security.protocol': 'SASL_SSL' }),
      'sasl.mechanism',
      /GSSAPI \(the default, as in Java and librdkafka\).*PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER/,
    )
    assert.doesNotMatch(err.message, /undefined/)
    configError(
      () =>
        resolveProducerConfig({
          ...BASE,
          'security.protocol': 'sasl_plaintext',
          'sasl.mechanisms': 'gssapi',
        }),
      'sasl.mechanisms',
      /is GSSAPI, which this client does not implement/,
    )
  })

  it("Java's keystore and truststore keys resolve, their types in any case", () => {
    const c = resolveProducerConfig({
      ...BASE,
      'security.protocol': 'ssl',
      'ssl.keystore.type': 'pkcs12',
      'ssl.keystore.location': '/etc/client.p12',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': '/etc/ca.pem',
      'ssl.endpoint.identification.algorithm': '',
    } as Record<string, unknown>)
    assert.equal(c.sslKeystoreType, 'PKCS12')
    assert.equal(c.sslTruststoreType, 'PEM')
    assert.equal(c.sslTruststoreLocation, '/etc/ca.pem')
    assert.equal(c.sslEndpointIdentificationAlgorithm, 'none', "Java's empty value turns the check off")
  })

  it('the tls escape hatch must be an object and is kept out of the resolved configuration', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, tls: 'yes' } as Record<string, unknown>),
      'tls',
      /an object/,
    )
    const c = resolveProducerConfig({ ...BASE, tls: { minVersion: 'TLSv1.3' } })
    assert.equal(c.tls, '[redacted]')
    assert.deepEqual(tlsEscapeHatch(c), { minVersion: 'TLSv1.3' })
  })

  it('only the Kerberos keys are still marked not implemented', () => {
    const open = CATALOGUE.filter((e) => e.group === 'Security' && e.implemented !== true).map((e) => e.name)
    assert.deepEqual(open, ['sasl.kerberos.service.name', 'sasl.kerberos.principal', 'sasl.kerberos.keytab'])
  })
})

describe('unknown keys', () => {
  it('suggest the closest known key', () => {
    const err = configError(
      () => resolveProducerConfig({ ...BASE, 'linger.msec': 5 }),
      'linger.msec',
      /^Unknown config key 'linger.msec'. Did you mean 'linger.ms'\?$/,
    )
    assert.equal(err.suggestion, 'linger.ms')
    assert.equal(
      configError(() => resolveProducerConfig({ ...BASE, 'bootstrap.server': 'x:1' }), 'bootstrap.server')
        .suggestion,
      'bootstrap.servers',
    )
    assert.equal(
      configError(() => resolveProducerConfig({ ...BASE, 'enable.idempotency': true }), 'enable.idempotency')
        .suggestion,
      'enable.idempotence',
    )
  })

  it('without a plausible suggestion, say only that it is unknown', () => {
    const err = configError(() => resolveProducerConfig({ ...BASE, 'group.id': 'g' }), 'group.id', /^Unknown/)
    assert.equal(err.suggestion, undefined)
  })
})

describe('bootstrap.servers', () => {
  it('splits, trims and validates host:port', () => {
    const c = resolveProducerConfig({
      'bootstrap.servers': ' a.example:9092 , 10.0.0.1:19092,[::1]:9093,kafka ',
    })
    assert.deepEqual(c.bootstrapServers, ['a.example:9092', '10.0.0.1:19092', '[::1]:9093', 'kafka:9092'])
    assert.deepEqual(resolveProducerConfig({ 'bootstrap.servers': ['x:1', 'y:2'] }).bootstrapServers, [
      'x:1',
      'y:2',
    ])
    assert.deepEqual(
      resolveProducerConfig({ 'bootstrap.servers': 'PLAINTEXT://broker:9092' }).bootstrapServers,
      ['broker:9092'],
    )
  })

  it('rejects bad addresses', () => {
    for (const bad of ['host:0', 'host:70000', 'host:port', '::1:9092', '[::1', 'bad host:1', ',']) {
      configError(() => resolveProducerConfig({ 'bootstrap.servers': bad }), 'bootstrap.servers')
    }
  })
})

describe('cross-key rules', () => {
  it('delivery.timeout.ms >= linger.ms + request.timeout.ms when set explicitly', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'delivery.timeout.ms': 30000, 'linger.ms': 100 }),
      'delivery.timeout.ms',
      /at least 'linger.ms' \+ 'request.timeout.ms' \(100 \+ 30000 = 30100\)/,
    )
    resolveProducerConfig({ ...BASE, 'delivery.timeout.ms': 30100, 'linger.ms': 100 })
  })

  it('a default delivery.timeout.ms is raised to the sum instead', () => {
    const c = resolveProducerConfig({ ...BASE, 'request.timeout.ms': 200000, 'linger.ms': 1000 })
    assert.equal(c.deliveryTimeoutMs, 201000)
  })

  it('backoff maxima below the base are raised', () => {
    const c = resolveProducerConfig({ ...BASE, 'retry.backoff.ms': 2000, 'retry.backoff.max.ms': 500 })
    assert.equal(c.retryBackoffMaxMs, 2000)
  })

  it('explicit idempotence with conflicting settings → ConfigError', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'enable.idempotence': true, acks: 1 }),
      'enable.idempotence',
      /'acks' must be all/,
    )
    configError(
      () => resolveProducerConfig({ ...BASE, 'enable.idempotence': 'true', 'max.in.flight': 6 }),
      'enable.idempotence',
      /'max.in.flight' must be at most 5/,
    )
    configError(
      () => resolveProducerConfig({ ...BASE, 'enable.idempotence': true, retries: 0 }),
      'enable.idempotence',
      /'retries' must be greater than 0/,
    )
  })

  it('implicit idempotence is turned off silently by conflicting settings', () => {
    assert.equal(resolveProducerConfig({ ...BASE, acks: '1' }).enableIdempotence, false)
    assert.equal(
      resolveProducerConfig({ ...BASE, 'max.in.flight.requests.per.connection': 10 }).enableIdempotence,
      false,
    )
    assert.equal(resolveProducerConfig({ ...BASE, retries: 0 }).enableIdempotence, false)
    assert.equal(
      resolveProducerConfig({ ...BASE, 'enable.idempotence': false, acks: 0 }).enableIdempotence,
      false,
    )
  })

  it('transactional.id requires idempotence', () => {
    configError(
      () => resolveProducerConfig({ ...BASE, 'transactional.id': 't', 'enable.idempotence': false }),
      'transactional.id',
      /requires idempotence/,
    )
    configError(
      () => resolveProducerConfig({ ...BASE, 'transactional.id': 't', acks: 1 }),
      'transactional.id',
    )
  })

  it('checkIdempotenceRules works on a resolved object', () => {
    const c = { ...resolveProducerConfig(BASE), acks: 0 } as MutableResolvedProducerConfig
    checkIdempotenceRules(c)
    assert.equal(c.enableIdempotence, false)
  })
})
