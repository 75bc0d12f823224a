// loadTlsMaterial: from the ssl.* settings to tls.connect options, with every mistake reported at once
// as a TlsConfigError naming the key and the file, and no secret in any message or printed form.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import tls from 'node:tls'
import { inspect } from 'node:util'
import { KafkaError } from '../../../src/errors/index.js'
import { ianaToOpenSsl, openSslCipherList } from '../../../src/network/tls/ciphers.js'
import { TlsConfigError } from '../../../src/network/tls/errors.js'
import { loadTlsMaterial } from '../../../src/network/tls/material.js'
import type { TlsSettings } from '../../../src/network/tls/settings.js'
import { tlsTransport } from '../../../src/network/transport.js'
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

/** keytool (Java) is optional here: the test of its truststores says so when it is missing. */
function keytoolMissing(): string | false {
  return spawnSync('keytool', ['-help'], { stdio: 'ignore' }).error
    ? 'keytool (Java) is not installed'
    : false
}

const SECRETS = [KEY_PASSWORD, STORE_PASSWORD, 'wrong-password-1234']

/** Loading `settings` fails with a TlsConfigError for `key` whose message matches `message`. */
function fails(settings: TlsSettings, key: string, message: RegExp): TlsConfigError {
  let caught: unknown
  try {
    loadTlsMaterial(settings)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof TlsConfigError, `expected a TlsConfigError, got ${String(caught)}`)
  assert.ok(caught instanceof KafkaError)
  assert.equal(caught.code, '_INVALID_ARG')
  assert.equal(caught.retriable, false)
  assert.equal(caught.key, key, caught.message)
  assert.match(caught.message, message)
  const printed = `${caught.message} ${inspect(caught, { depth: 5 })} ${JSON.stringify(caught)}`
  for (const secret of SECRETS) assert.ok(!printed.includes(secret), `the error shows a password: ${printed}`)
  return caught
}

describe('loadTlsMaterial', () => {
  it("with no CA setting: the system's CAs and Node's defaults, verification and the host name check on", () => {
    const o = loadTlsMaterial({})
    const { ca, ...rest } = o
    assert.deepEqual({ ...rest }, { rejectUnauthorized: true })
    const read = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates
    if (typeof read === 'function') {
      // Node 22.15+/23.8+ reads the system's store: trusted together with Node's default list.
      const expected = new Set([...read('default'), ...read('system')])
      assert.deepEqual(new Set(ca as string[]), expected)
      assert.ok(
        read('system').every((c) => (ca as string[]).includes(c)),
        'every system CA is trusted',
      )
    } else {
      // Node 20: tls.connect's default list (bundled + NODE_EXTRA_CA_CERTS); no system store API.
      assert.equal(ca, undefined)
    }
    // librdkafka's "probe" means the system's CAs: the same as no setting.
    assert.deepEqual(loadTlsMaterial({ caLocation: 'probe' }).ca, ca)
  })

  it('trusts the union of the CA settings, one PEM string per certificate', () => {
    const ca = certs.read('ca.pem').toString()
    const other = certs.read('other-ca.pem').toString()
    const o = loadTlsMaterial({
      caLocation: certs.path('ca.pem'),
      caPem: other,
      truststoreLocation: certs.path('ca.pem'),
      truststoreType: 'PEM',
      truststoreCertificates: `comment line\n${other}`,
    })
    assert.deepEqual(o.ca, [ca.trim(), other.trim(), ca.trim(), other.trim()])
  })

  it('names the key and the path of a file it cannot read', () => {
    const missing = certs.path('missing.pem')
    fails(
      { caLocation: missing },
      'ssl.ca.location',
      new RegExp(`^ssl\\.ca\\.location: cannot read ${missing}: no such file$`),
    )
    fails(
      { keyLocation: certs.dir, certificateLocation: certs.path('client.pem') },
      'ssl.key.location',
      /cannot read .*: it is a directory/,
    )
    fails(
      { keystoreLocation: missing },
      'ssl.keystore.location',
      /ssl\.keystore\.location: cannot read .*missing\.pem/,
    )
  })

  it('says when a CA file holds no PEM certificate, and how to convert a DER one', () => {
    fails(
      { caLocation: certs.path('not-a-cert.pem') },
      'ssl.ca.location',
      /^ssl\.ca\.location \(.*not-a-cert\.pem\) does not contain a PEM certificate/,
    )
    fails({ caLocation: certs.path('client.key') }, 'ssl.ca.location', /does not contain a PEM certificate/)
    fails({ caPem: 'nonsense' }, 'ssl.ca.pem', /^ssl\.ca\.pem does not contain a PEM certificate/)
    fails(
      { caLocation: certs.path('ca.der') },
      'ssl.ca.location',
      /holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in .*ca\.der -out cert\.pem`/,
    )
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
    fails({ caPem: broken }, 'ssl.ca.pem', /certificate 1 of 1 cannot be parsed/)
  })

  it('takes a PEM certificate and key, and checks that they belong together', () => {
    const o = loadTlsMaterial({
      certificateLocation: certs.path('client.pem'),
      keyLocation: certs.path('client.key'),
    })
    assert.match(String(o.cert), /^-----BEGIN CERTIFICATE-----/)
    assert.match(String(o.key), /^-----BEGIN PRIVATE KEY-----/)
    assert.equal(o.passphrase, undefined)
    fails(
      { certificateLocation: certs.path('client.pem'), keyLocation: certs.path('server.key') },
      'ssl.key.location',
      /the private key of ssl\.key\.location \(.*server\.key\) does not belong to the certificate of ssl\.certificate\.location/,
    )
    fails(
      { certificateLocation: certs.path('client.pem') },
      'ssl.key.location',
      /ssl\.certificate\.location is set but no private key: set ssl\.key\.location or ssl\.key\.pem/,
    )
    fails(
      { keyPem: certs.read('client.key').toString() },
      'ssl.certificate.location',
      /ssl\.key\.pem is set but no certificate/,
    )
    fails(
      {
        certificateLocation: certs.path('client.pem'),
        certificatePem: 'x',
        keyLocation: certs.path('client.key'),
      },
      'ssl.certificate.pem',
      /set ssl\.certificate\.location or ssl\.certificate\.pem, not both/,
    )
    fails(
      { certificateLocation: certs.path('client.pem'), keyLocation: certs.path('client.pem') },
      'ssl.key.location',
      /does not contain a PEM private key/,
    )
  })

  it('decrypts an encrypted key with the right passphrase and says so for a wrong or missing one', () => {
    const settings = {
      certificateLocation: certs.path('client.pem'),
      keyLocation: certs.path('client-encrypted.key'),
    }
    const o = loadTlsMaterial({ ...settings, keyPassword: KEY_PASSWORD })
    assert.match(String(o.key), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    assert.equal(o.passphrase, KEY_PASSWORD)
    fails(
      { ...settings, keyPassword: 'wrong-password-1234' },
      'ssl.key.password',
      /^ssl\.key\.password does not decrypt the private key of ssl\.key\.location \(.*client-encrypted\.key\): wrong password$/,
    )
    fails(
      settings,
      'ssl.key.password',
      /the private key of ssl\.key\.location \(.*\) is encrypted: set ssl\.key\.password/,
    )
  })

  it('names the password when a wrong one passes the padding check and the key then fails to decode', () => {
    // About one wrong password in 256 decrypts to garbage with valid CBC padding; OpenSSL then says
    // DECODER unsupported instead of bad decrypt (a CI run met it with the generated key above).
    const passphrase = 'right-password'
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    })
    let unlucky: string | undefined
    for (let i = 0; i < 20_000 && unlucky === undefined; i++) {
      try {
        createPrivateKey({ key: privateKey, format: 'pem', passphrase: `wrong-${i}` })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_OSSL_UNSUPPORTED') unlucky = `wrong-${i}`
      }
    }
    assert.ok(unlucky !== undefined, 'a wrong password that passes the padding check')
    fails(
      { keyPem: privateKey, certificateLocation: certs.path('client.pem'), keyPassword: unlucky },
      'ssl.key.password',
      /^ssl\.key\.password does not decrypt the private key of ssl\.key\.pem: wrong password$/,
    )
  })

  it('opens a PKCS#12 keystore with its password, and names each way it can fail', () => {
    const o = loadTlsMaterial({
      keystoreLocation: certs.path('client.p12'),
      keystorePassword: STORE_PASSWORD,
    })
    assert.ok(Buffer.isBuffer(o.pfx))
    assert.equal(o.passphrase, STORE_PASSWORD)
    // A type saying JKS does not stop a PKCS#12 file from working (keytool writes PKCS#12 since Java 9).
    loadTlsMaterial({
      keystoreLocation: certs.path('client.p12'),
      keystorePassword: STORE_PASSWORD,
      keystoreType: 'JKS',
    })
    fails(
      { keystoreLocation: certs.path('client.p12'), keystorePassword: 'wrong-password-1234' },
      'ssl.keystore.password',
      /^ssl\.keystore\.password does not open ssl\.keystore\.location \(.*client\.p12\): wrong password$/,
    )
    fails(
      { keystoreLocation: certs.path('client.p12') },
      'ssl.keystore.password',
      /is protected by a password: set ssl\.keystore\.password/,
    )
    fails(
      { keystoreLocation: certs.path('client-legacy.p12'), keystorePassword: STORE_PASSWORD },
      'ssl.keystore.location',
      /legacy algorithm \(RC2 or DES\).*`openssl pkcs12 -legacy -in .*client-legacy\.p12 -nodes -out tmp\.pem && openssl pkcs12 -export/,
    )
    fails(
      { keystoreLocation: certs.path('truststore.p12'), keystorePassword: STORE_PASSWORD },
      'ssl.keystore.location',
      /holds no private key/,
    )
    fails(
      { keystoreLocation: certs.path('not-a-cert.pem') },
      'ssl.keystore.location',
      /is not a PKCS#12, PEM or JKS keystore/,
    )
  })

  it('reads a PEM keystore (file or strings) with ssl.key.password', () => {
    for (const password of [{ keyPassword: KEY_PASSWORD }, { keystorePassword: KEY_PASSWORD }]) {
      const o = loadTlsMaterial({
        keystoreLocation: certs.path('keystore.pem'),
        keystoreType: 'PEM',
        ...password,
      })
      assert.match(String(o.cert), /BEGIN CERTIFICATE/)
      assert.match(String(o.key), /BEGIN ENCRYPTED PRIVATE KEY/)
    }
    const inline = loadTlsMaterial({
      keystoreKey: certs.read('client.key').toString(),
      keystoreCertificateChain: certs.read('client.pem').toString(),
    })
    assert.match(String(inline.key), /BEGIN PRIVATE KEY/)
    fails(
      { keystoreKey: certs.read('client.key').toString() },
      'ssl.keystore.certificate.chain',
      /go together: set ssl\.keystore\.certificate\.chain/,
    )
    fails(
      { keystoreLocation: certs.path('keystore.pem'), keyPassword: 'wrong-password-1234' },
      'ssl.key.password',
      /does not decrypt the private key of ssl\.keystore\.location/,
    )
  })

  it('refuses JKS stores, naming the PEM and PKCS#12 alternatives and the commands to convert', () => {
    const jks = certs.path('keystore.jks')
    const k = fails(
      { keystoreLocation: jks, keystorePassword: STORE_PASSWORD, keystoreType: 'JKS' },
      'ssl.keystore.location',
      /is a JKS keystore, which Node's TLS cannot read/,
    )
    assert.ok(
      k.message.includes(
        `keytool -importkeystore -srckeystore ${jks} -srcstoretype JKS -destkeystore keystore.p12 -deststoretype PKCS12`,
      ),
    )
    assert.match(k.message, /ssl\.certificate\.location and ssl\.key\.location/)
    const t = fails(
      { truststoreLocation: jks, truststorePassword: STORE_PASSWORD },
      'ssl.truststore.location',
      /is a JKS truststore/,
    )
    assert.ok(
      t.message.includes(
        `keytool -exportcert -rfc -keystore ${jks} -storetype JKS -alias <alias> -file ca.pem`,
      ),
    )
    assert.match(t.message, /set ssl\.ca\.location to ca\.pem/)
  })

  it('refuses a PKCS#12 truststore with the commands that export its CAs as PEM', () => {
    for (const file of ['truststore.p12', 'truststore-3des.p12', 'truststore-plain.p12']) {
      const err = fails(
        {
          truststoreLocation: certs.path(file),
          truststorePassword: STORE_PASSWORD,
          truststoreType: 'PKCS12',
        },
        'ssl.truststore.location',
        /is a PKCS#12 truststore, which Node cannot use for CA certificates/,
      )
      assert.ok(
        err.message.includes(`openssl pkcs12 -in ${certs.path(file)} -nokeys -out ca.pem`),
        err.message,
      )
      assert.match(err.message, /keytool -exportcert -rfc .* and set ssl\.ca\.location to ca\.pem$/)
      assert.ok(!err.message.includes(STORE_PASSWORD), 'no password in the message')
    }
  })

  it('the exported PEM of a truststore made by keytool works', { skip: keytoolMissing() }, () => {
    const file = certs.path('keytool-truststore.p12')
    const pem = certs.path('keytool-ca.pem')
    execFileSync('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', certs.path('ca.pem'), '-keystore', file, '-storetype', 'PKCS12', '-storepass', STORE_PASSWORD]) // prettier-ignore
    fails({ truststoreLocation: file }, 'ssl.truststore.location', /keytool -exportcert -rfc/)
    execFileSync('keytool', ['-exportcert', '-rfc', '-keystore', file, '-storetype', 'PKCS12', '-alias', 'ca', '-file', pem, '-storepass', STORE_PASSWORD]) // prettier-ignore
    const o = loadTlsMaterial({ truststoreLocation: pem, truststoreType: 'PEM' })
    const ca = o.ca as string[]
    assert.equal(ca.length, 1)
    // keytool writes CRLF line ends: compare the certificates, not the text.
    assert.equal(
      new X509Certificate(ca[0]!).fingerprint256,
      new X509Certificate(certs.read('ca.pem')).fingerprint256,
    )
  })

  it('takes the client certificate one way only', () => {
    fails(
      {
        certificateLocation: certs.path('client.pem'),
        keyLocation: certs.path('client.key'),
        keystoreLocation: certs.path('client.p12'),
      },
      'ssl.keystore.location',
      /the client certificate is set twice \(ssl\.certificate\.location and ssl\.keystore\.location\)/,
    )
  })

  it('translates Java cipher suite names and checks the list', () => {
    assert.equal(
      loadTlsMaterial({ cipherSuites: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384' })
        .ciphers,
      'ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384',
    )
    assert.equal(
      loadTlsMaterial({ cipherSuites: 'ECDHE-ECDSA-AES256-GCM-SHA384:HIGH:!aNULL' }).ciphers,
      'ECDHE-ECDSA-AES256-GCM-SHA384:HIGH:!aNULL',
    )
    fails(
      { cipherSuites: 'TLS_RSA_WITH_IDEA_CBC_SHA' },
      'ssl.cipher.suites',
      /TLS_RSA_WITH_IDEA_CBC_SHA is not a cipher suite/,
    )
    fails({ cipherSuites: 'NO-SUCH-CIPHER' }, 'ssl.cipher.suites', /^ssl\.cipher\.suites: .*no cipher match/)
    fails({ cipherSuites: ' , ' }, 'ssl.cipher.suites', /is empty/)
  })

  it('maps IANA names to OpenSSL names', () => {
    const cases: [string, string | undefined][] = [
      ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
      ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
      ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
      ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384'],
      ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256'],
      ['TLS_ECDHE_ECDSA_WITH_AES_128_CCM', 'ECDHE-ECDSA-AES128-CCM'],
      ['TLS_AES_128_GCM_SHA256', undefined],
      ['TLS_KRB5_WITH_RC4_128_MD5', undefined],
    ]
    for (const [iana, openssl] of cases) assert.equal(ianaToOpenSsl(iana), openssl, iana)
    assert.equal(openSslCipherList('TLS_AES_128_GCM_SHA256'), 'TLS_AES_128_GCM_SHA256')
  })

  it('maps verification and the host name check, accepting Java spellings', () => {
    assert.equal(loadTlsMaterial({ verifyCertificates: false }).rejectUnauthorized, false)
    const none = loadTlsMaterial({ endpointIdentification: 'none' }).checkServerIdentity
    assert.equal(typeof none, 'function')
    assert.equal(none!('example.com', {} as never), undefined)
    // Java switches the check off with an empty value.
    assert.equal(
      typeof loadTlsMaterial({ endpointIdentification: '' as 'none' }).checkServerIdentity,
      'function',
    )
    assert.equal(
      loadTlsMaterial({ endpointIdentification: 'HTTPS' as 'https' }).checkServerIdentity,
      undefined,
    )
    fails(
      { endpointIdentification: 'ldaps' as 'https' },
      'ssl.endpoint.identification.algorithm',
      /must be https or none, not "ldaps"/,
    )
  })

  it('applies the extra Node options last', () => {
    const o = loadTlsMaterial({
      caLocation: certs.path('ca.pem'),
      verifyCertificates: true,
      extra: { rejectUnauthorized: false, ca: 'replaced', minVersion: 'TLSv1.3' },
    })
    assert.equal(o.rejectUnauthorized, false)
    assert.equal(o.ca, 'replaced')
    assert.equal(o.minVersion, 'TLSv1.3')
    fails({ extra: { minVersion: 'TLSv9' as 'TLSv1.3' } }, 'the Node TLS options', /^the Node TLS options: /)
  })

  it('checks the types JavaScript callers pass', () => {
    fails({ caLocation: 42 as unknown as string }, 'ssl.ca.location', /must be a string, not number/)
    fails(
      { verifyCertificates: 'yes' as unknown as boolean },
      'enable.ssl.certificate.verification',
      /true or false/,
    )
    fails({ keystoreType: 'BKS' as 'JKS' }, 'ssl.keystore.type', /must be one of PEM, PKCS12, JKS, not "BKS"/)
    // Empty strings are unset keys, as configuration files write them.
    const unset = { ...loadTlsMaterial({ caLocation: '', keyLocation: '' }) }
    delete unset.ca // the default CAs, as with no setting at all
    assert.deepEqual(unset, { rejectUnauthorized: true })
  })

  it('never shows the key or a password when the options are printed', () => {
    const pem = loadTlsMaterial({
      certificateLocation: certs.path('client.pem'),
      keyLocation: certs.path('client-encrypted.key'),
      keyPassword: KEY_PASSWORD,
    })
    const p12 = loadTlsMaterial({
      keystoreLocation: certs.path('client.p12'),
      keystorePassword: STORE_PASSWORD,
    })
    for (const o of [pem, p12]) {
      for (const printed of [
        JSON.stringify(o),
        inspect(o, { depth: 10 }),
        inspect({ nested: o }, { depth: 10 }),
      ]) {
        assert.ok(!printed.includes('PRIVATE KEY'), printed)
        for (const secret of SECRETS) assert.ok(!printed.includes(secret), printed)
        assert.match(printed, /\[redacted\]/)
      }
    }
    // The options themselves keep them: tls.connect needs them.
    assert.equal(pem.passphrase, KEY_PASSWORD)
    assert.match(JSON.stringify(pem), /BEGIN CERTIFICATE/) // certificates are public
  })

  it('builds the secure context once, when the transport is made, so bad options fail there', () => {
    assert.throws(() => tlsTransport({ ciphers: 'NO-SUCH-CIPHER' }), /no cipher match/)
    const transport = tlsTransport(loadTlsMaterial({}))
    assert.equal(typeof transport.describeError, 'function')
  })
})
