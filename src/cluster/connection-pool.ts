import { AUTHENTICATION_ERRORS, KafkaError } from '../errors/index.js'
import { Connection, type AuthenticationStep, type ConnectionOptions } from '../network/connection.js'
import type { Instrumentation } from '../observability/events.js'
import type { TransportFactory } from '../network/transport.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'

export interface BrokerAddress {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

export interface ConnectionPoolOptions {
  clientId: string
  requestTimeoutMs: number
  connectTimeoutMs: number
  reconnectBackoffMs: number
  reconnectBackoffMaxMs: number
  clock: Clock
  random: RandomSource
  transport?: TransportFactory
  /** Lets the owner react to a lost connection (refresh metadata, retry in-flight batches). */
  onDisconnect?: (nodeId: number, err: KafkaError | null) => void
  /**
   * Receives the `connection.*` events of the pool and, passed on to each connection, the
   * `request.*` events. Undefined: nothing is emitted or measured.
   */
  instrumentation?: Instrumentation
  /**
   * The authentication step of every connection (see {@link ConnectionOptions.authenticate}); its
   * outcome's session lifetime makes the connection re-authenticate in time (KIP-368).
   */
  authenticate?: AuthenticationStep
  /**
   * A connection attempt failed with an error the next attempt will meet again (AUTHENTICATION_ERRORS:
   * SASL refused, TLS refused): the owner fails what waits for this broker instead of letting it wait
   * for its delivery timeout. `first`: the first such failure since the broker last accepted a
   * connection, so that a client-level report (error_cb) is made once per broker, not per attempt.
   */
  onAuthenticationFailure?: (broker: BrokerAddress, err: KafkaError, first: boolean) => void
}

/** What a connection factory must provide; tests inject their own. */
export type ConnectionFactory = (opts: ConnectionOptions) => Connection

interface Slot {
  conn: Connection | null
  connecting: Promise<Connection> | null
  failures: number
  /** No new attempt before this time (reconnect.backoff.ms, doubling to reconnect.backoff.max.ms). */
  retryAt: number
  lastError: KafkaError | null
  /** An authentication failure was reported since the last connection that worked. */
  authFailureReported: boolean
}

/**
 * One connection per broker, keyed by node id (bootstrap addresses get negative ids until the
 * first Metadata response names the real brokers). Connects lazily, applies reconnect backoff per
 * broker so a dead broker is not hammered, and never holds more than one attempt per broker at a
 * time.
 */
export class ConnectionPool {
  private readonly slots = new Map<number, Slot>()
  private closed = false

  constructor(
    private readonly opts: ConnectionPoolOptions,
    private readonly factory: ConnectionFactory = (o) => new Connection(o),
  ) {}

  /** The ready connection to `nodeId`, if there is one right now. */
  ready(nodeId: number): Connection | null {
    const c = this.slots.get(nodeId)?.conn
    return c && c.isReady ? c : null
  }

  /** Whether a connection attempt to `nodeId` would be refused by the backoff right now. */
  inBackoff(nodeId: number): boolean {
    const s = this.slots.get(nodeId)
    return !!s && !s.conn && !s.connecting && s.retryAt > this.opts.clock.now()
  }

  /** When the backoff for `nodeId` ends (0 if none). */
  retryAt(nodeId: number): number {
    return this.slots.get(nodeId)?.retryAt ?? 0
  }

  isConnecting(nodeId: number): boolean {
    return !!this.slots.get(nodeId)?.connecting
  }

  lastError(nodeId: number): KafkaError | null {
    return this.slots.get(nodeId)?.lastError ?? null
  }

  /**
   * Returns the connection to `broker`, connecting if needed. Rejects with a retriable
   * `_TRANSPORT` error when the broker is unreachable or still in its reconnect backoff.
   */
  get(broker: BrokerAddress): Promise<Connection> {
    if (this.closed) return Promise.reject(new KafkaError('_DESTROY', 'connection pool closed'))
    let slot = this.slots.get(broker.nodeId)
    if (!slot) {
      slot = {
        conn: null,
        connecting: null,
        failures: 0,
        retryAt: 0,
        lastError: null,
        authFailureReported: false,
      }
      this.slots.set(broker.nodeId, slot)
    }
    if (slot.conn && slot.conn.isReady && slot.conn.host === broker.host && slot.conn.port === broker.port) {
      return Promise.resolve(slot.conn)
    }
    if (slot.connecting) return slot.connecting
    if (slot.conn && !slot.conn.isClosed) {
      // The broker moved to a new address (metadata changed): drop the old socket. Detached from
      // the slot first, so that closing it on purpose does not start a reconnect backoff.
      const old = slot.conn
      slot.conn = null
      old.close()
    }
    slot.conn = null
    const now = this.opts.clock.now()
    if (slot.retryAt > now) {
      return Promise.reject(
        new KafkaError(
          '_TRANSPORT',
          `broker ${broker.nodeId} (${broker.host}:${broker.port}) in reconnect backoff for ${slot.retryAt - now} ms` +
            (slot.lastError ? ` after: ${slot.lastError.message}` : ''),
          { retriable: true, ...(slot.lastError ? { cause: slot.lastError } : {}) },
        ),
      )
    }
    const s = slot
    const events = this.opts.instrumentation
    /** Whether the connection became ready: only then is its closing a `connection.closed`. */
    let opened = false
    const conn = this.factory({
      host: broker.host,
      port: broker.port,
      nodeId: broker.nodeId,
      clientId: this.opts.clientId,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      clock: this.opts.clock,
      random: this.opts.random,
      ...(this.opts.transport ? { transport: this.opts.transport } : {}),
      ...(events ? { instrumentation: events } : {}),
      ...(this.opts.authenticate ? { authenticate: this.opts.authenticate } : {}),
      onClose: (c, err) => {
        if (opened && events?.has('connection.closed')) {
          events.emit('connection.closed', { nodeId: c.nodeId, host: c.host, port: c.port, error: err })
        }
        this.onClose(broker.nodeId, c, err)
      },
    })
    s.connecting = conn.connect().then(
      () => {
        s.connecting = null
        opened = true
        if (events?.has('connection.opened')) {
          events.emit('connection.opened', {
            nodeId: conn.nodeId,
            host: conn.host,
            port: conn.port,
            setupMs: this.opts.clock.now() - now,
          })
        }
        if (this.closed) {
          conn.close()
          throw new KafkaError('_DESTROY', 'connection pool closed')
        }
        s.conn = conn
        s.failures = 0
        s.retryAt = 0
        s.lastError = null
        s.authFailureReported = false
        return conn
      },
      (err: unknown) => {
        s.connecting = null
        s.failures++
        s.lastError = KafkaError.wrap(err, '_TRANSPORT')
        if (events?.has('connection.failed')) {
          events.emit('connection.failed', {
            nodeId: conn.nodeId,
            host: conn.host,
            port: conn.port,
            error: s.lastError,
          })
        }
        s.retryAt =
          this.opts.clock.now() +
          backoffMs(
            s.failures,
            this.opts.reconnectBackoffMs,
            this.opts.reconnectBackoffMaxMs,
            this.opts.random,
          )
        if (AUTHENTICATION_ERRORS.has(s.lastError.code) && !this.closed) {
          const first = !s.authFailureReported
          s.authFailureReported = true
          this.opts.onAuthenticationFailure?.(broker, s.lastError, first)
        }
        throw s.lastError
      },
    )
    return s.connecting
  }

  private onClose(nodeId: number, conn: Connection, err: KafkaError | null): void {
    const slot = this.slots.get(nodeId)
    if (slot && slot.conn === conn) {
      slot.conn = null
      // A connection that worked and then dropped may be retried after the base backoff.
      slot.failures = Math.max(slot.failures, 1)
      slot.lastError = err
      slot.retryAt =
        this.opts.clock.now() +
        backoffMs(1, this.opts.reconnectBackoffMs, this.opts.reconnectBackoffMaxMs, this.opts.random)
    }
    if (!this.closed) this.opts.onDisconnect?.(nodeId, err)
  }

  /** Number of requests outstanding on `nodeId`'s connection (0 when not connected). */
  inFlight(nodeId: number): number {
    return this.slots.get(nodeId)?.conn?.inFlight ?? 0
  }

  close(): void {
    this.closed = true
    for (const s of this.slots.values()) s.conn?.close(new KafkaError('_DESTROY', 'producer closed'))
    this.slots.clear()
  }
}
