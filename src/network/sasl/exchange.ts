import { ErrorCode, KafkaError, errorInfo, type KafkaErrorCode } from '../../errors/index.js'
import { SaslAuthenticateApi, SaslHandshakeApi, type SaslAuthenticateResponse } from '../../protocol/index.js'
import type { AuthenticationContext, AuthenticationOutcome } from '../connection-options.js'
import type { SaslFail, SaslMechanism, SaslSession } from './mechanism.js'
import { MAX_SASL_RESPONSE_BYTES, quoteBroker } from './text.js'

// The SASL exchange on one connection (KIP-43, KIP-152): SaslHandshake names the mechanism, then
// SaslAuthenticate carries the mechanism's messages, one round each, until the mechanism is done.
// The same exchange re-authenticates a ready connection (KIP-368).

/**
 * Rounds we go along with: PLAIN takes one, SCRAM two, a failing OAUTHBEARER two. A broker that keeps
 * challenging is leading us on (each round is bounded by request.timeout.ms, the whole by
 * socket.connection.setup.timeout.ms, but there is no reason to wait for those).
 */
const MAX_ROUNDS = 4

/** Mechanism names of the broker quoted in a message, at most. */
const MAX_LISTED_MECHANISMS = 20

/** A broker's error code as our error: its name from the table, or UNKNOWN_SERVER_ERROR keeping the number. */
function brokerCode(errorCode: number): KafkaErrorCode {
  return errorInfo(errorCode)?.name ?? 'UNKNOWN_SERVER_ERROR'
}

/** The session lifetime of an answer (int64; 0 for SaslAuthenticate v0) as a safe number of ms. */
function lifetimeMs(v: bigint): number {
  if (v <= 0n) return 0
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)
}

/**
 * Authenticates the connection of `ctx` with `mechanism`. Resolves with the broker's session lifetime
 * (SaslAuthenticate v1+, KIP-368); rejects with a non-retriable KafkaError whose message names the
 * broker, the mechanism and the user, never a password or token:
 * - UNSUPPORTED_SASL_MECHANISM: the broker does not enable the mechanism (its list is in the message);
 * - SASL_AUTHENTICATION_FAILED: the broker refused the credentials (its message is in ours);
 * - _AUTHENTICATION: the broker broke the mechanism's rules (malformed messages, a SCRAM server
 *   signature that does not match), or the token callback failed;
 * - _UNSUPPORTED_FEATURE: the broker is older than Kafka 1.0 (no SaslAuthenticate);
 * - any other broker error by its name.
 */
export async function saslExchange(
  ctx: AuthenticationContext,
  mechanism: SaslMechanism,
): Promise<AuthenticationOutcome> {
  const address = `${ctx.host}:${ctx.port}`
  const step = ctx.reauthentication ? 're-authentication' : 'authentication'
  let session: SaslSession | null = null
  const fail: SaslFail = (code, reason, cause) => {
    const who = session?.identity()
    const message = `${address}: SASL ${mechanism.name} ${step}${who ? ` as ${who}` : ''} failed: ${reason}`
    return new KafkaError(code, message, cause === undefined ? {} : { cause })
  }
  session = mechanism.session(fail)
  const s = session

  let handshakeVersion: number
  let authenticateVersion: number
  try {
    handshakeVersion = ctx.versionFor(SaslHandshakeApi)
    authenticateVersion = ctx.versionFor(SaslAuthenticateApi)
  } catch (err) {
    throw fail(
      '_UNSUPPORTED_FEATURE',
      'the broker offers no SaslHandshake/SaslAuthenticate version this client speaks',
      err,
    )
  }
  // SaslHandshake v0 (before Kafka 1.0) is followed by raw SASL tokens instead of SaslAuthenticate
  // requests (KIP-152), a framing this client does not speak.
  if (handshakeVersion < 1) {
    throw fail('_UNSUPPORTED_FEATURE', 'the broker only knows SaslHandshake v0 (Kafka before 1.0, KIP-152)')
  }
  const opts = { maxResponseBytes: MAX_SASL_RESPONSE_BYTES }

  const hs = await ctx.request(
    SaslHandshakeApi,
    { mechanism: mechanism.name },
    { ...opts, version: handshakeVersion },
  )
  if (hs.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    const names = hs.mechanisms.slice(0, MAX_LISTED_MECHANISMS).map((m) => quoteBroker(m))
    const more = hs.mechanisms.length > MAX_LISTED_MECHANISMS ? `, … (${hs.mechanisms.length} in all)` : ''
    throw fail(
      'UNSUPPORTED_SASL_MECHANISM',
      `the broker does not enable ${mechanism.name}; it enables: ${names.length > 0 ? names.join(', ') + more : 'none'}`,
    )
  }
  if (hs.errorCode === ErrorCode.ILLEGAL_SASL_STATE) {
    throw fail(
      'ILLEGAL_SASL_STATE',
      'the broker refused SaslHandshake (ILLEGAL_SASL_STATE): is this a SASL listener of the broker?',
    )
  }
  if (hs.errorCode !== 0) throw fail(brokerCode(hs.errorCode), `SaslHandshake answered error ${hs.errorCode}`)

  const rejected = (res: SaslAuthenticateResponse): KafkaError => {
    const code = brokerCode(res.errorCode)
    const said = res.errorMessage
      ? quoteBroker(s.redact(res.errorMessage))
      : (errorInfo(code)?.description ?? code)
    const detail = s.failureDetail()
    const reason = `${said}${detail ? ` (${detail})` : ''}`
    const err = fail(code, reason)
    return code === 'UNKNOWN_SERVER_ERROR'
      ? new KafkaError(code, `${err.message} (error code ${res.errorCode})`, { kafkaCode: res.errorCode })
      : err
  }

  let out = await s.first()
  for (let round = 1; ; round++) {
    const res = await ctx.request(
      SaslAuthenticateApi,
      { authBytes: out },
      { ...opts, version: authenticateVersion },
    )
    if (res.errorCode !== 0) throw rejected(res)
    const next = await s.next(res.authBytes)
    if (next === null) return { sessionLifetimeMs: lifetimeMs(res.sessionLifetimeMs) }
    if (round >= MAX_ROUNDS)
      throw fail('_AUTHENTICATION', `the broker kept challenging after ${round} rounds`)
    out = next
  }
}
