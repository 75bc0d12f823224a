import net from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * How a connection reaches a broker. The default opens a TCP socket; tests inject their own
 * (a fault proxy, an in-process fake broker), and TLS will plug in here later without touching
 * the connection logic: a factory calling `tls.connect` instead of `net.connect` (the connection
 * writes on the socket's 'connect'; Node holds those writes until the TLS handshake is done).
 */
export type TransportFactory = (opts: { host: string; port: number }) => Duplex

export const tcpTransport: TransportFactory = ({ host, port }) => {
  const socket = net.connect({ host, port })
  // Produce requests are latency-sensitive and already batched by the accumulator: Nagle's
  // algorithm would only add delay (the Java client sets TCP_NODELAY too).
  socket.setNoDelay(true)
  socket.setKeepAlive(true, 60_000)
  // An idle producer must not keep the process alive: the producer holds a referenced handle
  // of its own while records are undelivered, so sockets never need to.
  socket.unref()
  return socket
}
