import { KafkaError } from '../../errors/index.js'

/**
 * A TLS setting that cannot be used: a file that cannot be read, content that is not what its key
 * says, a wrong password, a JKS store. Thrown by `loadTlsMaterial`, before any connection, so the
 * producer fails at construction rather than at its first connection. Code `_INVALID_ARG`, as for
 * every configuration mistake; the message starts with the key and names the file, never a secret.
 */
export class TlsConfigError extends KafkaError {
  override readonly name: string = 'TlsConfigError'
  /** The configuration key at fault (`ssl.ca.location`, `ssl.key.password`, ...). */
  readonly key: string

  constructor(key: string, message: string, cause?: unknown) {
    super('_INVALID_ARG', message, { retriable: false, cause })
    this.key = key
  }
}

// Certificate verification results (OpenSSL's X509_V_ERR_* names, which Node puts in `err.code`) that
// mean "we do not trust the broker's certificate": the fix is always the trusted CA setting.
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
])

const CA_SETTINGS = 'ssl.ca.location (or ssl.ca.pem, ssl.truststore.location)'
const CLIENT_CERT_SETTINGS = 'ssl.certificate.location and ssl.key.location (or ssl.keystore.location)'
const LISTENER_RULE =
  'security.protocol ssl and sasl_ssl need the port of an SSL or SASL_SSL listener, plaintext that of a ' +
  'PLAINTEXT one'

/** What a TLS alert from the broker means for us, by the alert's name in OpenSSL's message. */
function alertAdvice(alert: string): string {
  switch (alert) {
    case 'certificate required':
      return `the broker requires a client certificate and we sent none: set ${CLIENT_CERT_SETTINGS}`
    case 'handshake failure':
      return (
        `the broker refused the TLS handshake: it may require a client certificate (set ${CLIENT_CERT_SETTINGS}), ` +
        'or share no TLS version or cipher suite with us (ssl.cipher.suites)'
      )
    case 'bad certificate':
    case 'unknown ca':
    case 'certificate unknown':
    case 'unsupported certificate':
      return (
        'the broker rejected our client certificate: its truststore must hold the CA that signed ' +
        `the certificate of ${CLIENT_CERT_SETTINGS}`
      )
    case 'certificate expired':
      return 'the broker says our client certificate has expired: renew it'
    case 'certificate revoked':
      return 'the broker says our client certificate was revoked'
    case 'access denied':
      return 'the broker denied access to our client certificate'
    case 'protocol version':
    case 'insufficient security':
      return 'the broker shares no TLS version or cipher suite with us (its ssl.enabled.protocols, ssl.cipher.suites)'
    default:
      return 'the broker ended the TLS handshake'
  }
}

/**
 * Says which TLS failure a socket error is, as the error a connection fails with: `_SSL`
 * (non-retriable: trying again will meet the same certificate) for a broker certificate we do not
 * trust, a host name it does not cover, an expired certificate, a client certificate the broker
 * refuses, or a peer that does not speak TLS. A connection that closes during the handshake stays a
 * retriable `_TRANSPORT` (a broker restarting does that too), with a hint. Undefined for anything
 * else, and for every error once the connection is established: the connection reports those as a
 * lost connection. The original error is always `cause`.
 */
export function classifyTlsError(
  err: Error,
  target: { readonly host: string; readonly port: number; readonly established?: boolean },
): KafkaError | undefined {
  // Certificates are checked only during the handshake: a TLS error on a connection already in use
  // (a corrupted record, an alert) is a lost connection, whose requests are retried on a new one.
  if (target.established === true) return undefined
  const address = `${target.host}:${target.port}`
  const code = (err as NodeJS.ErrnoException).code ?? ''
  const text = err.message.toLowerCase()
  const ssl = (message: string): KafkaError =>
    new KafkaError('_SSL', `${address}: ${message}`, { cause: err })

  if (UNTRUSTED.has(code)) {
    const self =
      code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ? ' (it is self-signed: trust the certificate itself)' : ''
    return ssl(
      `broker certificate not trusted: ${err.message} (${code}); set ${CA_SETTINGS} to the CA ` +
        `that signed the broker's certificate${self}`,
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    const names = (err as { cert?: { subjectaltname?: unknown } }).cert?.subjectaltname
    const lists = typeof names === 'string' && names.length <= 300 ? ` (it lists ${names})` : ''
    return ssl(
      `broker certificate does not match host ${target.host}${lists}; connect with a name the ` +
        "certificate lists (the broker's advertised.listeners), or set " +
        'ssl.endpoint.identification.algorithm=none to skip the host name check',
    )
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'ERROR_IN_CERT_NOT_AFTER_FIELD') {
    return ssl(
      `broker certificate has expired (${code}): renew it on the broker, or check this machine's clock`,
    )
  }
  if (code === 'CERT_NOT_YET_VALID' || code === 'ERROR_IN_CERT_NOT_BEFORE_FIELD') {
    return ssl(`broker certificate is not yet valid (${code}): check this machine's clock`)
  }
  if (code === 'CERT_REVOKED') return ssl('broker certificate has been revoked (CERT_REVOKED)')

  // An alert from the broker comes with a code of its own from a read (ERR_SSL_SSLV3_ALERT_...), but
  // as a bare EPROTO from a failed write; the message names it either way ("sslv3 alert handshake
  // failure"), so read it from there.
  // OpenSSL 3.0 (Node 20) writes "sslv3 alert handshake failure", OpenSSL 3.5 (Node 24) "ssl/tls
  // alert handshake failure".
  const alert = /(?:sslv3|tlsv1\d*|ssl\/tls) alert ([a-z ]+?)(?=:|\n|$)/.exec(text)?.[1]
  if (alert !== undefined) return ssl(`${alertAdvice(alert)} (TLS alert "${alert}")`)

  const mismatch = /wrong version number|packet length too long|unknown protocol|http request/.exec(text)?.[0]
  if (mismatch !== undefined)
    return ssl(`the broker did not answer in TLS (${mismatch}): is this a TLS listener? ${LISTENER_RULE}`)

  if (code === 'ECONNRESET' && text.includes('before secure tls connection')) {
    return new KafkaError(
      '_TRANSPORT',
      `${address}: connection closed during the TLS handshake; if this persists, the broker may refuse ` +
        `our client certificate or want one (${CLIENT_CERT_SETTINGS}), or the port is not a TLS listener ` +
        `(${LISTENER_RULE})`,
      { cause: err },
    )
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || text.includes('ssl routines')) {
    const reason = (err as { reason?: unknown }).reason
    return ssl(`TLS handshake failed: ${typeof reason === 'string' ? reason : err.message.trim()}`)
  }
  return undefined
}
