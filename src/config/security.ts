import type { AuthenticationStep } from '../network/connection.js'
import {
  parseJaasConfig,
  saslAuthenticator,
  validateSaslSettings,
  type JaasConfig,
  type SaslSettings,
} from '../network/sasl/index.js'
import { TlsConfigError, loadTlsMaterial, type TlsSettings } from '../network/tls/index.js'
import { tlsTransport, type TransportFactory } from '../network/transport.js'
import type { Clock } from '../util/clock.js'
import { ConfigError } from './errors.js'
import { secretValue, tlsEscapeHatch, type ResolvedProducerConfig } from './resolve.js'

/**
 * How the connections of a client are secured, from its resolved configuration: the transport (TLS
 * for ssl and sasl_ssl) and the authentication step (SASL for sasl_plaintext and sasl_ssl). Built
 * once, when the producer (or Admin) is created, so that unreadable TLS material or unusable SASL
 * settings fail the constructor with a ConfigError naming the key, never a connection later; and so
 * that certificate files are read once, not per connection.
 */
export interface ConnectionSecurity {
  /** Undefined: plain TCP (the pool's default). */
  readonly transport?: TransportFactory
  /** Undefined: no authentication step. */
  readonly authenticate?: AuthenticationStep
}

export function connectionSecurity(c: ResolvedProducerConfig, clock: Clock): ConnectionSecurity {
  const protocol = c.securityProtocol
  const tls = protocol === 'ssl' || protocol === 'sasl_ssl'
  const sasl = protocol === 'sasl_plaintext' || protocol === 'sasl_ssl'
  return {
    ...(tls ? { transport: tlsTransport(tlsOptions(c)) } : {}),
    ...(sasl ? { authenticate: saslAuthenticator(saslSettings(c, clock)) } : {}),
  }
}

/** The ssl.* keys as the TLS loader takes them; unset keys are left out. */
export function tlsSettings(c: ResolvedProducerConfig): TlsSettings {
  const s: TlsSettings = {
    verifyCertificates: c.enableSslCertificateVerification,
    endpointIdentification: c.sslEndpointIdentificationAlgorithm,
  }
  const set = <K extends keyof TlsSettings>(field: K, value: TlsSettings[K] | null): void => {
    if (value !== null && value !== undefined) s[field] = value
  }
  set('caLocation', c.sslCaLocation)
  set('caPem', c.sslCaPem)
  set('certificateLocation', c.sslCertificateLocation)
  set('certificatePem', c.sslCertificatePem)
  set('keyLocation', c.sslKeyLocation)
  set('keyPem', secretValue(c, 'sslKeyPem'))
  set('keyPassword', secretValue(c, 'sslKeyPassword'))
  set('keystoreLocation', c.sslKeystoreLocation)
  set('keystorePassword', secretValue(c, 'sslKeystorePassword'))
  set('keystoreType', c.sslKeystoreType)
  set('keystoreKey', secretValue(c, 'sslKeystoreKey'))
  set('keystoreCertificateChain', c.sslKeystoreCertificateChain)
  set('truststoreLocation', c.sslTruststoreLocation)
  set('truststorePassword', secretValue(c, 'sslTruststorePassword'))
  set('truststoreType', c.sslTruststoreType)
  set('truststoreCertificates', c.sslTruststoreCertificates)
  set('cipherSuites', c.sslCipherSuites)
  set('extra', tlsEscapeHatch(c))
  return s
}

function tlsOptions(c: ResolvedProducerConfig): ReturnType<typeof loadTlsMaterial> {
  try {
    return loadTlsMaterial(tlsSettings(c))
  } catch (err) {
    if (err instanceof TlsConfigError) throw new ConfigError(err.key, err.message, { cause: err.cause })
    throw err
  }
}

/** Java's login module class for each mechanism family (sasl.jaas.config). */
const LOGIN_MODULES = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  SCRAM: 'org.apache.kafka.common.security.scram.ScramLoginModule',
  OAUTHBEARER: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule',
} as const

/**
 * The SASL settings: the mechanism, and the credentials from sasl.username/sasl.password or from
 * Java's sasl.jaas.config (its username and password options), or the token callback. Checked here,
 * so that a missing password or callback is a ConfigError at construction.
 */
export function saslSettings(c: ResolvedProducerConfig, clock: Clock): SaslSettings {
  const mechanism = c.saslMechanism
  if (mechanism === 'GSSAPI') {
    // resolveProducerConfig refuses GSSAPI with a SASL protocol; this guards a hand-made configuration.
    throw new ConfigError('sasl.mechanism', 'sasl.mechanism GSSAPI (Kerberos) is not implemented')
  }
  let username = c.saslUsername
  let password = secretValue(c, 'saslPassword')
  const jaasText = secretValue(c, 'saslJaasConfig')
  if (jaasText !== null) {
    const jaas = parseJaas(jaasText)
    const family = mechanism.startsWith('SCRAM-') ? 'SCRAM' : mechanism
    const expected = LOGIN_MODULES[family as keyof typeof LOGIN_MODULES]
    if (jaas.loginModule !== expected) {
      throw new ConfigError(
        'sasl.jaas.config',
        `Config key 'sasl.jaas.config' names the login module ${jaas.loginModule}, but sasl.mechanism ` +
          `${mechanism} needs ${expected}`,
      )
    }
    if (family !== 'OAUTHBEARER') {
      username = fromJaas(jaas, 'username', 'sasl.username', username, true)
      password = fromJaas(jaas, 'password', 'sasl.password', password, false)
    }
  }
  const settings: SaslSettings = {
    mechanism,
    clock,
    ...(username !== null ? { username } : {}),
    ...(password !== null ? { password } : {}),
    ...(c.oauthCb ? { oauthCb: c.oauthCb } : {}),
    oauthConfig: secretValue(c, 'saslOauthbearerConfig'),
  }
  try {
    validateSaslSettings(settings)
  } catch (err) {
    const key =
      mechanism === 'OAUTHBEARER' ? 'oauth_cb' : username === null ? 'sasl.username' : 'sasl.password'
    throw new ConfigError(key, `Config key '${key}': ${(err as Error).message}`, { cause: err })
  }
  return settings
}

function parseJaas(text: string): JaasConfig {
  try {
    return parseJaasConfig(text)
  } catch (err) {
    throw new ConfigError(
      'sasl.jaas.config',
      `Config key 'sasl.jaas.config' cannot be read: ${(err as Error).message}`,
      { cause: err },
    )
  }
}

/**
 * One credential from the JAAS line, which must agree with the key of the same meaning when both
 * are set (as with two spellings of one key). `shown`: whether the value may appear in a message
 * (a user name may, a password never).
 */
function fromJaas(
  jaas: JaasConfig,
  option: 'username' | 'password',
  key: string,
  own: string | null,
  shown: boolean,
): string | null {
  const value = jaas.options.get(option)
  if (value === undefined) return own
  if (own !== null && own !== value) {
    throw new ConfigError(
      key,
      `Config keys '${key}' and 'sasl.jaas.config' give different ${option}s` +
        (shown ? ` ('${own}' and '${value}')` : '') +
        ': set only one of them',
    )
  }
  return value
}
