// Starts real Apache Kafka brokers on 127.0.0.1 for tests: KRaft, combined broker+controller nodes, or for
// versions before 3.3 brokers with one ZooKeeper node (see usesZooKeeper in jars.ts).
// Every JVM started here is tracked (processes.ts) so it dies with this process, whichever way this process ends.

import { type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  atLeast,
  brokerCdsFlags,
  brokerLog4jConfig,
  DEFAULT_KAFKA_VERSION,
  ensureKafkaJars,
  jvmCommonFlags,
  usesZooKeeper,
} from './jars.js'
import { probeMetadata } from './probe.js'
import {
  forgetTempDir,
  jvmFailure,
  LOG_TAIL_LINES,
  propsText,
  runToCompletion,
  spawnJavaToFile,
  tail,
  trackTempDir,
} from './processes.js'
import {
  checkSecuritySupported,
  clusterSecurity,
  type KafkaSecurity,
  makeSecurityMaterial,
  scramFormatArgs,
  type SecurePorts,
  securityBrokerProps,
  type SecurityMaterial,
} from './security.js'
import { ZooKeeper } from './zookeeper.js'

export type { KafkaSecurity } from './security.js'

export interface KafkaNode {
  readonly id: number
  /** PLAINTEXT (client) port on 127.0.0.1. */
  readonly port: number
  /** CONTROLLER (KRaft quorum) port on 127.0.0.1; -1 for a ZooKeeper-mode broker. */
  readonly controllerPort: number
  readonly running: boolean
  /** Starts the JVM again with the same data dir and ports; resolves once the node lists every running node. */
  start(): Promise<void>
  /** SIGTERM (controlled shutdown), SIGKILL after 15 s. */
  stop(): Promise<void>
  /** SIGKILL: a crash, no controlled shutdown. */
  kill(): Promise<void>
}

export interface KafkaCluster {
  /** "127.0.0.1:p1,127.0.0.1:p2,..." */
  readonly bootstrapServers: string
  readonly nodes: readonly KafkaNode[]
  readonly libsDir: string
  /** The Kafka version these nodes run. */
  readonly version: string
  /** "127.0.0.1:port" of the cluster's ZooKeeper (versions before 3.3), else null (KRaft). */
  readonly zookeeperConnect: string | null
  /**
   * Root of this cluster's temp dir; node N logs to `<logDir>/node-N/logs/{server,stdout}.log`, a
   * ZooKeeper to `<logDir>/zookeeper/logs/{server,stdout}.log`.
   */
  readonly logDir: string
  /**
   * With `security: true`: the secured listeners, certificate files, users and principals (see
   * KafkaSecurity in security.ts); null otherwise.
   */
  readonly security: KafkaSecurity | null
  /** Resolves when every running node answers Metadata listing every running node. */
  waitReady(timeoutMs?: number): Promise<void>
  /**
   * Stops all nodes (then ZooKeeper, which a broker's controlled shutdown needs) and removes the temp dir
   * (kept if RELIABLE_KAFKA_KEEP_DATA=1, for post-mortems).
   */
  stop(): Promise<void>
}

export interface StartKafkaOptions {
  nodes?: 1 | 3
  /** Merged over the defaults below, so any of them can be overridden. */
  brokerProps?: Record<string, string>
  /** Kafka version (default DEFAULT_KAFKA_VERSION); before 3.3 the brokers run with a ZooKeeper node. */
  version?: string
  readyTimeoutMs?: number
  /**
   * Finalized feature levels the cluster starts with, written into the KRaft storage at format time
   * (`kafka.tools.StorageTool format --feature name=level`), e.g. `{ 'transaction.version': 1 }` for a
   * 4.x broker with classic (KIP-98) transactions where 4.x defaults to transaction.version=2 (KIP-890).
   * Features not named keep the defaults of the version's release. Needs KRaft and Kafka 3.9 or newer
   * (see featureArgs); StorageTool itself rejects unknown features and unsupported levels.
   */
  features?: Record<string, number>
  /**
   * Also start SSL (mutual TLS), SASL_SSL and SASL_PLAINTEXT listeners, advertised as `localhost`, with
   * certificates made by openssl for this run, users `admin` (super user) and `alice` (ACLs only) with
   * random passwords, and StandardAuthorizer with `allow.everyone.if.no.acl.found=false`; the PLAINTEXT
   * listener of `bootstrapServers` stays open and unauthenticated (a super user). What clients need is
   * in `cluster.security`. KRaft from Kafka 3.5 (refused before anything starts otherwise).
   * `brokerProps` still go last, e.g. `{ 'connections.max.reauth.ms': '10000' }`.
   */
  security?: boolean
}

/** A cluster started with `security: true`. */
export interface SecureKafkaCluster extends KafkaCluster {
  readonly security: KafkaSecurity
}

const HOST = '127.0.0.1'
const STOP_GRACE_MS = 15_000
const CLUSTER_STOP_GRACE_MS = 1_500
const DEFAULT_READY_TIMEOUT_MS = 120_000

// Heap: at most 512 MiB, half of kafka-server-start.sh's 1 GiB, which is ample for test topics and the
// benchmarks and leaves room for three nodes plus the clients on a small machine. GC settings as in
// Kafka's own kafka-run-class.sh. Measured on 2 cores:
// SerialGC did not start faster, and C1-only JIT (-XX:TieredStopAtLevel=1) saved ~1 s of a 3-node start
// but would make the broker the bottleneck in benchmarks, so only short-lived tool JVMs use it. The big
// win is the CDS archive (see jars.ts). Extra flags: RELIABLE_KAFKA_JVM_OPTS (space separated).
export const BROKER_JVM_FLAGS: readonly string[] = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-Djava.awt.headless=true',
]

/** Flags for short-lived tool JVMs (StorageTool, console clients): startup time is all that matters. */
export const TOOL_JVM_FLAGS: readonly string[] = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
]

export function extraJvmFlags(): string[] {
  return (process.env['RELIABLE_KAFKA_JVM_OPTS'] ?? '').split(/\s+/).filter((s) => s.length > 0)
}

// ---- helpers ---------------------------------------------------------------------------------------

async function freePorts(count: number): Promise<number[]> {
  // All servers stay open until every port is known, so the same port cannot be handed out twice.
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, HOST, () => resolve())
      })
      const addr = server.address()
      if (addr === null || typeof addr === 'string') throw new Error('could not allocate a port')
      ports.push(addr.port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  }
}

// ---- nodes -----------------------------------------------------------------------------------------

class Node implements KafkaNode {
  private child: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()
  private exitInfo = ''
  /** This JVM writes the CDS archive at exit: give it the whole grace period to do so. */
  private writesCds = false

  constructor(
    readonly id: number,
    readonly port: number,
    readonly controllerPort: number,
    private readonly dir: string,
    private readonly libsDir: string,
    private readonly version: string,
    private readonly cluster: Cluster,
  ) {}

  get running(): boolean {
    return this.child !== null
  }

  get propsPath(): string {
    return join(this.dir, 'server.properties')
  }

  get logsDir(): string {
    return join(this.dir, 'logs')
  }

  get dataDir(): string {
    return join(this.dir, 'data')
  }

  /** Starts the JVM without waiting for readiness. */
  spawn(): void {
    if (this.child) return
    const cds = brokerCdsFlags(this.version)
    const args = [
      ...BROKER_JVM_FLAGS,
      ...cds.flags,
      ...extraJvmFlags(),
      `-Dkafka.logs.dir=${this.logsDir}`,
      `-Dlog4j2.configurationFile=${brokerLog4jConfig(this.version)}`,
      '-cp',
      `${this.libsDir}/*`,
      'kafka.Kafka',
      this.propsPath,
    ]
    const child = spawnJavaToFile(args, join(this.logsDir, 'stdout.log'), this.cluster.logDir)
    child.on('exit', (code) => cds.onExit(code))
    this.writesCds = cds.flags.some((f) => f.startsWith('-XX:ArchiveClassesAtExit'))
    this.child = child
    this.exitInfo = ''
    this.exited = new Promise<void>((resolve) => {
      const done = (info: string): void => {
        if (this.child === child) this.child = null
        this.exitInfo = info
        resolve()
      }
      child.on('exit', (code, signal) =>
        done(signal ? `was killed by ${signal}` : `exited with code ${code}`),
      )
      child.on('error', (err) => done(`could not be started: ${err.message}`))
    })
  }

  async start(): Promise<void> {
    if (this.child) return
    this.spawn()
    await this.cluster.waitNodesReady([this], this.cluster.readyTimeoutMs)
  }

  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), this.writesCds ? STOP_GRACE_MS : graceMs)
    await this.exited
    clearTimeout(timer)
  }

  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGKILL')
    await this.exited
  }

  /** An Error naming the node's state and carrying the tail of its logs. */
  failure(what: string): Error {
    const state = this.child ? 'is running' : this.exitInfo || 'is not running'
    return jvmFailure(`Kafka node ${this.id} (127.0.0.1:${this.port}) ${what}`, state, this.logsDir)
  }
}

class Cluster implements KafkaCluster {
  readonly nodes: Node[] = []
  zookeeper: ZooKeeper | null = null
  security: KafkaSecurity | null = null

  constructor(
    readonly libsDir: string,
    readonly logDir: string,
    readonly version: string,
    /** Also bounds each `node.start()` after a stop or kill. */
    readonly readyTimeoutMs: number,
  ) {}

  get bootstrapServers(): string {
    return this.nodes.map((n) => `${HOST}:${n.port}`).join(',')
  }

  get zookeeperConnect(): string | null {
    return this.zookeeper?.connectString ?? null
  }

  async waitReady(timeoutMs = this.readyTimeoutMs): Promise<void> {
    await this.waitNodesReady(
      this.nodes.filter((n) => n.running),
      timeoutMs,
    )
  }

  /** Polls each of `nodes` until its Metadata answer lists every running node of the cluster. */
  async waitNodesReady(nodes: readonly Node[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    await Promise.all(
      nodes.map(async (node) => {
        let last = 'no answer yet'
        for (;;) {
          if (!node.running) throw node.failure('stopped before it became ready')
          const expected = this.nodes.filter((n) => n.running).map((n) => n.id)
          try {
            const r = await probeMetadata(HOST, node.port, 2000, atLeast(this.version, 0, 11) ? 4 : 1)
            const listed = new Set(r.brokers.map((b) => b.nodeId))
            if (expected.every((id) => listed.has(id))) return
            last = `lists brokers [${[...listed].join(',')}], waiting for [${expected.join(',')}]`
          } catch (err) {
            last = err instanceof Error ? err.message : String(err)
          }
          if (Date.now() >= deadline) throw node.failure(`was not ready after ${timeoutMs} ms (${last})`)
          await sleep(150)
        }
      }),
    )
  }

  async stop(): Promise<void> {
    // When all nodes go down together the last ones wait in controlled shutdown for a quorum that is
    // already gone (5.5 s for 3 nodes here). The data is deleted next, so a short grace loses nothing.
    await Promise.all(
      this.nodes.map((n) => n.stop(this.nodes.length > 1 ? CLUSTER_STOP_GRACE_MS : STOP_GRACE_MS)),
    )
    // Only now: a ZooKeeper-mode broker's controlled shutdown goes through ZooKeeper.
    await this.zookeeper?.stop()
    if (process.env['RELIABLE_KAFKA_KEEP_DATA'] !== '1')
      await rm(this.logDir, { recursive: true, force: true })
    forgetTempDir(this.logDir)
  }
}

/**
 * A cluster id as Kafka makes them (Uuid.randomUuid): 16 random bytes in base64url, drawn again
 * when the text starts with '-', which the storage tool's argument parser would take for an option.
 */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * StorageTool arguments for `features`: `--feature name=level` each. Throws, before anything starts,
 * for a version that cannot take them: ZooKeeper-mode brokers (before 3.3) have no storage to format
 * and finalize features themselves. StorageTool's `--feature` was checked in the cached jars of 3.9.1
 * and 4.4.0, which both hand it to the formatter; a 3.9 development state parsed the flag and then
 * ignored it (KAFKA-17868), so versions before 3.9, unchecked, are refused rather than risk a cluster
 * that silently runs on the release's defaults.
 */
function featureArgs(version: string, features: Record<string, number> | undefined): string[] {
  const entries = Object.entries(features ?? {})
  if (entries.length === 0) return []
  const names = entries.map(([name]) => name).join(', ')
  if (usesZooKeeper(version)) {
    throw new Error(
      `features (${names}) need a KRaft cluster, but Kafka ${version} runs in ZooKeeper mode here ` +
        '(before 3.3), where storage is not formatted and features cannot be set at start',
    )
  }
  if (!atLeast(version, 3, 9)) {
    throw new Error(
      `features (${names}) need Kafka 3.9 or newer (StorageTool format --feature), not ${version}`,
    )
  }
  return entries.flatMap(([name, level]) => {
    // A name with '=' or whitespace would be split differently by StorageTool than meant here.
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid feature name ${JSON.stringify(name)}`)
    // Feature levels are int16 in the protocol (FeatureLevelRecord).
    if (!Number.isInteger(level) || level < 0 || level > 0x7fff) {
      throw new Error(`feature ${name}: level must be an integer from 0 to 32767, not ${String(level)}`)
    }
    return ['--feature', `${name}=${level}`]
  })
}

/** Broker properties both modes share; every one can be overridden by StartKafkaOptions.brokerProps. */
function commonBrokerProps(node: Node, count: number): Record<string, string> {
  const rf = String(count === 1 ? 1 : 3)
  const minIsr = count === 1 ? '1' : '2'
  return {
    listeners: `PLAINTEXT://${HOST}:${node.port}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${node.port}`,
    'log.dirs': node.dataDir,
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'default.replication.factor': rf,
    'min.insync.replicas': minIsr,
    // The defaults (50 partitions each) make the first consumer group or transaction wait while 50
    // (times 3 replicas) partitions are created; a handful is plenty for tests and benchmarks.
    'offsets.topic.num.partitions': '4',
    'transaction.state.log.num.partitions': '4',
    // A test broker on a busy 2-core box: fewer threads means less contention, not less function.
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
  }
}

function kraftBrokerProps(
  node: Node,
  count: number,
  voters: string,
  version: string,
): Record<string, string> {
  const rf = String(count === 1 ? 1 : 3)
  const minIsr = count === 1 ? '1' : '2'
  return {
    'process.roles': 'broker,controller',
    'node.id': String(node.id),
    'controller.quorum.voters': voters,
    ...commonBrokerProps(node, count),
    listeners: `PLAINTEXT://${HOST}:${node.port},CONTROLLER://${HOST}:${node.controllerPort}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    // Share groups (KIP-932) exist from 4.0; older brokers would warn about unknown keys.
    ...(atLeast(version, 4, 0)
      ? {
          'share.coordinator.state.topic.replication.factor': rf,
          'share.coordinator.state.topic.min.isr': minIsr,
          'share.coordinator.state.topic.num.partitions': '1',
        }
      : {}),
    // A restarted node cannot register again until the controller expires its previous session
    // (default 9 s, measured: 11 s to restart a killed node). 4 s still tolerates GC pauses and a
    // busy CPU; heartbeats must come well inside it.
    'broker.session.timeout.ms': '4000',
    'broker.heartbeat.interval.ms': '1000',
  }
}

function zooKeeperBrokerProps(node: Node, count: number, zookeeperConnect: string): Record<string, string> {
  return {
    'broker.id': String(node.id),
    'zookeeper.connect': zookeeperConnect,
    ...commonBrokerProps(node, count),
    // As broker.session.timeout.ms in KRaft mode: a killed broker's registration (an ephemeral znode)
    // goes away after 4 s instead of 18 s, and only then can the node register again.
    'zookeeper.session.timeout.ms': '4000',
    'zookeeper.connection.timeout.ms': '30000',
  }
}

/**
 * Starts a cluster of 1 or 3 nodes on 127.0.0.1 with fresh temp storage, and resolves once every node's
 * Metadata lists every broker: KRaft, combined broker+controller nodes; or, for versions before 3.3
 * (usesZooKeeper), brokers with one ZooKeeper node, started first.
 */
export function startKafka(opts: StartKafkaOptions & { security: true }): Promise<SecureKafkaCluster>
export function startKafka(opts?: StartKafkaOptions): Promise<KafkaCluster>
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const count = opts.nodes ?? 1
  if (count !== 1 && count !== 3) throw new Error(`nodes must be 1 or 3, not ${String(count)}`)
  const version = opts.version ?? DEFAULT_KAFKA_VERSION
  const zkMode = usesZooKeeper(version)
  // Validated before the download and the temp dir, so a wrong call fails at once and leaves nothing.
  const formatFeatureArgs = featureArgs(version, opts.features)
  if (opts.security) checkSecuritySupported(version)
  const libsDir = await ensureKafkaJars(version)
  const root = await mkdtemp(join(tmpdir(), 'reliable-kafka-'))
  trackTempDir(root)
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
  const cluster = new Cluster(libsDir, root, version, readyTimeoutMs)
  try {
    // KRaft: a client and a controller port per node; ZooKeeper mode: a client port per node and ZooKeeper's.
    // With security, three more per node: SSL, SASL_SSL and SASL_PLAINTEXT.
    const ports = await freePorts((zkMode ? count + 1 : 2 * count) + (opts.security ? 3 * count : 0))
    for (let i = 0; i < count; i++) {
      const id = i + 1
      const [port, controllerPort] = zkMode ? [ports[i]!, -1] : [ports[2 * i]!, ports[2 * i + 1]!]
      cluster.nodes.push(
        new Node(id, port, controllerPort, join(root, `node-${id}`), libsDir, version, cluster),
      )
    }
    const voters = cluster.nodes.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(',')
    let material: SecurityMaterial | null = null
    const securePorts: SecurePorts[] = []
    if (opts.security) {
      material = await makeSecurityMaterial(join(root, 'security'))
      for (let i = 0; i < count; i++) {
        const [ssl, saslSsl, saslPlaintext] = ports.slice(2 * count + 3 * i, 2 * count + 3 * i + 3)
        securePorts.push({ ssl: ssl!, saslSsl: saslSsl!, saslPlaintext: saslPlaintext! })
      }
      cluster.security = clusterSecurity(material, securePorts)
    }
    const formatScramArgs = material ? scramFormatArgs(material) : []
    const clusterId = randomClusterId()
    if (zkMode) {
      const zk = new ZooKeeper(ports[count]!, join(root, 'zookeeper'), libsDir, version, root)
      cluster.zookeeper = zk
      await zk.start(readyTimeoutMs)
    }

    await Promise.all(
      cluster.nodes.map(async (node) => {
        await mkdir(node.logsDir, { recursive: true })
        await mkdir(node.dataDir, { recursive: true })
        const props = {
          ...(cluster.zookeeper
            ? zooKeeperBrokerProps(node, count, cluster.zookeeper.connectString)
            : kraftBrokerProps(node, count, voters, version)),
          ...(material
            ? securityBrokerProps(material, node.port, node.controllerPort, securePorts[node.id - 1]!)
            : {}),
          ...opts.brokerProps,
        }
        await writeFile(node.propsPath, propsText(props))
        // A ZooKeeper-mode broker creates its storage itself; KRaft storage must be formatted first.
        if (zkMode) return
        const format = spawnJavaToFile(
          [
            ...TOOL_JVM_FLAGS,
            ...jvmCommonFlags(version),
            `-Dkafka.logs.dir=${node.logsDir}`,
            `-Dlog4j2.configurationFile=${brokerLog4jConfig(version)}`,
            '-cp',
            `${libsDir}/*`,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            node.propsPath,
            ...formatFeatureArgs,
            ...formatScramArgs,
          ],
          join(node.logsDir, 'format.log'),
          root,
        )
        const code = await runToCompletion(format)
        if (code !== 0) {
          throw new Error(
            `kafka.tools.StorageTool format failed for node ${node.id} (exit ${code}):\n` +
              tail(join(node.logsDir, 'format.log'), LOG_TAIL_LINES),
          )
        }
      }),
    )
    for (const node of cluster.nodes) node.spawn()
    await cluster.waitReady()
    return cluster
  } catch (err) {
    await cluster.stop().catch(() => undefined)
    throw err
  }
}
