import tls, { createSecureContext, type ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { inspect } from 'node:util'
import { openSslCipherList } from './ciphers.js'
import { TlsConfigError } from './errors.js'
import { checkKeyMatches, pemCertificates, pemPrivateKey, readSettingFile, type Source } from './pem.js'
import { TLS_SETTING_KEYS as K, type TlsSettings } from './settings.js'
import { checkStoreType, jksError, pkcs12Identity, storeFormat, truststoreCertificates } from './stores.js'

// From the ssl.* settings to Node's tls.connect options, once, at construction: every file is read
// and every certificate, key and password checked now, so that a mistake in the configuration
// throws from the producer's constructor with the key at fault, rather than surfacing later as a
// handshake failure on every connection.

type Field = keyof TlsSettings

const STRING_FIELDS = [
  'caLocation',
  'caPem',
  'certificateLocation',
  'certificatePem',
  'keyLocation',
  'keyPem',
  'keyPassword',
  'keystoreLocation',
  'keystorePassword',
  'keystoreType',
  'keystoreKey',
  'keystoreCertificateChain',
  'truststoreLocation',
  'truststorePassword',
  'truststoreType',
  'truststoreCertificates',
  'cipherSuites',
  'endpointIdentification',
] as const satisfies readonly Field[]

const PASSWORDS: ReadonlySet<Field> = new Set(['keyPassword', 'keystorePassword', 'truststorePassword'])

/** A setting's value; an empty string is "not set" (configuration files write unset keys that way), except for passwords. */
function get(settings: TlsSettings, field: (typeof STRING_FIELDS)[number]): string | undefined {
  const v = settings[field]
  return v === '' && !PASSWORDS.has(field) ? undefined : v
}

/** The settings' types, checked for JavaScript callers (TypeScript ones cannot get them wrong). */
function checkShape(settings: TlsSettings): void {
  for (const field of STRING_FIELDS) {
    const v: unknown = settings[field]
    if (v !== undefined && typeof v !== 'string') {
      throw new TlsConfigError(K[field], `${K[field]} must be a string, not ${typeof v}`)
    }
  }
  if (settings.verifyCertificates !== undefined && typeof settings.verifyCertificates !== 'boolean') {
    throw new TlsConfigError(K.verifyCertificates, `${K.verifyCertificates} must be true or false`)
  }
  if (settings.extra !== undefined && (typeof settings.extra !== 'object' || settings.extra === null)) {
    throw new TlsConfigError(K.extra, `${K.extra} must be an object of tls.connect options`)
  }
  checkStoreType(K.keystoreType, settings.keystoreType)
  checkStoreType(K.truststoreType, settings.truststoreType)
}

/** Whether the broker's host name is checked: Java's ssl.endpoint.identification.algorithm. */
function checksHostName(settings: TlsSettings): boolean {
  const v = get(settings, 'endpointIdentification')
  // Java configurations switch the check off with an empty value; the catalogue's spelling is none.
  if (v === undefined) return (settings.endpointIdentification as string | undefined) !== ''
  const lower = v.toLowerCase()
  if (lower === 'https') return true
  if (lower === 'none') return false
  throw new TlsConfigError(
    K.endpointIdentification,
    `${K.endpointIdentification} must be https or none, not "${v}"`,
  )
}

function fileSource(field: Field, path: string): Source {
  return { key: K[field], path }
}

/** The trusted CA certificates, or undefined for Node's bundled ones (nothing configured). */
function trustedCertificates(settings: TlsSettings): string[] | undefined {
  const out: string[] = []
  const caLocation = get(settings, 'caLocation')
  // librdkafka's "probe" looks for the system's CA bundle; Node's bundled Mozilla CAs stand in.
  if (caLocation !== undefined && caLocation !== 'probe') {
    out.push(
      ...pemCertificates(fileSource('caLocation', caLocation), readSettingFile(K.caLocation, caLocation)),
    )
  }
  const caPem = get(settings, 'caPem')
  if (caPem !== undefined) out.push(...pemCertificates({ key: K.caPem }, caPem))
  const trustLocation = get(settings, 'truststoreLocation')
  if (trustLocation !== undefined) {
    const source = fileSource('truststoreLocation', trustLocation)
    const bytes = readSettingFile(K.truststoreLocation, trustLocation)
    out.push(...truststoreCertificates(source, bytes))
  }
  const trustPem = get(settings, 'truststoreCertificates')
  if (trustPem !== undefined) out.push(...pemCertificates({ key: K.truststoreCertificates }, trustPem))
  return out.length > 0 ? out : undefined
}

/**
 * Without a CA setting, librdkafka trusts the system's CA store (OpenSSL's default paths) and Java
 * the JVM's: so do we where Node can read the system store (`tls.getCACertificates('system')`,
 * Node 22.15+ and 23.8+), together with Node's default CAs (its bundled Mozilla list and
 * NODE_EXTRA_CA_CERTS). Undefined on older Node, where tls.connect uses its default CAs; there the
 * system store takes `node --use-openssl-ca` (docs/security.md).
 */
function systemAndDefaultCertificates(): string[] | undefined {
  const read = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates
  if (typeof read !== 'function') return undefined
  try {
    return [...new Set([...read('default'), ...read('system')])]
  } catch {
    return undefined // a system store that cannot be read: Node's defaults, as on older Node
  }
}

/** The part of tls.connect's options that presents our certificate. */
type Identity = Pick<TlsConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'>

/** A certificate chain and its key, checked to belong together. */
function pemIdentity(
  certs: { source: Source; content: string | Buffer },
  key: { source: Source; content: string | Buffer },
  passwordKey: string,
  password: string | undefined,
): Identity {
  const chain = pemCertificates(certs.source, certs.content)
  const loaded = pemPrivateKey(key.source, key.content, passwordKey, password)
  checkKeyMatches(chain, loaded, certs.source, key.source)
  return {
    cert: chain.join('\n'),
    key: loaded.pem,
    ...(password === undefined ? {} : { passphrase: password }),
  }
}

/** One of two settings that say the same thing, or neither; both is a mistake. */
function oneOf(
  settings: TlsSettings,
  location: 'certificateLocation' | 'keyLocation',
  pem: 'certificatePem' | 'keyPem',
): { source: Source; content: string | Buffer } | undefined {
  const path = get(settings, location)
  const text = get(settings, pem)
  if (path !== undefined && text !== undefined) {
    throw new TlsConfigError(K[pem], `set ${K[location]} or ${K[pem]}, not both`)
  }
  if (path !== undefined)
    return { source: fileSource(location, path), content: readSettingFile(K[location], path) }
  if (text !== undefined) return { source: { key: K[pem] }, content: text }
  return undefined
}

/** Our certificate, from whichever of the three ways it is configured, or none. */
function clientIdentity(settings: TlsSettings): Identity {
  const ways = [
    ['certificateLocation', 'certificatePem', 'keyLocation', 'keyPem'],
    ['keystoreLocation'],
    ['keystoreKey', 'keystoreCertificateChain'],
  ] as const
  const used = ways.map((fields) => fields.filter((f) => get(settings, f) !== undefined))
  const set = used.filter((fields) => fields.length > 0)
  if (set.length > 1) {
    throw new TlsConfigError(
      K[set[1]![0]!],
      `the client certificate is set twice (${set.map((f) => K[f[0]!]).join(' and ')}): use one of ` +
        `${K.certificateLocation} + ${K.keyLocation}, ${K.keystoreLocation}, or ` +
        `${K.keystoreKey} + ${K.keystoreCertificateChain}`,
    )
  }
  const keyPassword = settings.keyPassword

  if (used[0]!.length > 0) {
    const certs = oneOf(settings, 'certificateLocation', 'certificatePem')
    const key = oneOf(settings, 'keyLocation', 'keyPem')
    if (certs === undefined) {
      throw new TlsConfigError(
        K.certificateLocation,
        `${key!.source.key} is set but no certificate: set ${K.certificateLocation} or ${K.certificatePem}`,
      )
    }
    if (key === undefined) {
      throw new TlsConfigError(
        K.keyLocation,
        `${certs.source.key} is set but no private key: set ${K.keyLocation} or ${K.keyPem}`,
      )
    }
    return pemIdentity(certs, key, K.keyPassword, keyPassword)
  }

  const keystore = get(settings, 'keystoreLocation')
  if (keystore !== undefined) {
    const source = fileSource('keystoreLocation', keystore)
    const bytes = readSettingFile(K.keystoreLocation, keystore)
    const format = storeFormat(bytes)
    switch (format) {
      case 'PKCS12':
        return pkcs12Identity(source, bytes, K.keystorePassword, settings.keystorePassword)
      case 'PEM': {
        // Java's PEM keystore: the key's password is ssl.key.password (the store has none), but a
        // configuration written for PKCS#12 has ssl.keystore.password; either opens the key.
        const passwordKey =
          keyPassword === undefined && settings.keystorePassword !== undefined
            ? K.keystorePassword
            : K.keyPassword
        const content = { source, content: bytes }
        return pemIdentity(content, content, passwordKey, keyPassword ?? settings.keystorePassword)
      }
      case 'JKS':
      case 'JCEKS':
        throw jksError(source, 'keystore', format)
      default:
        throw new TlsConfigError(
          K.keystoreLocation,
          `${K.keystoreLocation} (${keystore}) is not a PKCS#12, PEM or JKS keystore`,
        )
    }
  }

  if (used[2]!.length > 0) {
    const key = get(settings, 'keystoreKey')
    const chain = get(settings, 'keystoreCertificateChain')
    if (key === undefined || chain === undefined) {
      const missing = key === undefined ? K.keystoreKey : K.keystoreCertificateChain
      throw new TlsConfigError(
        missing,
        `${K.keystoreKey} and ${K.keystoreCertificateChain} go together: set ${missing}`,
      )
    }
    return pemIdentity(
      { source: { key: K.keystoreCertificateChain }, content: chain },
      { source: { key: K.keystoreKey }, content: key },
      K.keyPassword,
      keyPassword,
    )
  }
  return {}
}

/** Java's "none": the certificate is still verified (unless that is off too), its names are not. */
function skipHostNameCheck(): undefined {
  return undefined
}

const SECRET_OPTIONS = ['key', 'passphrase', 'pfx'] as const

/**
 * The options, with `JSON.stringify` and `util.inspect` showing `[redacted]` for the private key,
 * passwords and PKCS#12 bytes: the object is handed around inside the producer, and a debug log of it
 * must not print them. Both hooks are non-enumerable, so the spread tls.connect makes of its options
 * neither copies nor sees them.
 */
function redacted(options: TlsConnectionOptions): TlsConnectionOptions {
  const shown = (): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...options }
    for (const k of SECRET_OPTIONS) if (copy[k] !== undefined) copy[k] = '[redacted]'
    return copy
  }
  Object.defineProperty(options, 'toJSON', { value: shown, enumerable: false })
  Object.defineProperty(options, inspect.custom, {
    value: (_depth: number, opts: object) => inspect(shown(), opts),
    enumerable: false,
  })
  return options
}

/**
 * Reads and checks the TLS material of `settings` and returns the options for `tls.connect`: `ca`
 * (without a CA setting: the system's store and Node's defaults, see systemAndDefaultCertificates), `cert` + `key` or `pfx`, `passphrase`, `ciphers`,
 * `rejectUnauthorized` and, when the host name check is off, `checkServerIdentity`; then
 * `settings.extra` on top. Files are read synchronously, once. Throws `TlsConfigError` (code
 * `_INVALID_ARG`) naming the key and file at fault: unreadable file, no PEM certificate or key where
 * one is expected, a wrong or missing password, a key that does not match its certificate, a JKS
 * store, an unknown cipher suite. The result holds secrets (key, passphrase): keep it internal; its
 * JSON and inspect forms redact them.
 */
export function loadTlsMaterial(settings: TlsSettings = {}): TlsConnectionOptions {
  checkShape(settings)
  const options: TlsConnectionOptions = {}
  const ca = trustedCertificates(settings) ?? systemAndDefaultCertificates()
  if (ca !== undefined) options.ca = ca
  Object.assign(options, clientIdentity(settings))
  const ciphers = get(settings, 'cipherSuites')
  if (ciphers !== undefined) options.ciphers = openSslCipherList(ciphers)
  options.rejectUnauthorized = settings.verifyCertificates ?? true
  if (!checksHostName(settings)) options.checkServerIdentity = skipHostNameCheck
  const merged: TlsConnectionOptions = { ...options, ...settings.extra }
  try {
    // What is left to check is what OpenSSL itself decides: a cipher list that selects nothing,
    // protocol versions, whatever the extra options set.
    createSecureContext(merged)
  } catch (err) {
    const message = (err as Error).message
    const key = /cipher/i.test(message) && settings.extra?.ciphers === undefined ? K.cipherSuites : K.extra
    throw new TlsConfigError(key, `${key}: ${message}`, err)
  }
  return redacted(merged)
}
