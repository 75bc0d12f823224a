import { KafkaError } from '../../errors/index.js'
import type { SaslFail, SaslMechanism, SaslSession } from './mechanism.js'
import type { BearerToken, OAuthTokenSource } from './oauth-token.js'
import { quoteBroker, quoteName, redact, serverText } from './text.js'

// SASL OAUTHBEARER (RFC 7628; in Kafka since KIP-255, extensions since KIP-342): the client sends a
// bearer token in its initial response; the broker answers with empty bytes on success, or with a
// JSON error document (RFC 7628 §3.2.2), to which the client must reply with a single %x01 before the
// broker fails the exchange with SASL_AUTHENTICATION_FAILED.

/** RFC 7628's kvsep, which ends each key/value pair and the message. */
const KVSEP = '\x01'

/** KIP-342: an extension key is letters only. */
const EXTENSION_KEY = /^[A-Za-z]+$/
/**
 * RFC 7628 §3.1: a value is *(VCHAR / SP / HTAB / CR / LF); Kafka's OAuthBearerClientInitialResponse
 * also requires at least one character. %x01 is not among them, so no value can break the framing.
 */
const EXTENSION_VALUE = /^[\x21-\x7e \t\r\n]+$/

/** Why `extensions` cannot be sent (names the key, never a value), or null. */
export function extensionProblem(extensions: Readonly<Record<string, unknown>>): string | null {
  for (const [key, value] of Object.entries(extensions)) {
    if (!EXTENSION_KEY.test(key)) {
      return `extension key ${quoteName(key)} must be letters only (KIP-342)`
    }
    // RFC 7628 §3.1 reserves "auth" for the token itself.
    if (key === 'auth') return 'extension key "auth" is reserved for the token (RFC 7628)'
    if (typeof value !== 'string') return `extension ${quoteName(key)} must have a string value`
    if (!EXTENSION_VALUE.test(value)) {
      return `extension ${quoteName(key)} has an empty value or characters RFC 7628 §3.1 does not allow`
    }
  }
  return null
}

/** RFC 5801 saslname for the authorization identity: ',' and '=' escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

/**
 * The client's initial response (RFC 7628 §3.1):
 * `n,[a=<authzid>],` %x01 `auth=Bearer <token>` %x01 *(`key=value` %x01) %x01.
 * Extensions go in key order so that the same token always gives the same bytes. The caller has
 * checked the token and the extensions (checkToken).
 */
export function oauthBearerInitialResponse(
  token: string,
  extensions: Readonly<Record<string, string>> = {},
  authzid?: string,
): Buffer {
  const gs2 = `n,${authzid ? `a=${saslName(authzid)}` : ''},`
  const pairs = Object.keys(extensions)
    .sort()
    .map((k) => `${k}=${extensions[k]}${KVSEP}`)
    .join('')
  return Buffer.from(`${gs2}${KVSEP}auth=Bearer ${token}${KVSEP}${pairs}${KVSEP}`, 'utf8')
}

/**
 * What a broker's error document says (RFC 7628 §3.2.2: `status`, optionally `scope` and
 * `openid-configuration`), as text for a message; broker text is escaped and shortened.
 */
export function describeServerError(text: string, secrets: readonly string[] = []): string {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return 'an error the client cannot read (not JSON)'
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return 'an error that is not a JSON object'
  const d = doc as Record<string, unknown>
  const parts: string[] = []
  const field = (name: string): void => {
    if (typeof d[name] === 'string') parts.push(`${name} "${quoteBroker(d[name], secrets)}"`)
  }
  field('status')
  field('scope')
  field('openid-configuration')
  return parts.length > 0 ? parts.join(', ') : 'an error without a status'
}

type State = 'new' | 'sent' | 'failed' | 'done'

class OAuthBearerSession implements SaslSession {
  readonly #tokens: OAuthTokenSource
  readonly #fail: SaslFail
  #state: State = 'new'
  #token = ''
  #principal: string | null = null
  #detail: string | null = null

  constructor(tokens: OAuthTokenSource, fail: SaslFail) {
    this.#tokens = tokens
    this.#fail = fail
  }

  identity(): string | null {
    return this.#principal === null ? null : `principal ${quoteName(this.#principal)}`
  }

  async first(): Promise<Buffer> {
    // Fetched here, after the broker answered SaslHandshake: on a re-authentication the answers to
    // earlier requests have arrived by then, so a callback that fails closes an idle connection.
    let token: BearerToken
    try {
      token = await this.#tokens.current()
    } catch (err) {
      const e = KafkaError.wrap(err, '_AUTHENTICATION')
      throw this.#fail(e.code, e.message, e)
    }
    this.#token = token.value()
    this.#principal = token.principal
    this.#state = 'sent'
    // No authorization id: Kafka's broker checks one against the token's principal and fails on any
    // difference, and neither Kafka's Java client nor librdkafka sends one.
    return oauthBearerInitialResponse(token.value(), token.extensions)
  }

  async next(challenge: Buffer): Promise<Buffer | null> {
    const fail = (reason: string) => this.#fail('_AUTHENTICATION', reason)
    if (this.#state === 'sent') {
      if (challenge.length === 0) {
        this.#state = 'done'
        return null
      }
      // RFC 7628 §3.2.2: the server's error; we must answer %x01 and the server then fails the exchange.
      const text = serverText(challenge, fail)
      this.#detail = `the broker reported ${describeServerError(text, [this.#token])}`
      this.#state = 'failed'
      return Buffer.from(KVSEP, 'utf8')
    }
    if (this.#state === 'failed') {
      // A broker that reported an error and then carries on is not following RFC 7628.
      throw this.#fail('SASL_AUTHENTICATION_FAILED', this.#detail!)
    }
    throw fail(
      `unexpected server message ${this.#state === 'done' ? 'after the exchange ended' : 'before ours'}`,
    )
  }

  redact(text: string): string {
    return redact(text, [this.#token])
  }

  failureDetail(): string | null {
    return this.#detail
  }
}

/** OAUTHBEARER with tokens from `tokens` (the callback, cached). */
export class OAuthBearerMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER' as const
  readonly #tokens: OAuthTokenSource

  constructor(tokens: OAuthTokenSource) {
    this.#tokens = tokens
  }

  session(fail: SaslFail): SaslSession {
    return new OAuthBearerSession(this.#tokens, fail)
  }
}
