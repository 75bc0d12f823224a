import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { TlsConfigError } from './errors.js'

// Reading the files the ssl.* keys name, and checking PEM content with Node's own parsers, so that a
// wrong file fails the producer's construction with the key and path in the message instead of a
// handshake failing later with an OpenSSL code (Node's createSecureContext even ignores CA text that
// is not a certificate, leaving the broker "untrusted" for no visible reason).

/** Why a file cannot be read, in words, from Node's error code. */
function unreadable(err: unknown): string {
  switch ((err as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a directory'
    default:
      return (err as Error)?.message ?? String(err)
  }
}

/** The whole file named by setting `key`, read now (once, at construction). */
export function readSettingFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new TlsConfigError(key, `${key}: cannot read ${path}: ${unreadable(err)}`, err)
  }
}

/** Where content comes from: the setting's key, and the file it names (absent for a PEM string). */
export interface Source {
  readonly key: string
  readonly path?: string
}

/** How messages name a source: `ssl.ca.location (/etc/ca.pem)`, or `ssl.ca.pem`. */
export function describe(source: Source): string {
  return source.path === undefined ? source.key : `${source.key} (${source.path})`
}

export interface PemBlock {
  /** The word(s) after BEGIN: CERTIFICATE, PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY, ... */
  readonly label: string
  /** The block, BEGIN and END lines included, with whatever headers it carries (Proc-Type, DEK-Info). */
  readonly text: string
}

/** The PEM blocks of `text`, in order; anything between them (bag attributes, comments) is dropped. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = []
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g))
    out.push({ label: m[1]!, text: m[0] })
  return out
}

/** True when `bytes` look like PEM text rather than a binary (DER, PKCS#12, JKS) file. */
export function looksLikePem(bytes: Buffer): boolean {
  return bytes.includes('-----BEGIN ')
}

const KEY_LABELS = new Set([
  'PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'DSA PRIVATE KEY',
])

/**
 * The certificates of PEM `content`, each checked by Node's X.509 parser, as one PEM string each.
 * Binary content that parses as a DER certificate gets the openssl command that converts it.
 */
export function pemCertificates(source: Source, content: string | Buffer): string[] {
  const where = describe(source)
  const text = typeof content === 'string' ? content : content.toString('latin1')
  const blocks = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')
  if (blocks.length === 0) {
    if (typeof content !== 'string' && !looksLikePem(content) && isDerCertificate(content)) {
      throw new TlsConfigError(
        source.key,
        `${where} holds a DER certificate, not PEM: convert it with ` +
          `\`openssl x509 -inform der -in ${source.path ?? 'cert.der'} -out cert.pem\` and name that file`,
      )
    }
    throw new TlsConfigError(
      source.key,
      `${where} does not contain a PEM certificate (-----BEGIN CERTIFICATE-----)`,
    )
  }
  return blocks.map((b, i) => {
    // OpenSSL's "trusted certificate" form carries trust settings X509Certificate cannot read, but
    // OpenSSL (and so Node's `ca`) can: pass it on unchecked.
    if (b.label === 'TRUSTED CERTIFICATE') return b.text
    try {
      new X509Certificate(b.text)
    } catch (err) {
      throw new TlsConfigError(
        source.key,
        `${where}: certificate ${i + 1} of ${blocks.length} cannot be parsed: ${(err as Error).message}`,
        err,
      )
    }
    return b.text
  })
}

function isDerCertificate(bytes: Buffer): boolean {
  try {
    new X509Certificate(bytes)
    return true
  } catch {
    return false
  }
}

export interface LoadedKey {
  /** The key's PEM block, as it was (encrypted keys stay encrypted: Node decrypts with the passphrase). */
  readonly pem: string
  /** The decrypted key, to check that it belongs to the certificate. */
  readonly object: KeyObject
}

/**
 * The first private key of PEM `content`, decrypted once with `password` to prove that it can be:
 * a wrong or missing password fails here, naming `passwordKey` but never the password.
 */
export function pemPrivateKey(
  source: Source,
  content: string | Buffer,
  passwordKey: string,
  password: string | undefined,
): LoadedKey {
  const where = describe(source)
  const text = typeof content === 'string' ? content : content.toString('latin1')
  const block = pemBlocks(text).find((b) => KEY_LABELS.has(b.label))
  if (block === undefined) {
    throw new TlsConfigError(
      source.key,
      `${where} does not contain a PEM private key (-----BEGIN PRIVATE KEY-----)`,
    )
  }
  try {
    const object = createPrivateKey(
      password === undefined
        ? { key: block.text, format: 'pem' }
        : { key: block.text, format: 'pem', passphrase: password },
    )
    return { pem: block.text, object }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    // OpenSSL 3 says BAD_DECRYPT for a wrong passphrase, and "interrupted or cancelled" when an
    // encrypted key gets none (Node asks no prompt); older builds say ERR_MISSING_PASSPHRASE. A wrong
    // passphrase also passes the CBC padding check about once in 256 tries, and the garbage then
    // fails to decode (ERR_OSSL_UNSUPPORTED): still the password's fault for an encrypted key.
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(block.text)
    if (
      password !== undefined &&
      (code.endsWith('BAD_DECRYPT') || (encrypted && code === 'ERR_OSSL_UNSUPPORTED'))
    ) {
      throw new TlsConfigError(
        passwordKey,
        `${passwordKey} does not decrypt the private key of ${where}: wrong password`,
        err,
      )
    }
    if (code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED') {
      throw new TlsConfigError(
        passwordKey,
        `the private key of ${where} is encrypted: set ${passwordKey}`,
        err,
      )
    }
    throw new TlsConfigError(
      source.key,
      `${where}: the private key cannot be read: ${(err as Error).message}`,
      err,
    )
  }
}

/** Fails unless `key` is the private key of the first (leaf) certificate of `chain`. */
export function checkKeyMatches(
  chain: readonly string[],
  key: LoadedKey,
  certs: Source,
  keySource: Source,
): void {
  const leaf = chain[0]
  if (leaf === undefined || leaf.includes('TRUSTED CERTIFICATE')) return
  if (!new X509Certificate(leaf).checkPrivateKey(key.object)) {
    throw new TlsConfigError(
      keySource.key,
      `the private key of ${describe(keySource)} does not belong to the certificate of ${describe(certs)}`,
    )
  }
}
