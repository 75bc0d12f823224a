// Test certificates for a secured broker (security.ts), made with `openssl` at start time in the
// cluster's temp dir: nothing secret is ever committed, and every run has its own CA and keys.
// EC P-256 keys: generated in milliseconds, and understood by Java, OpenSSL and Node alike.

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The files of one run, all PEM, in `dir`. */
export interface CertificateFiles {
  readonly dir: string
  /** The CA that signed the broker's, the client's and the expired certificate. */
  readonly caPath: string
  readonly caPem: string
  /** A second, unrelated CA (self-signed); trusting only it must fail against the broker. */
  readonly untrustedCaPath: string
  /**
   * Key (encrypted PKCS#8, see encryptKey) then certificate, for `ssl.keystore.type=PEM`. Without the CA:
   * the broker sends its certificate alone, so a client trusting another CA fails with "unable to verify
   * the first certificate" rather than "self-signed certificate in certificate chain".
   */
  readonly brokerKeystorePath: string
  /** The password of the broker key in `brokerKeystorePath` (`ssl.key.password`). */
  readonly brokerKeyPassword: string
  /** CN=client, signed by the CA, for mutual TLS. */
  readonly clientCertPath: string
  /** The client's key, unencrypted PKCS#8. */
  readonly clientKeyPath: string
  /** The same key encrypted (PKCS#8, PBES2 with AES-256-CBC) with `clientKeyPassphrase`. */
  readonly clientKeyEncryptedPath: string
  readonly clientKeyPassphrase: string
  /**
   * The client's key (encrypted with `clientKeyPassphrase` as Java can read it, see encryptKey) and
   * certificate in one file, for a Java client (`ssl.keystore.type=PEM`).
   */
  readonly clientKeystorePath: string
  /** Signed by the CA, SAN DNS:localhost, CN=expired, expired yesterday: as a server or a client cert. */
  readonly expiredCertPath: string
  readonly expiredKeyPath: string
}

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
const VALID_DAYS = '30'

/** Runs openssl with `args` in `cwd`; rejects with its stderr when it fails or is missing. */
function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
    const err: Buffer[] = []
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new Error(
              'a secured broker needs openssl on PATH to make its certificates (apt-get install openssl)',
            )
          : e,
      ),
    )
    child.on('close', (code) => {
      if (code === 0) resolve()
      else
        reject(new Error(`openssl ${args[0]} failed (exit ${code}): ${Buffer.concat(err).toString().trim()}`))
    })
  })
}

function serial(): string {
  return `0x${randomBytes(12).toString('hex')}`
}

/** A self-signed CA certificate `<name>.pem` with its key `<name>.key`. */
async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      ...CURVE,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      VALID_DAYS,
      '-set_serial',
      serial(),
    ],
    dir,
  )
}

/**
 * A key `<name>.key` (unencrypted PKCS#8) and a certificate `<name>.pem` signed by `ca`, with the
 * extensions in `ext` (openssl's extension-file syntax); `days` may be negative (already expired).
 */
async function makeSigned(
  dir: string,
  name: string,
  cn: string,
  ext: string[],
  days: string = VALID_DAYS,
): Promise<void> {
  await openssl(
    [
      'req',
      '-new',
      ...CURVE,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ],
    dir,
  )
  await writeFile(join(dir, `${name}.ext`), `${ext.join('\n')}\n`)
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial(),
      '-days',
      days,
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  )
}

/**
 * `<name>.key` encrypted with `passphrase` into `out`, PKCS#8. `modern`: PBES2 with AES-256-CBC, as
 * OpenSSL 3 writes by default, for Node. Java 17 has no PBES2 SecretKeyFactory ("PBES2 SecretKeyFactory
 * not available" from Kafka's PEM key store), so keys Java reads use PKCS#12's PBE with SHA-1 and
 * 3DES (`PBEWithSHA1AndDESede`), which every JDK has.
 */
async function encryptKey(
  dir: string,
  name: string,
  out: string,
  passphrase: string,
  modern: boolean,
): Promise<void> {
  await openssl(
    [
      'pkcs8',
      '-topk8',
      ...(modern ? ['-v2', 'aes-256-cbc'] : ['-v1', 'PBE-SHA1-3DES']),
      '-in',
      `${name}.key`,
      '-out',
      out,
      '-passout',
      `pass:${passphrase}`,
    ],
    dir,
  )
}

async function concat(dir: string, out: string, parts: string[]): Promise<void> {
  const texts = await Promise.all(parts.map((p) => readFile(join(dir, p), 'utf8')))
  await writeFile(join(dir, out), texts.map((t) => t.trimEnd() + '\n').join(''))
}

/**
 * Makes a CA, the broker's certificate (SAN DNS:localhost only, so a client dialling 127.0.0.1 sees a
 * hostname mismatch), a client certificate (CN=client) with its key plain and encrypted, an unrelated
 * CA and an expired certificate, in `dir` (created).
 */
export async function makeCertificates(dir: string): Promise<CertificateFiles> {
  await mkdir(dir, { recursive: true })
  const brokerKeyPassword = randomBytes(16).toString('hex')
  const clientKeyPassphrase = randomBytes(16).toString('hex')
  await Promise.all([
    makeCa(dir, 'ca', 'reliable-kafka test CA'),
    makeCa(dir, 'untrusted-ca', 'untrusted CA'),
  ])
  const server = ['subjectAltName=DNS:localhost', 'basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth']
  await Promise.all([
    makeSigned(dir, 'broker', 'localhost', server),
    makeSigned(dir, 'client', 'client', ['basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth']),
    makeSigned(
      dir,
      'expired',
      'expired',
      ['subjectAltName=DNS:localhost', 'basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth,clientAuth'],
      '-1',
    ),
  ])
  // Kafka's file-based PEM key store wants an encrypted key and ssl.key.password.
  await Promise.all([
    encryptKey(dir, 'broker', 'broker-key-java.pem', brokerKeyPassword, false),
    encryptKey(dir, 'client', 'client-key-java.pem', clientKeyPassphrase, false),
    encryptKey(dir, 'client', 'client-key-encrypted.pem', clientKeyPassphrase, true),
  ])
  await Promise.all([
    concat(dir, 'broker-keystore.pem', ['broker-key-java.pem', 'broker.pem']),
    concat(dir, 'client-keystore.pem', ['client-key-java.pem', 'client.pem']),
  ])
  const at = (f: string): string => join(dir, f)
  return {
    dir,
    caPath: at('ca.pem'),
    caPem: await readFile(at('ca.pem'), 'utf8'),
    untrustedCaPath: at('untrusted-ca.pem'),
    brokerKeystorePath: at('broker-keystore.pem'),
    brokerKeyPassword,
    clientCertPath: at('client.pem'),
    clientKeyPath: at('client.key'),
    clientKeyEncryptedPath: at('client-key-encrypted.pem'),
    clientKeyPassphrase,
    clientKeystorePath: at('client-keystore.pem'),
    expiredCertPath: at('expired.pem'),
    expiredKeyPath: at('expired.key'),
  }
}
