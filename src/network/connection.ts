import type { Duplex } from 'node:stream'
import { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import {
  ApiVersionsApi,
  Reader,
  decodeResponseHeader,
  encodeRequestFrame,
  negotiateVersion,
  type ApiDefinition,
  type ApiVersionsResponse,
  type VersionRange,
} from '../protocol/index.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'
import { systemRandom } from '../util/random.js'
import type {
  AuthenticationContext,
  AuthenticationOutcome,
  AuthenticationStep,
  ConnectionOptions,
  RequestOptions,
} from './connection-options.js'
import { FrameReader } from './frame-reader.js'
import { HELLO, negotiateApiVersions } from './handshake.js'
import { Reauthentication } from './reauthentication.js'
import { tcpTransport } from './transport.js'
import { UnwrittenRequestError, frameBytes, maxResponseBytes, writeChunks } from './wire.js'

export type {
  AuthenticationContext,
  AuthenticationOutcome,
  AuthenticationStep,
  ConnectionOptions,
  RequestOptions,
} from './connection-options.js'
export { UnwrittenRequestError, maxResponseBytes } from './wire.js'

interface Pending {
  readonly correlationId: number
  readonly decode: (r: Reader) => unknown
  readonly resolve: (v: unknown) => void
  readonly reject: (e: KafkaError) => void
  readonly apiKey: number
  readonly apiName: string
  /** When the request was written, for `request.answered`; -1 when no one listened then. */
  readonly sentAt: number
  /** The largest answer accepted for this request: a larger frame closes the connection. */
  readonly maxResponseBytes: number
  /** Size of the request frame. */
  readonly requestBytes: number
  /** Sent by the authentication step (not counted in inFlight). */
  readonly authentication: boolean
  /** The whole request was handed to the socket. */
  written: boolean
  timer: TimerHandle | null
}

/**
 * One TCP connection to one broker. Requests are pipelined: several may be outstanding, each
 * identified by its correlation id; Kafka answers them in order on a connection, but we match by
 * id anyway so a protocol bug shows up as an error instead of a mixed-up response.
 *
 * A request that gets no answer within request.timeout.ms closes the whole connection, as the Java
 * client does: with in-order responses, the answers to everything behind it are stuck too, and a
 * fresh connection is the only way to know where we stand. Every outstanding request then fails
 * with a retriable error, so the sender can retry on the next connection.
 */
export class Connection {
  readonly host: string
  readonly port: number
  readonly nodeId: number
  private state: 'new' | 'connecting' | 'ready' | 'closed' = 'new'
  private socket: Duplex | null = null
  /** Each answer is bounded by the request it answers: the i-th frame of a read answers the i-th pending request. */
  private readonly frames = new FrameReader((i) => this.responseLimit(i))
  private readonly pending = new Map<number, Pending>()
  private nextCorrelationId = 1
  private versions = new Map<number, VersionRange>()
  private features: ReadonlyMap<string, number> = new Map()
  private readonly clock: Clock
  private readonly events: Instrumentation | undefined
  private closeError: KafkaError | null = null
  /** Fails the authentication step's wait when the connection closes under it (setup timeout, peer). */
  private abortSetup: ((err: KafkaError) => void) | null = null
  /** KIP-368: re-authenticates before the session expires, holding new requests meanwhile. */
  private readonly reauth: Reauthentication

  constructor(private readonly opts: ConnectionOptions) {
    this.host = opts.host
    this.port = opts.port
    this.nodeId = opts.nodeId
    this.clock = opts.clock ?? systemClock
    this.events = opts.instrumentation
    const step = opts.authenticate
    this.reauth = new Reauthentication({
      clock: this.clock,
      random: opts.random ?? systemRandom,
      address: this.address,
      timeoutMs: opts.connectTimeoutMs,
      run: () => (step ? this.authenticate(step, true) : Promise.resolve()),
      fail: (err) => this.close(err),
    })
  }

  get isReady(): boolean {
    return this.state === 'ready'
  }

  get isClosed(): boolean {
    return this.state === 'closed'
  }

  /**
   * Requests sent whose response has not arrived yet, and requests held back while the connection
   * re-authenticates (they are as good as sent for whoever limits the requests in flight). The
   * re-authentication's own requests do not count: nothing would wake a sender that waits for them.
   */
  get inFlight(): number {
    let n = this.reauth.heldCount
    for (const p of this.pending.values()) if (!p.authentication) n++
    return n
  }

  /** The broker's supported version range per API key, learnt from ApiVersions. */
  get apiVersions(): ReadonlyMap<number, VersionRange> {
    return this.versions
  }

  /**
   * The cluster's finalized feature levels as this broker reported them in the handshake (KIP-584),
   * e.g. `transaction.version`. Learnt again on every new connection, so a reconnect sees a change.
   */
  get finalizedFeatures(): ReadonlyMap<string, number> {
    return this.features
  }

  get address(): string {
    return `${this.host}:${this.port}`
  }

  /**
   * Opens the socket, performs the ApiVersions handshake (KIP-35, KIP-511) and then the
   * authentication step, if there is one. Bounded by socket.connection.setup.timeout.ms. Rejects with
   * a retriable `_TRANSPORT` error, or with the authentication step's error.
   */
  async connect(): Promise<void> {
    if (this.state !== 'new') throw new KafkaError('_STATE', `connection to ${this.address} already used`)
    this.state = 'connecting'
    const transport = this.opts.transport ?? tcpTransport
    const socket = transport({ host: this.opts.host, port: this.opts.port })
    this.socket = socket
    this.holdProcess(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err: Error) => this.close(this.socketError(err)))
    socket.on('close', () => {
      this.close(new KafkaError('_TRANSPORT', `${this.address}: connection closed by broker`))
    })

    const timer = this.clock.setTimeout(() => {
      this.close(
        new KafkaError(
          '_TRANSPORT',
          `${this.address}: connection setup timed out after ${this.opts.connectTimeoutMs} ms`,
        ),
      )
    }, this.opts.connectTimeoutMs)
    try {
      await new Promise<void>((resolve, reject) => {
        if (this.state === 'closed') return reject(this.closeError)
        const onConnect = (): void => {
          socket.off('error', onError)
          socket.off('close', onClosed)
          resolve()
        }
        const onError = (err: Error): void => {
          socket.off('connect', onConnect)
          socket.off('close', onClosed)
          reject(this.socketError(err))
        }
        // The setup timeout (or close()) destroys a socket still connecting without an error: only
        // 'close' follows, and connect() must not wait for a 'connect' that never comes.
        const onClosed = (): void => {
          socket.off('connect', onConnect)
          socket.off('error', onError)
          reject(this.closeError ?? new KafkaError('_TRANSPORT', `${this.address}: connection closed`))
        }
        // A Duplex from a custom transport may already be connected (no 'connect' event coming).
        if ((socket as { connecting?: boolean }).connecting === false) resolve()
        else {
          socket.once('connect', onConnect)
          socket.once('error', onError)
          socket.once('close', onClosed)
        }
      })
      await this.handshake()
      let outcome: AuthenticationOutcome | void = undefined
      if (this.opts.authenticate) outcome = await this.authenticate(this.opts.authenticate, false)
      if (this.state !== 'connecting') throw this.closeError ?? new KafkaError('_TRANSPORT', 'closed')
      this.state = 'ready'
      this.holdProcess(this.pending.size > 0)
      this.reauth.schedule(outcome)
    } catch (err) {
      const e = KafkaError.wrap(err, '_TRANSPORT', `${this.address}: ${(err as Error).message}`)
      this.close(e)
      throw e
    } finally {
      this.clock.clearTimeout(timer)
    }
  }

  /** The ApiVersions handshake (see negotiateApiVersions): learns the broker's version ranges. */
  private async handshake(): Promise<void> {
    const negotiated = await negotiateApiVersions(
      (version) => this.send(ApiVersionsApi, HELLO, { version }) as Promise<ApiVersionsResponse>,
      this.address,
      () => this.state === 'connecting',
    )
    this.versions = negotiated.versions
    this.features = negotiated.finalizedFeatures
  }

  /**
   * The authentication step, between the handshake and readiness, or again on the ready connection
   * (`reauthentication`, KIP-368). Its wait ends when the connection closes (the setup timeout, the
   * peer), even if the step itself would hang.
   */
  private async authenticate(
    step: AuthenticationStep,
    reauthentication: boolean,
  ): Promise<AuthenticationOutcome | void> {
    if (this.state !== (reauthentication ? 'ready' : 'connecting')) {
      throw this.closeError ?? new KafkaError('_TRANSPORT', 'closed')
    }
    let running = true
    const context: AuthenticationContext = {
      host: this.host,
      port: this.port,
      nodeId: this.nodeId,
      reauthentication,
      apiVersions: this.versions,
      versionFor: (api, maxVersion) => this.versionFor(api, maxVersion),
      request: <Req, Res>(
        api: ApiDefinition<Req, Res>,
        msg: Req,
        opts?: Omit<RequestOptions, 'noResponse'>,
      ) => {
        if (!running) {
          return Promise.reject(
            new KafkaError('_STATE', `${this.address}: the authentication step is over; use the connection`),
          )
        }
        return this.send(api, msg, { ...opts, noResponse: false }, true) as Promise<Res>
      },
    }
    const closed = new Promise<never>((_, reject) => {
      this.abortSetup = reject
    })
    try {
      return await Promise.race([closed, Promise.resolve().then(() => step(context))])
    } catch (err) {
      throw KafkaError.wrap(
        err,
        '_AUTHENTICATION',
        `${this.address}: authentication failed: ${(err as Error)?.message ?? String(err)}`,
      )
    } finally {
      running = false
      this.abortSetup = null
    }
  }

  /** Picks the version for `api`: the newest both sides support, optionally capped. */
  versionFor(api: ApiDefinition<unknown, unknown>, maxVersion?: number): number {
    return negotiateVersion(api, this.versions, maxVersion)
  }

  /**
   * Sends a request and resolves with the decoded response. Rejects with a KafkaError:
   * `_TRANSPORT` (connection lost; retriable), `_TIMED_OUT` (no response within the request
   * timeout; retriable; the connection is closed), `_UNSUPPORTED_FEATURE` (no common version).
   */
  request<Req, Res>(
    api: ApiDefinition<Req, Res>,
    msg: Req,
    opts: RequestOptions & { noResponse: true },
  ): Promise<null>
  request<Req, Res>(api: ApiDefinition<Req, Res>, msg: Req, opts?: RequestOptions): Promise<Res>
  request<Req, Res>(api: ApiDefinition<Req, Res>, msg: Req, opts: RequestOptions = {}): Promise<Res | null> {
    if (this.state !== 'ready') {
      return Promise.reject(
        this.closeError ?? new KafkaError('_TRANSPORT', `connection to ${this.address} is not ready`),
      )
    }
    if (this.reauth.holding) return this.reauth.hold(() => this.send(api, msg, opts))
    return this.send(api, msg, opts)
  }

  private send<Req, Res>(
    api: ApiDefinition<Req, Res>,
    msg: Req,
    opts: RequestOptions,
    authentication = false,
  ): Promise<Res | null> {
    // Also during the handshake: a request written to a closed socket would wait for its timeout.
    if (this.state === 'closed') {
      return Promise.reject(
        this.closeError ?? new KafkaError('_TRANSPORT', `connection to ${this.address} is closed`),
      )
    }
    let version: number
    try {
      version = opts.version ?? this.versionFor(api as ApiDefinition<unknown, unknown>, opts.maxVersion)
    } catch (err) {
      return Promise.reject(err)
    }
    const correlationId = this.nextCorrelationId
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff || 1
    let frame: Buffer[]
    try {
      frame = encodeRequestFrame(api, version, correlationId, this.opts.clientId, msg)
    } catch (err) {
      return Promise.reject(KafkaError.wrap(err, '_INVALID_ARG', (err as Error).message))
    }
    const socket = this.socket!
    const requestBytes = frameBytes(frame)
    const events = this.events
    // Before the write: a transport that answers synchronously must not reorder sent and answered.
    if (events?.has('request.sent')) {
      events.emit('request.sent', {
        nodeId: this.nodeId,
        apiKey: api.apiKey,
        apiName: api.name,
        apiVersion: version,
        bytes: requestBytes,
        correlationId,
      })
    }

    if (opts.noResponse) {
      return new Promise<null>((resolve, reject) => {
        writeChunks(socket, frame, (err) => {
          if (!err) {
            opts.onWritten?.()
            return resolve(null)
          }
          const e = this.socketError(err)
          if (events?.has('request.failed')) {
            events.emit('request.failed', {
              nodeId: this.nodeId,
              apiKey: api.apiKey,
              apiName: api.name,
              correlationId,
              error: e,
            })
          }
          reject(e)
        })
      })
    }

    return new Promise<Res>((resolve, reject) => {
      const p: Pending = {
        correlationId,
        decode: (r) => {
          decodeResponseHeader(r, api as ApiDefinition<unknown, unknown>, version)
          return api.decodeResponse(r, version)
        },
        resolve: resolve as (v: unknown) => void,
        reject,
        apiKey: api.apiKey,
        apiName: api.name,
        sentAt: events !== undefined && events.has('request.answered') ? this.clock.now() : -1,
        maxResponseBytes: opts.maxResponseBytes ?? maxResponseBytes(api.apiKey, requestBytes),
        requestBytes,
        authentication,
        written: false,
        timer: null,
      }
      const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs
      p.timer = this.clock.setTimeout(() => {
        p.timer = null
        // Timers run before Node reads the sockets in an event-loop turn: after a long stretch of
        // synchronous work (slow delivery callbacks) the answer may be waiting unread. Look again
        // after this turn's reads (setImmediate runs after the poll phase) before giving up on it.
        setImmediate(() => {
          if (this.pending.get(correlationId) === p) this.timeOut(p, timeoutMs)
        })
      }, timeoutMs)
      this.pending.set(correlationId, p)
      if (this.pending.size === 1) this.holdProcess(true)
      writeChunks(socket, frame, (err) => {
        if (err) this.close(this.socketError(err))
        else {
          p.written = true
          opts.onWritten?.()
        }
      })
    })
  }

  /**
   * What a socket error means: the transport's reading of it (a TLS transport names certificate and
   * handshake failures `_SSL`, and connect() rejects with that), else a lost connection. A failed TLS
   * handshake may reach a pending write's callback before the socket's 'error', so every socket
   * error comes through here. The TLS handshake itself is bounded by the setup timeout like the rest.
   */
  private socketError(err: Error): KafkaError {
    return (
      this.opts.transport?.describeError?.(err, {
        host: this.host,
        port: this.port,
        established: this.state === 'ready',
      }) ?? new KafkaError('_TRANSPORT', `${this.address}: ${err.message}`, { cause: err })
    )
  }

  /** No answer within the request timeout: that request fails and the connection is closed. */
  private timeOut(p: Pending, timeoutMs: number): void {
    this.pending.delete(p.correlationId)
    this.fail(
      p,
      new KafkaError(
        '_TIMED_OUT',
        `${p.apiName} request to ${this.address} timed out after ${timeoutMs} ms`,
        {
          retriable: true,
        },
      ),
    )
    this.close(
      new KafkaError(
        '_TRANSPORT',
        `${this.address}: connection closed after a ${p.apiName} request timed out`,
      ),
    )
  }

  /** The size bound of the `i`-th answer to come (0 when no request is waiting for one). */
  private responseLimit(i: number): number {
    for (const p of this.pending.values()) if (i-- === 0) return p.maxResponseBytes
    return 0
  }

  /**
   * The byte stream cannot be trusted any more (an impossible frame, an answer to no request, an
   * answer we cannot decode): close the connection. Every request on it fails with a retriable
   * error, so its records are retried on a new connection within delivery.timeout.ms, exactly as
   * after a lost connection; the broker may well have written them (idempotence makes the retry
   * safe).
   */
  private corrupt(reason: string): void {
    this.close(
      new KafkaError('_BAD_MSG', `${this.address}: ${reason}; connection closed, requests retried`, {
        retriable: true,
      }),
    )
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[]
    try {
      frames = this.frames.push(chunk)
    } catch (err) {
      const oldest = this.pending.values().next().value
      this.corrupt(
        `${(err as Error).message}${oldest ? ` for a ${oldest.apiName} response` : ' with no request outstanding'}`,
      )
      return
    }
    for (const frame of frames) {
      if (this.state === 'closed') return
      if (frame.length < 4) {
        this.corrupt(`response frame of ${frame.length} bytes`)
        return
      }
      const correlationId = frame.readInt32BE(0)
      const p = this.pending.get(correlationId)
      if (!p) {
        // A response to a request that already timed out cannot arrive (the timeout closes the
        // connection), so an unknown id means the stream is out of step: start over.
        this.corrupt(`response with unknown correlation id ${correlationId}`)
        return
      }
      this.pending.delete(correlationId)
      if (this.pending.size === 0 && this.state === 'ready') this.holdProcess(false)
      if (p.timer) this.clock.clearTimeout(p.timer)
      let value: unknown
      try {
        value = p.decode(new Reader(frame))
      } catch (err) {
        const reason = `cannot decode ${p.apiName} response: ${(err as Error)?.message ?? String(err)}`
        if (this.state === 'connecting') {
          // The handshake decides: a broker refusing our ApiVersions version may answer in v0 layout.
          this.fail(
            p,
            new KafkaError('_BAD_MSG', `${this.address}: ${reason}`, { retriable: true, cause: err }),
          )
          continue
        }
        this.pending.set(p.correlationId, p) // failed by corrupt() with the others
        this.corrupt(reason)
        return
      }
      const events = this.events
      if (p.sentAt >= 0 && events?.has('request.answered')) {
        // Produce, Metadata and most answers carry the broker's quota delay; read it wherever it is.
        const throttle = (value as { throttleTimeMs?: unknown } | null)?.throttleTimeMs
        events.emit('request.answered', {
          nodeId: this.nodeId,
          apiKey: p.apiKey,
          apiName: p.apiName,
          correlationId,
          bytes: frame.length + 4,
          rttMs: this.clock.now() - p.sentAt,
          ...(typeof throttle === 'number' ? { throttleTimeMs: throttle } : {}),
        })
      }
      p.resolve(value)
    }
  }

  /** A request sent will get no answer: rejects it with `err` (and says so to listeners). */
  private fail(p: Pending, err: KafkaError): void {
    const events = this.events
    if (events?.has('request.failed')) {
      events.emit('request.failed', {
        nodeId: this.nodeId,
        apiKey: p.apiKey,
        apiName: p.apiName,
        correlationId: p.correlationId,
        error: err,
      })
    }
    p.reject(err)
  }

  /**
   * A socket keeps Node running only while it has work: connecting, or requests awaiting an
   * answer. An idle producer or admin client therefore never keeps a finished program alive.
   */
  private holdProcess(on: boolean): void {
    const s = this.socket as (Duplex & { ref?: () => void; unref?: () => void }) | null
    if (on) s?.ref?.()
    else s?.unref?.()
  }

  /** Closes the connection; every outstanding request fails with `err` (or a `_TRANSPORT` error). */
  close(err: KafkaError | null = null): void {
    if (this.state === 'closed') return
    const wasStarted = this.state !== 'new'
    this.state = 'closed'
    this.closeError = err ?? new KafkaError('_TRANSPORT', `connection to ${this.address} closed`)
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) {
      if (p.timer) this.clock.clearTimeout(p.timer)
      this.fail(
        p,
        p.written || this.closeError.code !== '_TRANSPORT'
          ? this.closeError
          : new UnwrittenRequestError(
              `${this.closeError.message} (before the ${p.requestBytes}-byte ${p.apiName} request was fully written)`,
              p.requestBytes,
              this.closeError,
            ),
      )
    }
    // After the pending ones: held requests came later, and fail after them in that order.
    this.reauth.stop(this.closeError)
    this.socket?.destroy()
    if (this.abortSetup) {
      const abort = this.abortSetup
      this.abortSetup = null
      abort(this.closeError)
    }
    if (wasStarted) this.opts.onClose?.(this, err)
  }
}
