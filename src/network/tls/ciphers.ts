import { getCiphers } from 'node:tls'
import { TlsConfigError } from './errors.js'

// ssl.cipher.suites is written two ways: librdkafka passes an OpenSSL cipher list
// ("ECDHE-RSA-AES128-GCM-SHA256:..."), Java a comma-separated list of IANA names
// ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,..."). Node takes OpenSSL's, so a Java configuration
// copied unchanged would select nothing: its TLS 1.2 names are translated here. TLS 1.3 suites have
// the same name in both (TLS_AES_128_GCM_SHA256) and pass through.

const KEY = 'ssl.cipher.suites'

/** IANA key exchange and authentication → OpenSSL's prefix (plain RSA key exchange has none). */
const KEY_EXCHANGE: Readonly<Record<string, string>> = {
  RSA: '',
  ECDHE_RSA: 'ECDHE-RSA-',
  ECDHE_ECDSA: 'ECDHE-ECDSA-',
  DHE_RSA: 'DHE-RSA-',
  DHE_DSS: 'DHE-DSS-',
}

/** `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` → `ECDHE-RSA-AES128-GCM-SHA256`; undefined if not IANA-shaped. */
export function ianaToOpenSsl(name: string): string | undefined {
  const m = /^(?:TLS|SSL)_([A-Z0-9_]+?)_WITH_([A-Z0-9_]+)$/.exec(name)
  if (!m) return undefined
  const prefix = KEY_EXCHANGE[m[1]!]
  if (prefix === undefined) return undefined
  const bulk = m[2]!
  if (bulk === 'CHACHA20_POLY1305_SHA256') return `${prefix}CHACHA20-POLY1305`
  const aes = /^AES_(128|256)_(GCM|CBC|CCM|CCM_8)(?:_(SHA\d*))?$/.exec(bulk)
  if (!aes) return undefined
  const [, bits, mode, mac] = aes
  // OpenSSL names CBC suites by their MAC alone (AES128-SHA) and AEAD ones by mode and PRF hash.
  if (mode === 'CBC') return mac ? `${prefix}AES${bits}-${mac}` : undefined
  if (mode === 'GCM') return mac ? `${prefix}AES${bits}-GCM-${mac}` : undefined
  return `${prefix}AES${bits}-${mode === 'CCM' ? 'CCM' : 'CCM8'}`
}

/**
 * The OpenSSL cipher list for `ciphers`: separators `,`, `:` and spaces all accepted, Java's IANA
 * names translated. A Java name that has no OpenSSL equivalent Node knows is an error naming it,
 * since OpenSSL would skip it silently; other entries (OpenSSL names, keywords like HIGH or !aNULL)
 * are passed on and checked as a whole when the TLS context is built.
 */
export function openSslCipherList(value: string): string {
  const known = new Set(getCiphers().map((c) => c.toUpperCase()))
  const names = value.split(/[\s,:]+/).filter((s) => s.length > 0)
  if (names.length === 0) throw new TlsConfigError(KEY, `${KEY} is empty`)
  return names
    .map((name) => {
      if (!/_WITH_/.test(name)) return name
      const openssl = ianaToOpenSsl(name)
      if (openssl === undefined || !known.has(openssl)) {
        throw new TlsConfigError(
          KEY,
          `${KEY}: ${name} is not a cipher suite Node's OpenSSL supports` +
            (openssl === undefined ? '' : ` (as ${openssl})`) +
            '; use OpenSSL names (openssl ciphers -v) or IANA names of supported suites',
        )
      }
      return openssl
    })
    .join(':')
}
