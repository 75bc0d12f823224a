// Certificates for TLS unit tests, made by the openssl command line in a temporary directory, once per
// test file (a few hundred milliseconds): a CA, a broker certificate for "localhost" signed by it (and
// an expired and a not-yet-valid one), a CA nobody trusts, and a client certificate in the forms the
// ssl.* settings accept (PEM, encrypted PEM, PKCS#12, a PEM keystore), PKCS#12 truststores as OpenSSL
// writes them (PBES2 with AES, 3DES, unencrypted, legacy RC2), plus a JKS-looking file.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Passwords of the generated files: test values, printed nowhere by the code under test. */
export const KEY_PASSWORD = 'key-secret-4711'
export const STORE_PASSWORD = 'store-secret-0815'

export interface TestCertificates {
  readonly dir: string
  /** Absolute path of a generated file, e.g. `path('ca.pem')`. */
  path(name: string): string
  /** The content of a generated file. */
  read(name: string): Buffer
  /** Removes the directory. */
  remove(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** An EC P-256 key and a certificate request for `cn`. */
function request(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`,
  ]) // prettier-ignore
}

/** A self-signed CA. */
function ca(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3650', '-subj', `/CN=${cn}`,
  ]) // prettier-ignore
}

/**
 * Signs `csr` with the CA through `openssl ca`, which (unlike `openssl x509` in OpenSSL 3.0) takes
 * explicit start and end dates: that is how the expired and not-yet-valid certificates are made.
 */
function sign(dir: string, name: string, ext: string, dates?: { start: string; end: string }): void {
  openssl(dir, [
    'ca', '-config', 'ca.cnf', '-batch', '-notext', '-in', `${name}.csr`, '-cert', 'ca.pem',
    '-keyfile', 'ca.key', '-out', `${name}.pem`, '-extfile', ext,
    ...(dates ? ['-startdate', dates.start, '-enddate', dates.end] : ['-days', '365']),
  ]) // prettier-ignore
}

const CA_CONFIG = `[ca]
default_ca = test
[test]
database = db/index.txt
new_certs_dir = db
serial = db/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
`

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'rk-tls-'))
  mkdirSync(join(dir, 'db'))
  writeFileSync(join(dir, 'db/index.txt'), '')
  writeFileSync(join(dir, 'db/serial'), '1000\n')
  writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG)
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\n')
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')

  ca(dir, 'ca', 'Test CA')
  ca(dir, 'other-ca', 'Untrusted CA')
  request(dir, 'server', 'localhost')
  sign(dir, 'server', 'server.ext')
  request(dir, 'expired', 'localhost')
  sign(dir, 'expired', 'server.ext', { start: '20200101000000Z', end: '20200102000000Z' })
  request(dir, 'future', 'localhost')
  sign(dir, 'future', 'server.ext', { start: '20991231000000Z', end: '21000101000000Z' })

  // The client's key is RSA, to cover both key types.
  openssl(dir, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=client']) // prettier-ignore
  sign(dir, 'client', 'client.ext')
  openssl(dir, ['pkcs8', '-topk8', '-in', 'client.key', '-out', 'client-encrypted.key', '-passout', `pass:${KEY_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-out', 'client.p12', '-passout', `pass:${STORE_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['pkcs12', '-export', '-legacy', '-in', 'client.pem', '-inkey', 'client.key', '-out', 'client-legacy.p12', '-passout', `pass:${STORE_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'truststore.p12', '-passout', `pass:${STORE_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'truststore-legacy.p12', '-legacy', '-passout', `pass:${STORE_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'truststore-3des.p12', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-passout', `pass:${STORE_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'truststore-plain.p12', '-certpbe', 'NONE', '-passout', `pass:${STORE_PASSWORD}`]) // prettier-ignore
  openssl(dir, ['x509', '-in', 'ca.pem', '-outform', 'der', '-out', 'ca.der'])

  const read = (name: string): Buffer => readFileSync(join(dir, name))
  // Java's PEM keystore: the key and its certificate in one file.
  writeFileSync(join(dir, 'keystore.pem'), Buffer.concat([read('client-encrypted.key'), read('client.pem')]))
  // A JKS store starts with the magic 0xFEEDFEED and version 2; nothing reads further than that.
  writeFileSync(join(dir, 'keystore.jks'), Buffer.from('feedfeed00000002000000000000000000', 'hex'))
  writeFileSync(join(dir, 'not-a-cert.pem'), 'this is not a certificate\n')
  return {
    dir,
    path: (name) => join(dir, name),
    read,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
