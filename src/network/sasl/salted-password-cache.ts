import { pbkdf2 } from 'node:crypto'

// SCRAM's SaltedPassword := Hi(password, salt, i), PBKDF2 with HMAC (RFC 5802 §2.2, RFC 7677), is
// deliberately expensive: thousands of HMACs. It depends only on the password, the salt and the
// iteration count, which a broker keeps until the credential changes, so it is computed once per
// (salt, iterations) and reused by every reconnect and re-authentication.

/** A handful of entries: one per credential the brokers use; more only if the credential changes. */
const MAX_ENTRIES = 4

export type ScramHash = 'sha256' | 'sha512'

/**
 * The salted passwords of one password (one authenticator). Entries are promises, so connections that
 * authenticate at the same time share one computation. The values are as good as the password to an
 * attacker; they live in a private field that no util.inspect or JSON.stringify shows.
 */
export class SaltedPasswordCache {
  readonly #password: string
  readonly #entries = new Map<string, Promise<Buffer>>()

  constructor(password: string) {
    this.#password = password
  }

  /** Hi(password, salt, iterations) for `hash`, from the cache or computed on libuv's thread pool. */
  get(hash: ScramHash, salt: Buffer, iterations: number): Promise<Buffer> {
    const key = `${hash}:${iterations}:${salt.toString('base64')}`
    const hit = this.#entries.get(key)
    if (hit) {
      // Most recently used last: the oldest entry is the one dropped.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit
    }
    const keyLength = hash === 'sha256' ? 32 : 64
    // The asynchronous pbkdf2 runs on the thread pool: a high iteration count does not block the
    // event loop (and the producer's sending) while it computes.
    const computed = new Promise<Buffer>((resolve, reject) => {
      pbkdf2(this.#password, salt, iterations, keyLength, hash, (err, key) =>
        err ? reject(err) : resolve(key),
      )
    })
    computed.catch(() => {
      if (this.#entries.get(key) === computed) this.#entries.delete(key)
    })
    this.#entries.set(key, computed)
    while (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!)
    return computed
  }

  /** Number of cached entries (tests). */
  get size(): number {
    return this.#entries.size
  }
}
