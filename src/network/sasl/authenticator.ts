import { systemClock } from '../../util/clock.js'
import type { AuthenticationContext, AuthenticationOutcome } from '../connection-options.js'
import { saslExchange } from './exchange.js'
import type { SaslMechanism } from './mechanism.js'
import { OAuthTokenSource } from './oauth-token.js'
import { OAuthBearerMechanism } from './oauthbearer.js'
import { PlainMechanism } from './plain.js'
import { ScramMechanism } from './scram.js'
import { validateSaslSettings, type SaslSettings } from './settings.js'

// The entry point: SASL settings in, the connection's authentication step out.

/** The mechanism for validated settings; it keeps the credentials, caches and tokens privately. */
export function saslMechanism(settings: SaslSettings): SaslMechanism {
  validateSaslSettings(settings)
  switch (settings.mechanism) {
    case 'PLAIN':
      return new PlainMechanism(settings.username!, settings.password!)
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return new ScramMechanism(
        settings.mechanism,
        settings.username!,
        settings.password!,
        settings.randomBytes ? { randomBytes: settings.randomBytes } : {},
      )
    case 'OAUTHBEARER':
      return new OAuthBearerMechanism(
        new OAuthTokenSource(settings.oauthCb!, settings.oauthConfig ?? null, settings.clock ?? systemClock),
      )
  }
}

/**
 * The authentication step for `ConnectionOptions.authenticate` / `ConnectionPoolOptions.authenticate`:
 * SaslHandshake and SaslAuthenticate with the configured mechanism, resolving with the broker's
 * session lifetime so the connection re-authenticates in time (KIP-368). Throws `_INVALID_ARG` at
 * once for incomplete settings. One authenticator serves every connection of a client: SCRAM's salted
 * password and OAUTHBEARER's token are computed or fetched once and shared.
 */
export function saslAuthenticator(
  settings: SaslSettings,
): (conn: AuthenticationContext) => Promise<AuthenticationOutcome> {
  const mechanism = saslMechanism(settings)
  return function saslAuthenticate(conn: AuthenticationContext): Promise<AuthenticationOutcome> {
    return saslExchange(conn, mechanism)
  }
}
