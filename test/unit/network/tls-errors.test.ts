// classifyTlsError on the errors Node gives for each TLS failure, including the ones an in-process Node
// server cannot provoke (a Java broker's alerts for a refused client certificate). The messages are
// those Node 20 with OpenSSL 3 produces; the codes are what Node sets.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { KafkaError } from '../../../src/errors/index.js'
import { classifyTlsError } from '../../../src/network/tls/errors.js'

const target = { host: 'kafka-1.example.com', port: 9093 }

function nodeError(code: string | undefined, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code }, extra)
}

/** An OpenSSL alert as Node reports it: from a failed write (EPROTO) or from a read (ERR_SSL_*). */
function alert(name: string, via: 'write' | 'read'): Error {
  const line = `80DCE412857F0000:error:0A000410:SSL routines:ssl3_read_bytes:${name}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n`
  return via === 'write'
    ? nodeError('EPROTO', `write EPROTO ${line}`)
    : nodeError(`ERR_SSL_${name.toUpperCase().replace(/ /g, '_')}`, line, { reason: name })
}

function classify(err: Error): KafkaError {
  const e = classifyTlsError(err, target)
  assert.ok(e, `not classified: ${err.message}`)
  return e
}

describe('classifyTlsError', () => {
  it('names an untrusted broker certificate and the CA setting', () => {
    for (const code of [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ]) {
      const err = nodeError(code, 'unable to verify the first certificate')
      const e = classify(err)
      assert.equal(e.code, '_SSL')
      assert.equal(e.retriable, false)
      assert.equal(e.cause, err)
      assert.match(
        e.message,
        new RegExp(
          `^kafka-1\\.example\\.com:9093: broker certificate not trusted: .*\\(${code}\\); set ssl\\.ca\\.location`,
        ),
      )
    }
  })

  it('names the host a certificate does not match, and what it lists', () => {
    const err = nodeError(
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      {
        cert: { subjectaltname: 'DNS:kafka-2.example.com' },
      },
    )
    assert.match(
      classify(err).message,
      /certificate does not match host kafka-1\.example\.com \(it lists DNS:kafka-2\.example\.com\).*ssl\.endpoint\.identification\.algorithm=none/,
    )
  })

  it('names expired and not yet valid certificates', () => {
    assert.match(
      classify(nodeError('CERT_HAS_EXPIRED', 'certificate has expired')).message,
      /broker certificate has expired/,
    )
    assert.match(
      classify(nodeError('CERT_NOT_YET_VALID', 'certificate is not yet valid')).message,
      /not yet valid/,
    )
  })

  it("reads the broker's alerts, from a read or a failed write", () => {
    const cases: [string, RegExp][] = [
      [
        'tlsv13 alert certificate required',
        /requires a client certificate and we sent none: set ssl\.certificate\.location/,
      ],
      [
        'sslv3 alert handshake failure',
        /refused the TLS handshake: it may require a client certificate.*ssl\.cipher\.suites/,
      ],
      // OpenSSL 3.5 (Node 24) names alerts "ssl/tls alert …".
      [
        'ssl/tls alert handshake failure',
        /refused the TLS handshake: it may require a client certificate.*ssl\.cipher\.suites/,
      ],
      ['sslv3 alert bad certificate', /rejected our client certificate: its truststore must hold the CA/],
      ['tlsv1 alert unknown ca', /rejected our client certificate/],
      ['sslv3 alert certificate unknown', /rejected our client certificate/],
      ['sslv3 alert certificate expired', /our client certificate has expired/],
      ['tlsv1 alert protocol version', /no TLS version or cipher suite/],
      ['tlsv1 alert internal error', /ended the TLS handshake \(TLS alert "internal error"\)/],
    ]
    for (const [name, message] of cases) {
      for (const via of ['write', 'read'] as const) {
        const e = classify(alert(name, via))
        assert.equal(e.code, '_SSL', name)
        assert.equal(e.retriable, false)
        assert.match(e.message, message, `${name} via ${via}`)
        assert.ok(e.message.includes(`(TLS alert "${name.replace(/^\S+ alert /, '')}")`), e.message)
      }
    }
  })

  it('asks "is this a TLS listener?" for a peer that does not speak TLS', () => {
    const e = classify(
      nodeError('ERR_SSL_WRONG_VERSION_NUMBER', 'error:0A00010B:SSL routines::wrong version number'),
    )
    assert.equal(e.code, '_SSL')
    assert.match(e.message, /did not answer in TLS \(wrong version number\): is this a TLS listener\?/)
    const closed = classify(
      nodeError(
        'ECONNRESET',
        'Client network socket disconnected before secure TLS connection was established',
      ),
    )
    assert.equal(closed.code, '_TRANSPORT')
    assert.equal(closed.retriable, true)
  })

  it('leaves errors on an established connection to the connection: its requests are retried', () => {
    const established = { ...target, established: true }
    assert.equal(classifyTlsError(alert('sslv3 alert bad record mac', 'read'), established), undefined)
    assert.equal(
      classifyTlsError(nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), established),
      undefined,
    )
    assert.equal(classify(alert('sslv3 alert bad record mac', 'read')).code, '_SSL')
  })

  it('reports other OpenSSL failures as _SSL and leaves plain network errors alone', () => {
    const other = classify(
      nodeError('ERR_SSL_DH_KEY_TOO_SMALL', 'error:0A00018A:SSL routines::dh key too small', {
        reason: 'dh key too small',
      }),
    )
    assert.equal(other.code, '_SSL')
    assert.match(other.message, /TLS handshake failed: dh key too small/)
    assert.equal(
      classifyTlsError(nodeError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:9093'), target),
      undefined,
    )
    assert.equal(classifyTlsError(nodeError('ECONNRESET', 'read ECONNRESET'), target), undefined)
    assert.equal(classifyTlsError(nodeError('EPIPE', 'write EPIPE'), target), undefined)
  })
})
