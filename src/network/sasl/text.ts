import { KafkaError } from '../../errors/index.js'

// Text from the broker, on its way into our messages, and our secrets, kept out of them.

/** The most of a broker's text that goes into one of our messages. */
const MAX_QUOTED = 300

/**
 * The largest SASL answer we accept. SaslHandshake lists a few mechanism names and SaslAuthenticate
 * carries a SCRAM challenge, an OAUTHBEARER error document or an error message: a few hundred bytes
 * in practice. A broker sending more is broken or hostile, and the frame reader refuses it before it
 * is buffered (the connection's generic bound would let 8 MiB through).
 */
export const MAX_SASL_RESPONSE_BYTES = 64 * 1024

/** The largest server message a mechanism parses (SCRAM challenges, OAUTHBEARER error JSON). */
export const MAX_SERVER_MESSAGE_BYTES = 16 * 1024

/**
 * Removes each of `secrets` from `text`. A broker has no reason to echo a password or a token, but
 * a hostile or buggy one could put it in an error message, which then would land in logs.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]')
  return out
}

/**
 * A broker-given string made fit for a message: secrets removed first (so a cut cannot leave half of
 * one), control characters shown as escapes (a log line cannot be forged with a newline), and
 * shortened.
 */
export function quoteBroker(text: string, secrets: readonly string[] = []): string {
  let clean = ''
  for (const c of redact(text, secrets)) {
    const code = c.charCodeAt(0)
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029
    clean += control ? `\\u${code.toString(16).padStart(4, '0')}` : c
  }
  return clean.length > MAX_QUOTED ? `${clean.slice(0, MAX_QUOTED)}… (${clean.length} chars)` : clean
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A server message as text: it must be valid UTF-8 and no larger than MAX_SERVER_MESSAGE_BYTES.
 * `fail(reason)` builds the error to throw.
 */
export function serverText(bytes: Buffer, fail: (reason: string) => KafkaError): string {
  if (bytes.length > MAX_SERVER_MESSAGE_BYTES) {
    throw fail(`server message of ${bytes.length} bytes, over the ${MAX_SERVER_MESSAGE_BYTES}-byte limit`)
  }
  try {
    return utf8.decode(bytes)
  } catch {
    throw fail('server message is not valid UTF-8')
  }
}

/** How a user or principal is named in messages: quoted, escaped, shortened (not a secret). */
export function quoteName(name: string): string {
  return `"${quoteBroker(name)}"`
}

/** A protocol violation by the server, found by us: not retriable, the server will not change. */
export function protocolError(prefix: string, reason: string): KafkaError {
  return new KafkaError('_AUTHENTICATION', `${prefix}: ${reason}`)
}
