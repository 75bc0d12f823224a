// Real listeners on 127.0.0.1 for TLS tests: a TLS one in front of the in-process FakeCluster (each
// accepted TLS connection is piped to a fresh fake-broker connection, so the client's Kafka requests
// get real answers through a real handshake), and plain TCP ones that misbehave the ways a wrong
// port does (close at once, answer with non-TLS bytes).
import net from 'node:net'
import tls from 'node:tls'
import type { FakeCluster } from './fake-broker.js'

export interface TestListener {
  readonly port: number
  /** Server names (SNI) the clients sent, in order; null when a client sent none. */
  readonly serverNames: (string | null)[]
  /** Errors the TLS server saw from clients (a client without the certificate it requires...). */
  readonly clientErrors: Error[]
  close(): Promise<void>
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return (server.address() as net.AddressInfo).port
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
}

/** A TLS listener whose connections speak to `cluster` as broker `broker` (default broker1:9092). */
export async function listenTls(
  cluster: FakeCluster,
  options: tls.TlsOptions,
  broker: { host: string; port: number } = { host: 'broker1', port: 9092 },
): Promise<TestListener> {
  const serverNames: (string | null)[] = []
  const clientErrors: Error[] = []
  const sockets = new Set<net.Socket>()
  const server = tls.createServer(options, (socket) => {
    serverNames.push((socket as tls.TLSSocket & { servername?: string | false }).servername || null)
    const fake = cluster.transport(broker)
    socket.on('error', () => fake.destroy())
    socket.on('close', () => fake.destroy())
    fake.on('close', () => socket.destroy())
    socket.pipe(fake)
    fake.pipe(socket)
  })
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('tlsClientError', (err) => clientErrors.push(err))
  const port = await listen(server)
  return { port, serverNames, clientErrors, close: closer(server, sockets) }
}

/**
 * A plain TCP listener: 'close' ends each connection on its first bytes (a Kafka PLAINTEXT listener
 * reading a TLS hello as an impossible request size), 'garbage' answers them with non-TLS bytes,
 * 'silent' reads and never answers, 'tls-alert' answers like a TLS listener refusing a plaintext
 * client (a fatal TLS alert record).
 */
export async function listenPlain(mode: 'close' | 'garbage' | 'silent' | 'tls-alert'): Promise<TestListener> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.once('data', () => {
      if (mode === 'close') socket.destroy()
      else if (mode === 'garbage') socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))
      // Alert record: type 21, TLS 1.2, length 2, fatal (2), unexpected_message (10).
      else if (mode === 'tls-alert') socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]))
    })
  })
  const port = await listen(server)
  return { port, serverNames: [], clientErrors: [], close: closer(server, sockets) }
}
