// Fetches the Apache Kafka jars (broker, tools, a log4j2 binding) with Maven into a per-user cache, once.
// Maven is used instead of the release tarball because it verifies checksums, reuses ~/.m2 and needs no
// archive handling; the resulting flat libs dir is what `java -cp '<libs>/*'` wants. Older versions
// (compatibility tests) get the broker only; those before KRaft was production-ready run with the
// ZooKeeper that kafka_2.13 itself depends on (see usesZooKeeper).

import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export const DEFAULT_KAFKA_VERSION = '4.4.0'

/** The broker versions `npm run test:compat` runs against (besides the default one in `npm test`). */
export const COMPAT_KAFKA_VERSIONS: readonly string[] = ['3.9.1', '2.8.2']

/** [major, minor] of a version such as "3.9.1"; throws on anything else. */
export function majorMinor(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version)
  if (!m) throw new Error(`invalid Kafka version: ${JSON.stringify(version)}`)
  return [Number(m[1]), Number(m[2])]
}

/** Whether `version` is at least `major`.`minor`. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = majorMinor(version)
  return a > major || (a === major && b >= minor)
}

/**
 * Versions before 3.3 run with ZooKeeper: KRaft was early access from 2.8 and production-ready only in
 * 3.3 (KIP-833). 3.3 to 3.9 could do either; they run in KRaft mode here, as 4.x must.
 */
export function usesZooKeeper(version: string): boolean {
  return !atLeast(version, 3, 3)
}

// Kafka itself depends on slf4j-api 1.7.36, which cannot see an SLF4J 2 provider such as
// log4j-slf4j2-impl; without pinning slf4j-api 2.x every log line is silently dropped (NOP logger),
// and the broker's startup errors would never reach server.log.
const SLF4J_API_VERSION = '2.0.16'
const LOG4J_VERSION = '2.24.3'
/** ZooKeeper for brokers before 2.4 (see pomXml). */
const OLD_BROKER_ZOOKEEPER_VERSION = '3.5.9'
const MIN_JAVA_MAJOR = 17
const MARKER = '.complete'
const LOCK_WAIT_MS = 10 * 60_000

/** Root of the per-user cache: $RELIABLE_KAFKA_CACHE, else $XDG_CACHE_HOME/reliable-kafka, else ~/.cache/reliable-kafka. */
export function cacheRoot(): string {
  const explicit = process.env['RELIABLE_KAFKA_CACHE']
  if (explicit) return explicit
  const xdg = process.env['XDG_CACHE_HOME']
  return join(xdg ? xdg : join(homedir(), '.cache'), 'reliable-kafka')
}

/** Directory holding everything cached for one Kafka version (pom, libs, log4j2 configs). */
export function versionDir(version: string = DEFAULT_KAFKA_VERSION): string {
  return join(cacheRoot(), `kafka-${version}`)
}

/** log4j2 config for brokers: WARN and above to `${sys:kafka.logs.dir}/server.log`. */
export function brokerLog4jConfig(version: string = DEFAULT_KAFKA_VERSION): string {
  return join(versionDir(version), 'log4j2-broker.xml')
}

/** log4j2 config for CLI tools: WARN and above to stderr, so stdout carries only the tool's output. */
export function toolLog4jConfig(version: string = DEFAULT_KAFKA_VERSION): string {
  return join(versionDir(version), 'log4j2-tools.xml')
}

const BROKER_LOG4J = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="server" fileName="\${sys:kafka.logs.dir}/server.log">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="server"/></Root>
    <!-- The two lines that say the node is up make a log tail readable when startup hangs. -->
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Logger name="kafka.server.BrokerServer" level="INFO"/>
    <!-- The same for a ZooKeeper-mode broker (before 3.3) and for ZooKeeper itself. -->
    <Logger name="kafka.server.KafkaServer" level="INFO"/>
    <Logger name="org.apache.zookeeper.server.ZooKeeperServerMain" level="INFO"/>
  </Loggers>
</Configuration>
`

const TOOL_LOG4J = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
`

/** Kafka is published for Scala 2.13 since 2.4, for 2.12 since 0.10.2 and for 2.11 before that. */
function scalaVersion(version: string): string {
  return atLeast(version, 2, 4) ? '2.13' : atLeast(version, 1, 0) ? '2.12' : '2.11'
}

function pomXml(version: string): string {
  const dep = (g: string, a: string, v: string, body = ''): string =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version>${body}</dependency>`
  // The console tools (tools.ts) always come from the default version, so older versions need only the
  // broker. Those before 4.0 ship with log4j 1 (reload4j) and call its API directly in a few places
  // (kafka.utils.Log4jController, ZooKeeper's JMX beans): log4j-1.2-api routes those calls to log4j2 too.
  const extra = atLeast(version, 4, 0)
    ? dep('org.apache.kafka', 'kafka-tools', version)
    : dep('org.apache.logging.log4j', 'log4j-1.2-api', LOG4J_VERSION)
  // Before 2.4 the broker's own dependencies include log4j 1 and its SLF4J binding, which would take the
  // logs away from log4j2, and ZooKeeper 3.4, whose client cannot connect on Java 14+
  // (UnresolvedAddressException): the 3.5.9 that Kafka 2.8 uses works with them. Only for hand tests of
  // old brokers (see docs/local-kafka.md).
  const old = !atLeast(version, 2, 4)
  const log4j1 = [
    ['log4j', 'log4j'],
    ['org.slf4j', 'slf4j-log4j12'],
  ]
  const exclusions = (list: string[][]): string =>
    '<exclusions>' +
    list
      .map(([g, a]) => `<exclusion><groupId>${g}</groupId><artifactId>${a}</artifactId></exclusion>`)
      .join('') +
    '</exclusions>'
  const kafkaExclusions = old ? exclusions([...log4j1, ['org.apache.zookeeper', 'zookeeper']]) : ''
  const zookeeper = old
    ? `\n${dep('org.apache.zookeeper', 'zookeeper', OLD_BROKER_ZOOKEEPER_VERSION, exclusions(log4j1))}`
    : ''
  // 0.x brokers encode their cluster id with javax.xml.bind, which Java 11 no longer has.
  const jaxb = atLeast(version, 1, 0) ? '' : `\n${dep('javax.xml.bind', 'jaxb-api', '2.3.1')}`
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>reliable-kafka</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('org.slf4j', 'slf4j-api', SLF4J_API_VERSION)}
${dep('org.apache.kafka', `kafka_${scalaVersion(version)}`, version, kafkaExclusions)}${zookeeper}${jaxb}
${extra}
${dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', LOG4J_VERSION)}
  </dependencies>
</project>
`
}

let javaVersionText: string | null = null

/** Throws a readable error unless `java` >= 17 is on PATH. */
export function checkJava(): void {
  if (javaVersionText !== null) return
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' })
  if (r.error) {
    throw new Error(
      `Java ${MIN_JAVA_MAJOR}+ is required to run the Kafka test broker but \`java\` was not found on PATH ` +
        `(${r.error.message}). Install a JDK/JRE ${MIN_JAVA_MAJOR} or newer, e.g. \`apt-get install openjdk-17-jre-headless\`.`,
    )
  }
  const out = `${r.stderr}${r.stdout}`
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out)
  // Pre-9 JVMs report "1.8.0_x": the major is the second number.
  const major = m ? (m[1] === '1' && m[2] ? Number(m[2]) : Number(m[1])) : NaN
  if (!(major >= MIN_JAVA_MAJOR)) {
    throw new Error(
      `Java ${MIN_JAVA_MAJOR}+ is required to run Kafka ${DEFAULT_KAFKA_VERSION}, but \`java -version\` says: ` +
        `${out.split('\n')[0]?.trim() ?? '?'}. Install e.g. \`apt-get install openjdk-17-jre-headless\`.`,
    )
  }
  javaVersionText = out
}

// ---- class-data sharing ----------------------------------------------------------------------------
// A dynamic CDS archive of the classes a broker loads halves JVM startup here (broker 2.2 s -> 1.3 s,
// StorageTool 0.9 s -> 0.4 s on 2 cores). The first broker that stops gracefully writes it; every JVM
// started afterwards maps it. The JVM validates the archive against the JDK build and the classpath and
// runs without it on a mismatch, so a stale archive costs speed, never correctness; the JDK build is in
// the file name so that a JDK upgrade makes a fresh one.

function cdsArchivePath(version: string): string {
  checkJava()
  const key = createHash('sha256')
    .update(`${javaVersionText ?? ''}|${process.arch}`)
    .digest('hex')
    .slice(0, 12)
  return join(versionDir(version), `broker-${key}.jsa`)
}

// JVM unified logging writes warnings to stdout by default, where they would corrupt a tool's output.
const JVM_LOG_FLAGS = ['-Xlog:disable', '-Xlog:all=warning:stderr']

/** Flags for any JVM on the cached classpath: quiet stdout, and map the CDS archive when there is one. */
export function jvmCommonFlags(version: string = DEFAULT_KAFKA_VERSION): string[] {
  const archive = cdsArchivePath(version)
  if (process.env['RELIABLE_KAFKA_NO_CDS'] === '1' || !existsSync(archive)) return [...JVM_LOG_FLAGS]
  return [...JVM_LOG_FLAGS, `-XX:SharedArchiveFile=${archive}`]
}

let cdsTrainingInProcess = false

/**
 * Flags for a broker JVM. While no archive exists, one broker per process is asked to write it at exit;
 * `onExit` must be called with the JVM's exit code to publish the archive if that exit was graceful.
 */
export function brokerCdsFlags(version: string = DEFAULT_KAFKA_VERSION): {
  flags: string[]
  onExit: (code: number | null) => void
} {
  const archive = cdsArchivePath(version)
  if (existsSync(archive) || cdsTrainingInProcess || process.env['RELIABLE_KAFKA_NO_CDS'] === '1') {
    return { flags: jvmCommonFlags(version), onExit: () => undefined }
  }
  cdsTrainingInProcess = true
  // Per-pid name + rename: concurrent processes may each write one, the last rename wins, none is torn.
  const tmp = `${archive}.${process.pid}.tmp`
  return {
    flags: [...JVM_LOG_FLAGS, `-XX:ArchiveClassesAtExit=${tmp}`],
    onExit: (code) => {
      cdsTrainingInProcess = false
      // 143 = graceful SIGTERM shutdown; after a SIGKILL the file may be half written.
      if ((code === 0 || code === 143) && existsSync(tmp)) renameSync(tmp, archive)
      else rmSync(tmp, { force: true })
    },
  }
}

function removeCdsArchives(dir: string): void {
  if (!existsSync(dir)) return
  for (const f of readdirSync(dir)) if (/\.jsa(\.\d+\.tmp)?$/.test(f)) rmSync(join(dir, f), { force: true })
}

function checkMaven(): void {
  const r = spawnSync('mvn', ['-v'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    throw new Error(
      'Apache Maven (`mvn`) is required once, to download the Kafka jars from Maven Central, but it was not ' +
        'found or does not run. Install it, e.g. `apt-get install maven`.',
    )
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM means the pid exists but belongs to someone else: treat as alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function runMaven(pomPath: string, outDir: string): Promise<void> {
  const args = ['-B', '-q', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${outDir}`]
  const output: Buffer[] = []
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (b: Buffer) => output.push(b))
    child.stderr.on('data', (b: Buffer) => output.push(b))
    child.on('error', reject)
    child.on('close', resolve)
  })
  if (code !== 0) {
    const text = Buffer.concat(output).toString('utf8').split('\n').slice(-40).join('\n')
    throw new Error(`mvn ${args.join(' ')} failed with exit code ${code}:\n${text}`)
  }
}

/**
 * Returns the directory of Kafka `version`'s jars (for `java -cp '<dir>/*'`), downloading them on the first
 * call. Safe to call from several processes at once: one fetches while the others wait on its lock.
 */
export async function ensureKafkaJars(version: string = DEFAULT_KAFKA_VERSION): Promise<string> {
  if (!/^[0-9A-Za-z.-]+$/.test(version)) throw new Error(`invalid Kafka version: ${JSON.stringify(version)}`)
  checkJava()
  const dir = versionDir(version)
  const libs = join(dir, 'libs')
  await mkdir(dir, { recursive: true })
  // The log4j configs are rewritten every time (cheap, idempotent) so a config change reaches old caches.
  await writeConfig(brokerLog4jConfig(version), BROKER_LOG4J)
  await writeConfig(toolLog4jConfig(version), TOOL_LOG4J)
  if (existsSync(join(dir, MARKER))) return libs

  checkMaven()
  const lockPath = join(dir, '.lock')
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx')
      try {
        await fh.writeFile(String(process.pid))
      } finally {
        await fh.close()
      }
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    // Someone else holds the lock: wait for their marker, or take over if they died mid-fetch.
    if (existsSync(join(dir, MARKER))) return libs
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10)
    const age = await stat(lockPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    )
    // An empty lock younger than a second is a holder between open() and writeFile().
    if ((Number.isFinite(holder) && !isAlive(holder)) || (!Number.isFinite(holder) && age > 1000)) {
      await rm(lockPath, { force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${lockPath} (held by pid ${holder}); remove it if stale`)
    }
    await sleep(250)
  }

  try {
    if (existsSync(join(dir, MARKER))) return libs
    const staging = join(dir, 'libs.partial')
    await rm(staging, { recursive: true, force: true })
    const pomPath = join(dir, 'pom.xml')
    await writeFile(pomPath, pomXml(version))
    await runMaven(pomPath, staging)
    // New jar files (new mtimes) invalidate any archive built against the old ones.
    removeCdsArchives(dir)
    await rm(libs, { recursive: true, force: true })
    await rename(staging, libs)
    await writeFile(join(dir, MARKER), `${new Date().toISOString()}\n`)
    return libs
  } finally {
    await rm(lockPath, { force: true })
  }
}

async function writeConfig(path: string, text: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => null)
  if (current === text) return
  // Write-then-rename so a concurrently starting JVM never reads half a file.
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text)
  await rename(tmp, path)
}
