import type { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import type { ApiDefinition, VersionRange } from '../protocol/index.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { Connection } from './connection.js'
import type { TransportFactory } from './transport.js'

// What a Connection is built with and what a request may ask for.

export interface ConnectionOptions {
  host: string
  port: number
  /** Broker node id, or a negative number for a bootstrap address whose id is not known yet. */
  nodeId: number
  clientId: string
  requestTimeoutMs: number
  /**
   * Bound on TCP connect, the ApiVersions handshake and the authentication step together
   * (socket.connection.setup.timeout.ms).
   */
  connectTimeoutMs: number
  /** How the socket is opened: TCP by default; TLS plugs in here, as a factory returning a TLS socket. */
  transport?: TransportFactory
  clock?: Clock
  /** Called once when the connection closes for any reason after connect() was called. */
  onClose?: (conn: Connection, err: KafkaError | null) => void
  /**
   * Receives the `request.*` events of this connection. Undefined: nothing is emitted, and nothing
   * is measured or built for an event.
   */
  instrumentation?: Instrumentation
  /**
   * The authentication step (SASL fills it): called once per connection after the ApiVersions
   * handshake and before the connection is ready, with the means to send requests on it. connect()
   * waits for it; its time counts against `connectTimeoutMs`. A rejection closes the connection and
   * fails connect() with that error: a KafkaError as it is, anything else as `_AUTHENTICATION`.
   * When it resolves with a `sessionLifetimeMs` > 0 (KIP-368), the connection runs it again before
   * the session ends, on the same socket (see reauthentication.ts).
   */
  authenticate?: AuthenticationStep
  /** Picks the point of each re-authentication within the session (default Math.random). */
  random?: RandomSource
}

/**
 * What the authentication step reports about the session it established. Kafka's SaslAuthenticate
 * v1+ answer carries the broker's `session_lifetime_ms` (KIP-368): the broker closes a connection
 * whose session has expired, so the client must authenticate again on it before then.
 */
export interface AuthenticationOutcome {
  /** How long the session lasts from now, in ms; 0 or absent: it does not expire. */
  readonly sessionLifetimeMs?: number
}

/**
 * The authentication step: `void` is as good as an outcome without a session lifetime, so a step that
 * knows nothing of KIP-368 still fits.
 */
export type AuthenticationStep = (conn: AuthenticationContext) => Promise<AuthenticationOutcome | void>

/**
 * What the authentication step gets: the connection being set up, before anything else may use it
 * (or, re-authenticating, a ready connection that holds back new requests meanwhile).
 * Its requests are the connection's own (request.timeout.ms each, correlation ids, `request.*`
 * events); once the step has settled, `request` refuses with `_STATE`. SaslHandshake and
 * SaslAuthenticate are among the generated codecs (protocol/messages/).
 */
export interface AuthenticationContext {
  readonly host: string
  readonly port: number
  /** The broker's node id; negative for a bootstrap address. */
  readonly nodeId: number
  /**
   * False when the connection is being set up; true when a ready connection authenticates again
   * (KIP-368): requests sent before may still be answered first, and others wait until it is done.
   */
  readonly reauthentication: boolean
  /** The broker's version range per API key, from the ApiVersions handshake just done. */
  readonly apiVersions: ReadonlyMap<number, VersionRange>
  /** The version a request of `api` would use: the newest both sides support, optionally capped. */
  versionFor(api: ApiDefinition<unknown, unknown>, maxVersion?: number): number
  /** Sends a request on the connection and resolves with its decoded answer (as Connection.request). */
  request<Req, Res>(
    api: ApiDefinition<Req, Res>,
    msg: Req,
    opts?: Omit<RequestOptions, 'noResponse'>,
  ): Promise<Res>
}

export interface RequestOptions {
  /** Upper bound for the version negotiated with the broker (e.g. Produce capped below v13). */
  maxVersion?: number
  /** Exact version to use instead of negotiating (ApiVersions fallback, tests). */
  version?: number
  /**
   * The broker sends no response (Produce with acks=0): the promise resolves with `null` once the
   * bytes are handed to the socket.
   */
  noResponse?: boolean
  /** Overrides request.timeout.ms for this request. */
  timeoutMs?: number
  /** Overrides the bound on the answer's size (see {@link maxResponseBytes}). */
  maxResponseBytes?: number
  /**
   * Called once the whole request was handed to the kernel (the socket's write callback), before
   * or after its answer: until then the socket may still read the request's buffers.
   */
  onWritten?: () => void
}
