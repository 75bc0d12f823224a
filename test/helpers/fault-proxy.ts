// A TCP fault proxy for tests, loopback only: one listener per broker, forwarding bytes both ways,
// with switches to cut every connection, delay traffic, black-hole it (connections stay open, no
// byte gets through: the producer sees request timeouts), or refuse new connections.
// The producer reaches it through its `transport` seam, which maps each broker address (from
// bootstrap.servers or metadata) to the proxy's listener for that broker.
import net from 'node:net'
import type { TransportFactory } from '../../src/network/transport.js'

interface Pair {
  client: net.Socket
  upstream: net.Socket
}

export class FaultProxy {
  private readonly listeners = new Map<string, { server: net.Server; port: number }>()
  private readonly pairs = new Set<Pair>()
  private delayMs = 0
  private blackholed = false
  private refusing = false
  private gate: Promise<void> = Promise.resolve()
  private openGate: () => void = () => {}
  /** Connections accepted so far (to assert that the producer reconnected). */
  accepted = 0

  private constructor() {}

  /** Starts one listener per upstream broker address ("127.0.0.1:port"). */
  static async start(upstreams: readonly string[]): Promise<FaultProxy> {
    const proxy = new FaultProxy()
    for (const u of upstreams) await proxy.listen(u)
    return proxy
  }

  private async listen(upstream: string): Promise<void> {
    const [host, portText] = splitHostPort(upstream)
    const server = net.createServer((client) => this.onClient(client, host, Number(portText)))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const port = (server.address() as net.AddressInfo).port
    this.listeners.set(upstream, { server, port })
  }

  /** The transport to hand to `new Producer(config, { transport })`. */
  readonly transport: TransportFactory = ({ host, port }) => {
    const l = this.listeners.get(`${host}:${port}`)
    const socket = net.connect({ host: '127.0.0.1', port: l ? l.port : port })
    socket.setNoDelay(true)
    socket.unref()
    return socket
  }

  private onClient(client: net.Socket, host: string, port: number): void {
    this.accepted++
    if (this.refusing) {
      client.destroy()
      return
    }
    const upstream = net.connect({ host, port })
    const pair: Pair = { client, upstream }
    this.pairs.add(pair)
    const close = (): void => {
      client.destroy()
      upstream.destroy()
      this.pairs.delete(pair)
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    this.forward(client, upstream)
    this.forward(upstream, client)
  }

  /**
   * Copies bytes from `from` to `to` in order. A black hole holds bytes back rather than dropping
   * them, as TCP would keep retransmitting through a partition: when it lifts, the stream goes on
   * intact (unless the producer gave up on the connection first, which is what we test).
   */
  private forward(from: net.Socket, to: net.Socket): void {
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      chain = chain.then(async () => {
        while (this.blackholed && !to.destroyed) await this.gate
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
        if (!to.destroyed) to.write(chunk)
      })
    })
  }

  /** Closes every proxied connection now (both sides see a reset/close). */
  cutAll(): void {
    for (const p of [...this.pairs]) {
      p.client.destroy()
      p.upstream.destroy()
    }
    this.pairs.clear()
  }

  /** Adds `ms` of latency to every chunk in both directions (0 turns it off). */
  delay(ms: number): void {
    this.delayMs = ms
  }

  /** While on, nothing is forwarded in either direction, but connections stay open. */
  blackhole(on: boolean): void {
    this.blackholed = on
    if (on) this.gate = new Promise((resolve) => (this.openGate = resolve))
    else this.openGate()
  }

  /** While on, new connections are closed at once (existing ones keep working). */
  refuse(on: boolean): void {
    this.refusing = on
  }

  get connections(): number {
    return this.pairs.size
  }

  async close(): Promise<void> {
    this.blackhole(false)
    this.cutAll()
    await Promise.all(
      [...this.listeners.values()].map(
        (l) => new Promise<void>((resolve) => l.server.close(() => resolve())),
      ),
    )
  }
}

function splitHostPort(s: string): [string, string] {
  const i = s.lastIndexOf(':')
  return [s.slice(0, i), s.slice(i + 1)]
}
