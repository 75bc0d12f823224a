// TLS through the real Connection: real handshakes against an in-process TLS listener in front of the
// fake broker, with certificates made by openssl for this file. Each failure must reach connect() as
// the error that names it: `_SSL`, not retriable, with Node's error as cause.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Duplex } from 'node:stream'
import type tls from 'node:tls'
import { KafkaError } from '../../../src/errors/index.js'
import { Connection } from '../../../src/network/connection.js'
import { loadTlsMaterial } from '../../../src/network/tls/material.js'
import type { TlsSettings } from '../../../src/network/tls/settings.js'
import { tcpTransport, tlsTransport, type TransportFactory } from '../../../src/network/transport.js'
import { MetadataApi, type MetadataResponse } from '../../../src/protocol/index.js'
import { FakeCluster } from '../../helpers/fake-broker.js'
import { listenPlain, listenTls, type TestListener } from '../../helpers/tls-broker.js'
import {
  KEY_PASSWORD,
  STORE_PASSWORD,
  makeTestCertificates,
  type TestCertificates,
} from '../../helpers/tls-certs.js'

let certs: TestCertificates
before(() => {
  certs = makeTestCertificates()
})
after(() => certs.remove())

/** Server options: the broker certificate `name` (default the valid one for localhost). */
function serverOptions(name = 'server', extra: tls.TlsOptions = {}): tls.TlsOptions {
  return { cert: certs.read(`${name}.pem`), key: certs.read(`${name}.key`), ...extra }
}

/** Requires a client certificate signed by the test CA. */
function mtls(extra: tls.TlsOptions = {}): tls.TlsOptions {
  return serverOptions('server', {
    requestCert: true,
    rejectUnauthorized: true,
    ca: certs.read('ca.pem'),
    ...extra,
  })
}

const listeners: TestListener[] = []
after(async () => {
  for (const l of listeners) await l.close()
})

async function tlsBroker(options: tls.TlsOptions): Promise<{ cluster: FakeCluster; listener: TestListener }> {
  const cluster = new FakeCluster({ topics: { a: { partitions: 1 } } })
  const listener = await listenTls(cluster, options)
  listeners.push(listener)
  return { cluster, listener }
}

function connection(
  host: string,
  port: number,
  transport: TransportFactory,
  connectTimeoutMs = 5000,
): Connection {
  return new Connection({
    host,
    port,
    nodeId: 1,
    clientId: 'tls-test',
    requestTimeoutMs: 5000,
    connectTimeoutMs,
    transport,
  })
}

/** Connects with `settings` and sends one Metadata request; closes the connection. */
async function roundTrip(port: number, settings: TlsSettings, host = 'localhost'): Promise<MetadataResponse> {
  const conn = connection(host, port, tlsTransport(loadTlsMaterial(settings)))
  try {
    await conn.connect()
    return await conn.request(MetadataApi, {
      topics: [{ topicId: Buffer.alloc(16), name: 'a' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
  } finally {
    conn.close()
  }
}

/** connect() must fail with `code`, promptly, with a message matching `message`. */
async function connectFails(
  port: number,
  settings: TlsSettings,
  code: KafkaError['code'],
  message: RegExp,
  host = 'localhost',
  transport?: TransportFactory,
): Promise<KafkaError> {
  const conn = connection(host, port, transport ?? tlsTransport(loadTlsMaterial(settings)), 20_000)
  const started = Date.now()
  const err = await conn.connect().then(
    () => assert.fail('connect() succeeded'),
    (e: unknown) => e,
  )
  assert.ok(err instanceof KafkaError, String(err))
  assert.equal(err.code, code, err.message)
  assert.match(err.message, message)
  assert.ok(Date.now() - started < 5000, `failed only after ${Date.now() - started} ms`)
  assert.equal(conn.isClosed, true)
  return err
}

describe('TLS connections', () => {
  it('handshakes and carries requests: ApiVersions and a Metadata round trip', async () => {
    const { cluster, listener } = await tlsBroker(serverOptions())
    const res = await roundTrip(listener.port, { caLocation: certs.path('ca.pem') })
    assert.equal(res.topics[0]!.name, 'a')
    assert.deepEqual(
      cluster.requests.map((r) => r.apiName),
      ['ApiVersions', 'Metadata'],
    )
    // SNI carries the host name we dialled.
    assert.deepEqual(listener.serverNames, ['localhost'])
  })

  it('rejects a broker certificate from a CA it does not trust, saying which setting to fix', async () => {
    const { listener } = await tlsBroker(serverOptions())
    const err = await connectFails(
      listener.port,
      { caLocation: certs.path('other-ca.pem') },
      '_SSL',
      /broker certificate not trusted: .*UNABLE_TO_VERIFY_LEAF_SIGNATURE.*set ssl\.ca\.location/,
    )
    assert.equal(err.retriable, false)
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    assert.match(err.message, new RegExp(`^localhost:${listener.port}: `))
  })

  it("does not trust a private CA with Node's bundled CAs (no CA setting)", async () => {
    const { listener } = await tlsBroker(serverOptions())
    await connectFails(listener.port, {}, '_SSL', /broker certificate not trusted/)
  })

  it('names a self-signed broker certificate', async () => {
    const { listener } = await tlsBroker({ cert: certs.read('ca.pem'), key: certs.read('ca.key') })
    await connectFails(listener.port, { caLocation: certs.path('other-ca.pem') }, '_SSL', /self-signed/)
  })

  it('rejects a certificate for another host name: a cert for localhost dialled as 127.0.0.1', async () => {
    const { listener } = await tlsBroker(serverOptions())
    const err = await connectFails(
      listener.port,
      { caLocation: certs.path('ca.pem') },
      '_SSL',
      /certificate does not match host 127\.0\.0\.1 \(it lists DNS:localhost\).*ssl\.endpoint\.identification\.algorithm=none/,
      '127.0.0.1',
    )
    assert.equal(err.retriable, false)
  })

  it("skips the host name check with ssl.endpoint.identification.algorithm 'none', still verifying the chain", async () => {
    const { listener } = await tlsBroker(serverOptions())
    const ok = { caLocation: certs.path('ca.pem'), endpointIdentification: 'none' } as const
    assert.equal((await roundTrip(listener.port, ok, '127.0.0.1')).topics.length, 1)
    // No SNI for an IP address (RFC 6066).
    assert.deepEqual(listener.serverNames, [null])
    await connectFails(
      listener.port,
      { ...ok, caLocation: certs.path('other-ca.pem') },
      '_SSL',
      /not trusted/,
      '127.0.0.1',
    )
  })

  it('accepts any certificate when verification is off', async () => {
    const { listener } = await tlsBroker(serverOptions('expired'))
    const res = await roundTrip(listener.port, { verifyCertificates: false }, '127.0.0.1')
    assert.equal(res.topics.length, 1)
  })

  it('rejects an expired broker certificate and one not yet valid', async () => {
    const expired = await tlsBroker(serverOptions('expired'))
    const e1 = await connectFails(
      expired.listener.port,
      { caLocation: certs.path('ca.pem') },
      '_SSL',
      /broker certificate has expired \(CERT_HAS_EXPIRED\)/,
    )
    assert.equal(e1.retriable, false)
    const future = await tlsBroker(serverOptions('future'))
    await connectFails(
      future.listener.port,
      { caLocation: certs.path('ca.pem') },
      '_SSL',
      /not yet valid \(CERT_NOT_YET_VALID\).*clock/,
    )
  })

  it('fails when the broker requires a client certificate and none is set (TLS 1.3 and 1.2)', async () => {
    const { listener } = await tlsBroker(mtls())
    const err = await connectFails(
      listener.port,
      { caLocation: certs.path('ca.pem') },
      '_SSL',
      /requires a client certificate and we sent none: set ssl\.certificate\.location.*certificate required/,
    )
    assert.equal(err.retriable, false)
    // TLS 1.2 refuses during the handshake, with a generic alert: the message names both causes.
    await connectFails(
      listener.port,
      { caLocation: certs.path('ca.pem'), extra: { maxVersion: 'TLSv1.2' } },
      '_SSL',
      /refused the TLS handshake: it may require a client certificate.*handshake failure/,
    )
  })

  it('presents a client certificate from PEM files, an encrypted key, a PKCS#12 or a PEM keystore', async () => {
    const { listener } = await tlsBroker(mtls())
    const ca = { caLocation: certs.path('ca.pem') }
    const ways: TlsSettings[] = [
      { ...ca, certificateLocation: certs.path('client.pem'), keyLocation: certs.path('client.key') },
      {
        ...ca,
        certificatePem: certs.read('client.pem').toString(),
        keyLocation: certs.path('client-encrypted.key'),
        keyPassword: KEY_PASSWORD,
      },
      {
        ...ca,
        keystoreLocation: certs.path('client.p12'),
        keystorePassword: STORE_PASSWORD,
        keystoreType: 'PKCS12',
      },
      { ...ca, keystoreLocation: certs.path('keystore.pem'), keyPassword: KEY_PASSWORD, keystoreType: 'PEM' },
    ]
    for (const settings of ways) assert.equal((await roundTrip(listener.port, settings)).topics.length, 1)
    assert.deepEqual(listener.clientErrors, [])
  })

  it("fails when the broker does not trust our client certificate's CA", async () => {
    // A Node server does not send the alert a Java broker sends (bad_certificate, unknown_ca: see the
    // classification tests): it closes the connection, during the handshake (TLS 1.2) or right after
    // it (TLS 1.3). Either way connect() ends at once, and the TLS 1.2 message names the suspects.
    const { listener } = await tlsBroker(mtls({ ca: certs.read('other-ca.pem') }))
    const client = {
      caLocation: certs.path('ca.pem'),
      certificateLocation: certs.path('client.pem'),
      keyLocation: certs.path('client.key'),
    }
    await connectFails(
      listener.port,
      { ...client, extra: { maxVersion: 'TLSv1.2' } },
      '_TRANSPORT',
      /closed during the TLS handshake; .*refuse our client certificate/,
    )
    await connectFails(listener.port, client, '_TRANSPORT', /closed/)
    assert.equal(listener.clientErrors.length, 2)
  })

  it('says "is this listener TLS?" when the port answers in plaintext or closes during the handshake', async () => {
    const garbage = await listenPlain('garbage')
    listeners.push(garbage)
    const err = await connectFails(
      garbage.port,
      { caLocation: certs.path('ca.pem') },
      '_SSL',
      /did not answer in TLS \(wrong version number\): is this a TLS listener\? security\.protocol ssl/,
    )
    assert.equal(err.retriable, false)
    const closing = await listenPlain('close')
    listeners.push(closing)
    // A closed connection may also be a broker going down: retriable, with the hint.
    const closed = await connectFails(
      closing.port,
      { caLocation: certs.path('ca.pem') },
      '_TRANSPORT',
      /closed during the TLS handshake; if this persists, .*the port is not a TLS listener/,
    )
    assert.equal(closed.retriable, true)
  })

  it('hints at security.protocol when a plaintext client meets a TLS listener', async () => {
    const alerting = await listenPlain('tls-alert')
    listeners.push(alerting)
    const err = await connectFails(
      alerting.port,
      {},
      '_BAD_MSG',
      /invalid response frame size 352518912 .*TLS record; is this a TLS listener\? set security\.protocol to ssl/,
      '127.0.0.1',
      tcpTransport,
    )
    assert.ok(err instanceof KafkaError)
  })

  it('bounds a TLS handshake that never finishes by the connection setup timeout', async () => {
    const silent = await listenPlain('silent')
    listeners.push(silent)
    const conn = connection('localhost', silent.port, tlsTransport(loadTlsMaterial({})), 300)
    const started = Date.now()
    await assert.rejects(conn.connect(), (err: KafkaError) => {
      assert.equal(err.code, '_TRANSPORT')
      assert.match(err.message, /connection setup timed out after 300 ms/)
      return true
    })
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`)
  })

  it('fails the requests of an established connection with a retriable error on a TLS error', async () => {
    const { cluster, listener } = await tlsBroker(serverOptions())
    const tlsSockets: Duplex[] = []
    const inner = tlsTransport(loadTlsMaterial({ caLocation: certs.path('ca.pem') }))
    const capturing = Object.assign(
      (target: { host: string; port: number }) => {
        const s = inner(target)
        tlsSockets.push(s)
        return s
      },
      { describeError: inner.describeError },
    )
    const conn = connection('localhost', listener.port, capturing)
    await conn.connect()
    cluster.interceptor = (req) => (req.apiName === 'Metadata' ? 'hold' : 'default')
    const pending = conn.request(MetadataApi, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
    while (!cluster.requests.some((r) => r.apiName === 'Metadata')) await new Promise((r) => setTimeout(r, 5))
    // What OpenSSL reports for a corrupted record: the stream is broken, the certificates are fine.
    const corrupted = Object.assign(
      new Error('error:0A000119:SSL routines::decryption failed or bad record mac'),
      {
        code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
      },
    )
    tlsSockets[0]!.destroy(corrupted)
    await assert.rejects(pending, (err: KafkaError) => {
      assert.equal(err.code, '_TRANSPORT')
      assert.equal(err.retriable, true)
      assert.equal(err.cause, corrupted)
      return true
    })
  })

  it('lets the extra Node options override a setting', async () => {
    const { listener } = await tlsBroker(serverOptions())
    // The settings trust the wrong CA; the escape hatch's `ca` replaces it.
    const res = await roundTrip(listener.port, {
      caLocation: certs.path('other-ca.pem'),
      extra: { ca: certs.read('ca.pem') },
    })
    assert.equal(res.topics.length, 1)
    // And its own checkServerIdentity replaces the host name check.
    const seen: string[] = []
    const custom = {
      caLocation: certs.path('ca.pem'),
      extra: {
        checkServerIdentity: (host: string) => {
          seen.push(host)
          return undefined
        },
      },
    }
    assert.equal((await roundTrip(listener.port, custom, '127.0.0.1')).topics.length, 1)
    assert.deepEqual(seen, ['127.0.0.1'])
  })
})
