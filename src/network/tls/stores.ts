import { createSecureContext } from 'node:tls'
import { TlsConfigError } from './errors.js'
import { describe, looksLikePem, pemCertificates, type Source } from './pem.js'
import type { StoreType } from './settings.js'

// Java's key and trust stores (ssl.keystore.*, ssl.truststore.*): which format a file is in, and
// what can be done with each. Node reads a PKCS#12 keystore itself (the `pfx` option) and PEM is
// text; a PKCS#12 truststore (certificates without a key) and JKS, Java's own format, are nothing
// Node reads, so they get an error with the commands to convert them.

/** What a store file holds, by its first bytes rather than by a type setting that may be wrong. */
export type StoreFormat = 'PEM' | 'PKCS12' | 'JKS' | 'JCEKS' | 'unknown'

export function storeFormat(bytes: Buffer): StoreFormat {
  if (bytes.length >= 4) {
    const magic = bytes.readUInt32BE(0)
    if (magic === 0xfeedfeed) return 'JKS'
    if (magic === 0xcececece) return 'JCEKS'
  }
  if (looksLikePem(bytes)) return 'PEM'
  // PKCS#12 is a DER SEQUENCE; a file of that size has a long-form length (0x80 | number of bytes).
  if (bytes.length >= 2 && bytes[0] === 0x30 && (bytes[1]! & 0x80) !== 0) return 'PKCS12'
  return 'unknown'
}

const STORE_TYPES: readonly StoreType[] = ['PEM', 'PKCS12', 'JKS']

/**
 * Checks a store type setting (the TypeScript type does not reach JavaScript callers). The file's
 * content still decides how it is read: since Java 9, keytool writes PKCS#12 even where an old
 * configuration says JKS, and such a store works here as it does in Java.
 */
export function checkStoreType(key: string, value: unknown): void {
  if (value === undefined) return
  if (typeof value !== 'string' || !STORE_TYPES.includes(value.toUpperCase() as StoreType)) {
    throw new TlsConfigError(
      key,
      `${key} must be one of ${STORE_TYPES.join(', ')}, not ${JSON.stringify(value)}`,
    )
  }
}

/** The error for a JKS (or JCEKS) store: Node cannot read it; here is how to convert it. */
export function jksError(
  source: Source,
  role: 'keystore' | 'truststore',
  format: 'JKS' | 'JCEKS',
): TlsConfigError {
  const path = source.path ?? `${role}.jks`
  const convert =
    role === 'keystore'
      ? `convert it to PKCS#12 with \`keytool -importkeystore -srckeystore ${path} -srcstoretype ${format} ` +
        '-destkeystore keystore.p12 -deststoretype PKCS12` and set ssl.keystore.location to keystore.p12; or ' +
        'export PEM files (`openssl pkcs12 -in keystore.p12 -nodes -out keystore.pem`) and use ' +
        'ssl.certificate.location and ssl.key.location'
      : `export its CA certificates as PEM with \`keytool -exportcert -rfc -keystore ${path} -storetype ${format} ` +
        '-alias <alias> -file ca.pem` (once per alias; `keytool -list` names them) and set ssl.ca.location ' +
        'to ca.pem'
  return new TlsConfigError(
    source.key,
    `${describe(source)} is a ${format} ${role}, which Node's TLS cannot read: ${convert}`,
  )
}

/** What a PKCS#12 keystore gives `tls.connect`. */
export interface Pkcs12Identity {
  readonly pfx: Buffer
  readonly passphrase?: string
}

/**
 * A PKCS#12 keystore, opened once now with Node's own reader so that a wrong password or a file Node
 * cannot decrypt fails here, with a message that says which.
 */
export function pkcs12Identity(
  source: Source,
  bytes: Buffer,
  passwordKey: string,
  password: string | undefined,
): Pkcs12Identity {
  const where = describe(source)
  try {
    createSecureContext({
      pfx: [password === undefined ? { buf: bytes } : { buf: bytes, passphrase: password }],
    })
  } catch (err) {
    const message = (err as Error).message
    if (/mac verify failure/i.test(message)) {
      throw new TlsConfigError(
        passwordKey,
        password === undefined
          ? `${where} is protected by a password: set ${passwordKey}`
          : `${passwordKey} does not open ${where}: wrong password`,
        err,
      )
    }
    if (/unsupported pkcs12/i.test(message)) {
      // OpenSSL 3 leaves RC2 and DES out of its default provider; PKCS#12 files from OpenSSL 1.x or
      // Java 8 encrypt with them.
      const p = source.path ?? 'keystore.p12'
      throw new TlsConfigError(
        source.key,
        `${where} is encrypted with a legacy algorithm (RC2 or DES) that Node's OpenSSL 3 does not load: ` +
          `re-encrypt it with \`openssl pkcs12 -legacy -in ${p} -nodes -out tmp.pem && openssl pkcs12 -export ` +
          '-in tmp.pem -out keystore.p12` (then delete tmp.pem) and use keystore.p12',
        err,
      )
    }
    if (/private key/i.test(message)) {
      throw new TlsConfigError(
        source.key,
        `${where} holds no private key: a keystore holds the client's key and certificate (CA certificates ` +
          'go to ssl.ca.location or ssl.truststore.location)',
        err,
      )
    }
    throw new TlsConfigError(source.key, `${where} is not a PKCS#12 keystore Node can read: ${message}`, err)
  }
  return password === undefined ? { pfx: bytes } : { pfx: bytes, passphrase: password }
}

/**
 * The CA certificates of a truststore file, as PEM strings: PEM as it is; PKCS#12 and JKS refused
 * with the command that exports PEM (see pkcs12Truststore).
 */
export function truststoreCertificates(source: Source, bytes: Buffer): string[] {
  const format = storeFormat(bytes)
  switch (format) {
    case 'PEM':
      return pemCertificates(source, bytes)
    case 'JKS':
    case 'JCEKS':
      throw jksError(source, 'truststore', format)
    case 'PKCS12':
      return pkcs12Truststore(source)
    default:
      throw new TlsConfigError(source.key, `${describe(source)} is not a PEM, PKCS#12 or JKS file`)
  }
}

/**
 * A PKCS#12 truststore is refused with the command that exports its CAs as PEM. Node reads PKCS#12
 * only as `pfx`, which must hold a private key, so a file of trusted certificates alone would need a
 * PKCS#12 reader of our own (ASN.1, PBES2/3DES decryption, the MAC): hand-written crypto parsing that
 * issue 11 asks to avoid unless a well-kept library does it. Both conversions are one command.
 */
function pkcs12Truststore(source: Source): never {
  const p = source.path ?? 'truststore.p12'
  throw new TlsConfigError(
    source.key,
    `${describe(source)} is a PKCS#12 truststore, which Node cannot use for CA certificates: export ` +
      `them as PEM with \`openssl pkcs12 -in ${p} -nokeys -out ca.pem\` (add -legacy for RC2-encrypted ` +
      `files) or \`keytool -exportcert -rfc -keystore ${p} -storetype PKCS12 -alias <alias> -file ca.pem\`, ` +
      'and set ssl.ca.location to ca.pem',
  )
}
