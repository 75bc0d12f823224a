import net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import type { KafkaError } from '../errors/index.js'
import { classifyTlsError } from './tls/errors.js'

/**
 * How a connection reaches a broker. The default opens a TCP socket; `tlsTransport` a TLS one; tests
 * inject their own (a fault proxy, an in-process fake broker). The connection logic is the same for
 * all: it writes on the socket's 'connect', which a TLS socket emits once TCP is up; Node holds
 * those writes until the TLS handshake is done, and a failed handshake arrives as the socket's
 * 'error' (or as the error of a pending write).
 */
export interface TransportFactory {
  (opts: { host: string; port: number }): Duplex
  /**
   * Says what a socket error means, as the error the connection fails with (and connect() rejects
   * with). Undefined, or a result of undefined: a lost connection, retriable `_TRANSPORT`. The TLS
   * transport names TLS failures here (`_SSL`), which the connection cannot tell from the outside.
   */
  readonly describeError?: (err: Error, target: SocketTarget) => KafkaError | undefined
}

/** The connection a socket error happened on, for `TransportFactory.describeError`. */
export interface SocketTarget {
  readonly host: string
  readonly port: number
  /**
   * The connection was ready (its handshakes done) when the error came: a TLS error then is a broken
   * stream rather than a configuration problem, and must stay retriable for the requests in flight.
   */
  readonly established?: boolean
}

/** What every broker socket gets, TCP or TLS. */
function tune(socket: net.Socket): void {
  // Produce requests are latency-sensitive and already batched by the accumulator: Nagle's
  // algorithm would only add delay (the Java client sets TCP_NODELAY too).
  socket.setNoDelay(true)
  socket.setKeepAlive(true, 60_000)
  // An idle producer must not keep the process alive: the producer holds a referenced handle
  // of its own while records are undelivered, so sockets never need to.
  socket.unref()
}

export const tcpTransport: TransportFactory = ({ host, port }) => {
  const socket = net.connect({ host, port })
  tune(socket)
  return socket
}

/**
 * Opens TLS connections with `options` (from `loadTlsMaterial`, or any `tls.ConnectionOptions`).
 * Their secure context (CAs, certificate, key, ciphers) is built once, here, and shared by every
 * connection: the PEM text and PKCS#12 bytes are parsed once rather than per connection, and a
 * mistake in them throws now. Each connection sends SNI with the broker's host name, except for IP
 * addresses (RFC 6066 allows only host names there), and is checked against that host name unless
 * `checkServerIdentity` says otherwise. Socket errors are named by `classifyTlsError`.
 */
export function tlsTransport(options: tls.ConnectionOptions): TransportFactory {
  const secureContext = options.secureContext ?? tls.createSecureContext(options)
  const factory = ({ host, port }: { host: string; port: number }): Duplex => {
    const socket = tls.connect({
      ...options,
      secureContext,
      host,
      port,
      servername: options.servername ?? (net.isIP(host) === 0 ? host : undefined),
    })
    tune(socket)
    return socket
  }
  return Object.assign(factory, { describeError: classifyTlsError })
}
