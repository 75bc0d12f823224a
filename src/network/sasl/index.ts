// SASL for broker connections (issue 11): the settings, the authentication step built from them, and
// the sasl.jaas.config parser. What the config layer and the producer import.
export { saslAuthenticator } from './authenticator.js'
export { JaasOptions, parseJaasConfig } from './jaas.js'
export type { JaasConfig, JaasControlFlag } from './jaas.js'
export { SASL_MECHANISMS, validateSaslSettings } from './settings.js'
export type { OAuthBearerToken, OAuthCallback, SaslMechanismName, SaslSettings } from './settings.js'
export type { AuthenticationOutcome, AuthenticationStep } from '../connection-options.js'
