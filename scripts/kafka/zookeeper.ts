// A standalone ZooKeeper node for the ZooKeeper-mode brokers of versions before 3.3 (cluster.ts starts
// it before them and stops it after them).

import { type ChildProcess } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { brokerLog4jConfig, jvmCommonFlags } from './jars.js'
import { jvmFailure, propsText, spawnJavaToFile } from './processes.js'

const HOST = '127.0.0.1'
const STOP_GRACE_MS = 15_000

/** ZooKeeper (old versions only) holds a few hundred znodes: a small heap, and no need for G1. */
const ZOOKEEPER_JVM_FLAGS: readonly string[] = [
  '-Xms32m',
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
  // ZooKeeper registers log4j 1's JMX beans when it finds log4j 1 classes (here: log4j2's bridge,
  // which lacks those beans); no use for tests.
  '-Dzookeeper.jmx.log4j.disable=true',
]

/**
 * A standalone ZooKeeper node for ZooKeeper-mode brokers (versions before 3.3), started the way Kafka's
 * zookeeper-server-start.sh does (QuorumPeerMain) from the broker's own classpath: kafka_2.13 depends on
 * the ZooKeeper it was built with (3.5.9 for Kafka 2.8).
 */
export class ZooKeeper {
  private child: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()
  private exitInfo = ''

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly libsDir: string,
    private readonly version: string,
    private readonly cleanupDir: string,
  ) {}

  get connectString(): string {
    return `${HOST}:${this.port}`
  }

  private get logsDir(): string {
    return join(this.dir, 'logs')
  }

  /** Starts the JVM and resolves once ZooKeeper serves requests (its `srvr` command says so). */
  async start(timeoutMs: number): Promise<void> {
    const dataDir = join(this.dir, 'data')
    await mkdir(this.logsDir, { recursive: true })
    await mkdir(dataDir, { recursive: true })
    const cfg = join(this.dir, 'zoo.cfg')
    await writeFile(
      cfg,
      propsText({
        dataDir,
        clientPort: String(this.port),
        clientPortAddress: HOST,
        // Sessions may last 2 to 20 ticks: a short tick lets a broker's session be as short as the
        // 4 s it asks for (zookeeper.session.timeout.ms below), so a killed broker's registration
        // expires quickly and the node can start again.
        tickTime: '500',
        maxClientCnxns: '0',
        // The AdminServer would bind port 8080 (Jetty is not on the classpath anyway).
        'admin.enableServer': 'false',
        '4lw.commands.whitelist': 'srvr',
      }),
    )
    const args = [
      ...ZOOKEEPER_JVM_FLAGS,
      ...jvmCommonFlags(this.version),
      `-Dkafka.logs.dir=${this.logsDir}`,
      `-Dlog4j2.configurationFile=${brokerLog4jConfig(this.version)}`,
      '-cp',
      `${this.libsDir}/*`,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      cfg,
    ]
    const child = spawnJavaToFile(args, join(this.logsDir, 'stdout.log'), this.cleanupDir)
    this.child = child
    this.exited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = null
        this.exitInfo = signal ? `was killed by ${signal}` : `exited with code ${code}`
        resolve()
      })
      child.on('error', (err) => {
        if (this.child === child) this.child = null
        this.exitInfo = `could not be started: ${err.message}`
        resolve()
      })
    })
    const deadline = Date.now() + timeoutMs
    let last = 'no answer yet'
    for (;;) {
      if (!this.child) throw this.failure('stopped before it became ready')
      try {
        last = await fourLetterWord(this.port, 'srvr', 2000)
        if (last.startsWith('Zookeeper version')) return
      } catch (err) {
        last = err instanceof Error ? err.message : String(err)
      }
      if (Date.now() >= deadline) throw this.failure(`was not ready after ${timeoutMs} ms (${last.trim()})`)
      await sleep(100)
    }
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }

  failure(what: string): Error {
    const state = this.child ? 'is running' : this.exitInfo || 'is not running'
    return jvmFailure(`ZooKeeper (${this.connectString}) ${what}`, state, this.logsDir)
  }
}

/** Sends one of ZooKeeper's four-letter commands and resolves with the whole answer. */
function fourLetterWord(port: number, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect({ host: HOST, port }, () => socket.end(word))
    const timer = setTimeout(
      () => socket.destroy(new Error(`no answer to ${word} in ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.on('data', (b: Buffer) => chunks.push(b))
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.on('close', (hadError) => {
      clearTimeout(timer)
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'))
    })
  })
}
