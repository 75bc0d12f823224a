import type { SaslFail, SaslMechanism, SaslSession } from './mechanism.js'
import { quoteName, redact } from './text.js'

// SASL PLAIN (RFC 4616, KIP-43): one message, `[authzid] NUL authcid NUL passwd`, sent in the clear
// (so only over TLS outside a trusted network). Kafka's PlainSaslServer answers with empty bytes.

/** The PLAIN message: no authorization id (Kafka then authorizes as the user), user, password. */
export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8')
}

class PlainSession implements SaslSession {
  readonly #username: string
  readonly #password: string
  readonly #fail: SaslFail
  #sent = false

  constructor(username: string, password: string, fail: SaslFail) {
    this.#username = username
    this.#password = password
    this.#fail = fail
  }

  identity(): string {
    return `user ${quoteName(this.#username)}`
  }

  first(): Promise<Buffer> {
    this.#sent = true
    return Promise.resolve(plainMessage(this.#username, this.#password))
  }

  next(challenge: Buffer): Promise<Buffer | null> {
    // RFC 4616 has a single message: a server that sends data back, or asks twice, is not PLAIN.
    if (!this.#sent) return Promise.reject(this.#fail('_AUTHENTICATION', 'server spoke before the client'))
    if (challenge.length > 0) {
      return Promise.reject(
        this.#fail('_AUTHENTICATION', `unexpected ${challenge.length}-byte server message`),
      )
    }
    return Promise.resolve(null)
  }

  redact(text: string): string {
    return redact(text, [this.#password])
  }

  failureDetail(): null {
    return null
  }
}

/** PLAIN with the given credentials (validated by validateSaslSettings). */
export class PlainMechanism implements SaslMechanism {
  readonly name = 'PLAIN' as const
  readonly #username: string
  readonly #password: string

  constructor(username: string, password: string) {
    this.#username = username
    this.#password = password
  }

  session(fail: SaslFail): SaslSession {
    return new PlainSession(this.#username, this.#password, fail)
  }
}
