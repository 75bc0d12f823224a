import { KafkaError } from '../../errors/index.js'
import type { Clock } from '../../util/clock.js'

// What SASL authentication is configured with: a plain object the config layer fills from
// sasl.mechanism, sasl.username, sasl.password (or sasl.jaas.config), oauth_cb and
// sasl.oauthbearer.config, checked here before any connection uses it.

/** The SASL mechanisms this client speaks (GSSAPI/Kerberos is not one of them). */
export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER'

export const SASL_MECHANISMS: readonly SaslMechanismName[] = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
  'OAUTHBEARER',
]

/** An OAuth 2 bearer token as the token callback returns it (KIP-255). */
export interface OAuthBearerToken {
  /** The token itself (RFC 6750 b64token characters), e.g. a JWT in compact serialization. */
  token: string
  /** When the token expires, in ms since the epoch (on the clock of the settings). */
  expiresAtMs: number
  /** Who the token stands for; only used in messages. */
  principal?: string
  /** SASL extensions sent with the token (KIP-342), e.g. Confluent Cloud's logicalCluster. */
  extensions?: Record<string, string>
}

/**
 * The token callback, the type of the configuration key `oauth_cb` (the name used by
 * confluent-kafka-python): called with `sasl.oauthbearer.config` whenever a new token is needed,
 * sync or async. It is called again when 80 % of the token's lifetime has passed, as librdkafka does.
 */
export type OAuthCallback = (config: string | null) => OAuthBearerToken | Promise<OAuthBearerToken>

export interface SaslSettings {
  mechanism: SaslMechanismName
  /** PLAIN and SCRAM: the user to authenticate as. */
  username?: string
  /** PLAIN and SCRAM: the user's password. Never appears in a message. */
  password?: string
  /** OAUTHBEARER: where tokens come from. */
  oauthCb?: OAuthCallback
  /** OAUTHBEARER: the string handed to `oauthCb` (sasl.oauthbearer.config). */
  oauthConfig?: string | null
  /** Time for token expiry (default: the system clock). */
  clock?: Clock
  /**
   * Random bytes for the SCRAM client nonce (default: node:crypto's randomBytes). A test seam: the
   * nonce protects against replay only if it is unpredictable.
   */
  randomBytes?: (size: number) => Buffer
}

function invalid(message: string): KafkaError {
  return new KafkaError('_INVALID_ARG', `SASL: ${message}`)
}

function requireCredential(s: SaslSettings, key: 'username' | 'password'): void {
  const v = s[key]
  if (typeof v !== 'string' || v.length === 0) {
    throw invalid(`${s.mechanism} needs a ${key} (sasl.${key})`)
  }
}

/**
 * Checks the settings up front, so a bad configuration fails at construction rather than on every
 * connection attempt. Throws a KafkaError `_INVALID_ARG` that names what is missing; no message
 * contains a secret.
 */
export function validateSaslSettings(s: SaslSettings): void {
  if (typeof s !== 'object' || s === null) throw invalid('settings must be an object')
  if (!SASL_MECHANISMS.includes(s.mechanism)) {
    const named =
      typeof s.mechanism === 'string' ? `'${s.mechanism.slice(0, 40)}'` : String(typeof s.mechanism)
    throw invalid(`unsupported mechanism ${named}; supported: ${SASL_MECHANISMS.join(', ')}`)
  }
  if (s.mechanism === 'OAUTHBEARER') {
    if (typeof s.oauthCb !== 'function') {
      // librdkafka would build an unsecured JWT from sasl.oauthbearer.config without a callback; such
      // tokens are for tests only and are not supported here.
      throw invalid('OAUTHBEARER needs a token callback (oauth_cb) that returns { token, expiresAtMs }')
    }
    if (s.oauthConfig !== undefined && s.oauthConfig !== null && typeof s.oauthConfig !== 'string') {
      throw invalid('sasl.oauthbearer.config must be a string')
    }
  } else {
    requireCredential(s, 'username')
    requireCredential(s, 'password')
    // RFC 4616: NUL separates the fields of a PLAIN message, so neither may contain one. SCRAM would
    // carry it, but Kafka's broker could not match such a user, so the same rule holds for both.
    if (s.username!.includes('\0') || s.password!.includes('\0')) {
      throw invalid(`${s.mechanism}: the username and the password must not contain a NUL character`)
    }
  }
  if (s.randomBytes !== undefined && typeof s.randomBytes !== 'function') {
    throw invalid('randomBytes must be a function')
  }
}
