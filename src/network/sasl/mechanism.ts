import type { KafkaError, KafkaErrorCode } from '../../errors/index.js'
import type { SaslMechanismName } from './settings.js'

// What the exchange (exchange.ts) needs from a mechanism: the client's messages, one per
// SaslAuthenticate round, and how to keep its secrets out of messages.

/**
 * Builds the error for a failed exchange: `reason` is appended to a prefix naming the broker, the
 * mechanism and the user, e.g. `broker1:9092: SASL SCRAM-SHA-256 authentication as user "alice"
 * failed: server signature mismatch`.
 */
export type SaslFail = (code: KafkaErrorCode, reason: string, cause?: unknown) => KafkaError

/** One authentication exchange on one connection. */
export interface SaslSession {
  /** Who we authenticate as, for messages (`user "alice"`), or null while it is not known. */
  identity(): string | null
  /** The client's first message (the initial response of RFC 4422). */
  first(): Promise<Buffer>
  /**
   * The next client message for the server's `challenge` (the auth bytes of a successful
   * SaslAuthenticate answer), or null when the exchange is complete. Throws a KafkaError when the
   * challenge is malformed or the server fails to prove itself.
   */
  next(challenge: Buffer): Promise<Buffer | null>
  /** `text` without this session's secrets (password, token). */
  redact(text: string): string
  /**
   * What the server said inside the exchange when it turned us down (OAUTHBEARER's error document,
   * RFC 7628 §3.2.2), to go with the broker's error answer that follows; null if nothing.
   */
  failureDetail(): string | null
}

/** A configured mechanism: holds the credentials (privately) and starts sessions. */
export interface SaslMechanism {
  readonly name: SaslMechanismName
  session(fail: SaslFail): SaslSession
}
