// Independent Kafka clients for tests: Kafka's own console tools (from the cached jars) and kcat
// (librdkafka). They check our bytes with code that shares nothing with ours.

import type { ChildProcess } from 'node:child_process'
import { spawnSync } from 'node:child_process'
import { installDebianPackages } from '../debian.js'
import { TOOL_JVM_FLAGS } from './cluster.js'
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, jvmCommonFlags, toolLog4jConfig } from './jars.js'
import { spawnTracked } from './processes.js'

export interface ConsoleConsumeOptions {
  bootstrapServers: string
  topic: string
  maxMessages: number
  /** Idle timeout (`--timeout-ms`): give up when no message arrives for this long. Default 30 s. */
  timeoutMs?: number
  /** Formatter properties (`--formatter-property`): print.key, print.headers, key.separator, ... */
  properties?: Record<string, string>
  /** Consumer configs (`--command-property`), e.g. isolation.level=read_committed. */
  consumerProperties?: Record<string, string>
}

export interface ConsoleProduceOptions {
  bootstrapServers: string
  topic: string
  lines: string[]
  /** Each line is `<key><keySeparator><value>`. */
  parseKey?: boolean
  /** Default: tab, as in ConsoleProducer. */
  keySeparator?: string
  /** Reader properties (`--reader-property`), e.g. parse.headers=true. */
  properties?: Record<string, string>
  /** Producer configs (`--command-property`), e.g. acks=all. */
  producerProperties?: Record<string, string>
  /** A producer config file (`--command-config`), e.g. a secured listener's (security.ts). */
  configFile?: string
  /**
   * Compression (`--compression-codec`). ConsoleProducer sets compression.type from this option
   * itself (default none), overriding a `compression.type` in producerProperties.
   */
  compressionCodec?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
}

export interface KcatConsumeOptions {
  bootstrapServers: string
  topic: string
  count: number
  /** Overall limit for the kcat process. Default 30 s. */
  timeoutMs?: number
}

export interface KcatProduceOptions {
  bootstrapServers: string
  topic: string
  /** One record per line (no newlines inside). With `keyDelimiter`, `<key><delimiter><value>`. */
  lines: string[]
  /**
   * kcat's `-K`: a line is split at the first delimiter into key and value; a line without the delimiter
   * has a null key, and a line starting with it an empty (non-null) key.
   */
  keyDelimiter?: string
  /** librdkafka properties (`-X key=value`), e.g. `partitioner: 'fnv1a'`. */
  properties?: Record<string, string>
  /** Overall limit for the kcat process. Default 30 s. */
  timeoutMs?: number
}

export interface KcatRecord {
  partition: number
  offset: number
  timestamp: number
  /** null for a null key; an empty Buffer for an empty one. */
  key: Buffer | null
  value: Buffer | null
  headers: [string, Buffer][]
}

const DEFAULT_TIMEOUT_MS = 30_000
// A tool JVM needs a few seconds to start on a loaded 2-core box before its own timeout even begins.
const JVM_START_ALLOWANCE_MS = 20_000

interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

function run(child: ChildProcess, killAfterMs: number, stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') })
    })
    if (stdin !== undefined && child.stdin) {
      // A tool that dies early closes its stdin; the exit code then tells the story, not EPIPE.
      child.stdin.on('error', () => undefined)
      child.stdin.end(stdin)
    }
  })
}

function describe(what: string, r: RunResult): string {
  const how = r.signal ? `was killed by ${r.signal} (timeout?)` : `exited with code ${r.code}`
  return `${what} ${how}:\n${r.stderr.trim().split('\n').slice(-40).join('\n')}`
}

async function javaTool(mainClass: string, args: string[]): Promise<string[]> {
  const libs = await ensureKafkaJars(DEFAULT_KAFKA_VERSION)
  return [
    ...TOOL_JVM_FLAGS,
    ...jvmCommonFlags(DEFAULT_KAFKA_VERSION),
    `-Dlog4j2.configurationFile=${toolLog4jConfig(DEFAULT_KAFKA_VERSION)}`,
    '-cp',
    `${libs}/*`,
    mainClass,
    ...args,
  ]
}

/** ConsoleConsumer's arguments for reading `topic` from its beginning. */
function fromBeginning(bootstrapServers: string, topic: string): string[] {
  return ['--bootstrap-server', bootstrapServers, '--topic', topic, '--from-beginning']
}

function repeated(flag: string, props: Record<string, string> | undefined): string[] {
  return Object.entries(props ?? {}).flatMap(([k, v]) => [flag, `${k}=${v}`])
}

/**
 * Runs any Java main class from the cached Kafka jars (e.g. `org.apache.kafka.tools.TopicCommand`) and
 * resolves with its stdout; rejects with its stderr when it exits non-zero, or when its stderr matches
 * `failOn` (for tools that log a failure and still exit 0).
 */
export async function runKafkaTool(
  mainClass: string,
  args: string[],
  opts: { stdin?: string; timeoutMs?: number; failOn?: RegExp } = {},
): Promise<string> {
  const child = spawnTracked('java', await javaTool(mainClass, args), [
    opts.stdin === undefined ? 'ignore' : 'pipe',
    'pipe',
    'pipe',
  ])
  const r = await run(child, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS + JVM_START_ALLOWANCE_MS, opts.stdin)
  if (r.code !== 0) throw new Error(describe(mainClass, r))
  if (opts.failOn?.test(r.stderr)) throw new Error(describe(`${mainClass} logged an error and`, r))
  return r.stdout.toString('utf8')
}

/**
 * Reads up to `maxMessages` from the beginning of `topic` with Kafka's ConsoleConsumer and returns its
 * stdout (one formatted record per line). Fewer records than asked for is not an error: the consumer stops
 * after `timeoutMs` without a message; check the output.
 */
export async function consoleConsume(opts: ConsoleConsumeOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const args = [
    ...fromBeginning(opts.bootstrapServers, opts.topic),
    '--max-messages',
    String(opts.maxMessages),
    '--timeout-ms',
    String(timeoutMs),
    ...repeated('--formatter-property', opts.properties),
    ...repeated('--command-property', opts.consumerProperties),
  ]
  return runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', args, {
    timeoutMs: timeoutMs + JVM_START_ALLOWANCE_MS,
  })
}

export interface ConsoleConsumeRecordsOptions {
  bootstrapServers: string
  topic: string
  /**
   * ConsoleConsumer's `--isolation-level`, spelled out on purpose: `read_committed` returns committed and
   * non-transactional records up to the last stable offset (an open transaction holds back everything
   * from its first record on), `read_uncommitted` everything in the log, aborted records included.
   */
  isolationLevel: 'read_committed' | 'read_uncommitted'
  /**
   * Stop once this many records were read (`--max-messages`): fast when the test knows how many to
   * expect. Without it the consumer reads until `idleTimeoutMs` passes without a record.
   */
  maxMessages?: number
  /**
   * `--timeout-ms`: stop when no record arrives for this long, which is how the end of the topic is
   * found. The first wait also covers joining the group and the first fetch (about a second here),
   * hence not much less than the default, 5 s.
   */
  idleTimeoutMs?: number
  /**
   * Consume as this consumer group (`--group`), whose position is then committed when the consumer
   * closes: the offset after the last record it fetched, which may be past the last one printed when
   * `maxMessages` stops it mid-batch. Without it ConsoleConsumer uses a random group and commits nothing.
   */
  group?: string
  /** More consumer configs (`--command-property`). */
  consumerProperties?: Record<string, string>
}

/** A record as Kafka's ConsoleConsumer printed it; key and value decoded as UTF-8. */
export interface ConsoleRecord {
  partition: number
  offset: number
  /** null for a null key; '' for an empty one. */
  key: string | null
  value: string | null
}

// Separators for ConsoleConsumer's DefaultMessageFormatter that text test data does not contain: ASCII's
// unit separator between fields, its record separator after each record (so values may contain
// newlines), and NAK for null, which the formatter otherwise prints as the ambiguous text "null".
const FIELD_SEP = '\x1f'
const RECORD_SEP = '\x1e'
const NULL_LITERAL = '\x15'
const DEFAULT_IDLE_TIMEOUT_MS = 5_000

/**
 * Parses ConsoleConsumer output printed with the formatter properties of consoleConsumeRecords
 * (`Partition:<p>`, `Offset:<o>`, key, value per record). Exported for tests.
 */
export function parseConsoleRecords(out: string): ConsoleRecord[] {
  const records = out.split(RECORD_SEP)
  // Every record ends with the separator: what follows the last one must be nothing.
  const rest = records.pop()
  if (rest !== undefined && rest.length > 0) {
    throw new Error(`ConsoleConsumer output: unterminated record ${JSON.stringify(rest.slice(0, 200))}`)
  }
  return records.map((text) => {
    const fields = text.split(FIELD_SEP)
    const p = /^Partition:(\d+)$/.exec(fields[0] ?? '')
    const o = /^Offset:(\d+)$/.exec(fields[1] ?? '')
    if (fields.length !== 4 || !p || !o) {
      // A key or value holding a separator lands here rather than being silently misread.
      throw new Error(`ConsoleConsumer output: unexpected record ${JSON.stringify(text.slice(0, 200))}`)
    }
    const nullable = (f: string): string | null => (f === NULL_LITERAL ? null : f)
    return {
      partition: Number(p[1]),
      offset: Number(o[1]),
      key: nullable(fields[2]!),
      value: nullable(fields[3]!),
    }
  })
}

/**
 * Reads `topic` from the beginning with Kafka's ConsoleConsumer at the given isolation level and returns
 * its records ordered by partition, then offset. It stops after `maxMessages` records or, at the end
 * of the topic, once `idleTimeoutMs` passes without one; fewer records than expected is not an error,
 * check the result. The whole run is bounded (the JVM is killed after the idle timeout plus 20 s
 * for its start), so a topic still being written to makes it fail rather than hang.
 * Keys and values must be UTF-8 text without the characters U+001E and U+001F, and not U+0015 alone
 * (the separators and the null marker).
 */
export async function consoleConsumeRecords(opts: ConsoleConsumeRecordsOptions): Promise<ConsoleRecord[]> {
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  const formatter = {
    'print.partition': 'true',
    'print.offset': 'true',
    'print.key': 'true',
    'print.value': 'true',
    'print.timestamp': 'false',
    'print.headers': 'false',
    'key.separator': FIELD_SEP,
    'line.separator': RECORD_SEP,
    'null.literal': NULL_LITERAL,
  }
  const args = [
    ...fromBeginning(opts.bootstrapServers, opts.topic),
    // The tool's own option, not a --command-property: it takes precedence over one (a
    // consumerProperties entry cannot change it by accident).
    '--isolation-level',
    opts.isolationLevel,
    ...(opts.maxMessages !== undefined ? ['--max-messages', String(opts.maxMessages)] : []),
    '--timeout-ms',
    String(idleTimeoutMs),
    ...(opts.group !== undefined ? ['--group', opts.group] : []),
    ...repeated('--formatter-property', formatter),
    ...repeated('--command-property', opts.consumerProperties),
  ]
  const out = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', args, {
    timeoutMs: idleTimeoutMs + JVM_START_ALLOWANCE_MS,
  })
  return parseConsoleRecords(out).sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

export interface ConsumerGroupOffsetsOptions {
  bootstrapServers: string
  group: string
  /** Overall limit for the tool's JVM. Default 50 s. */
  timeoutMs?: number
}

export interface CommittedOffset {
  topic: string
  partition: number
  /** null where the group has no committed offset for a partition it is assigned (`-`). */
  committedOffset: number | null
}

/**
 * Parses the table of `ConsumerGroupCommand --describe --group <group> --offsets`. The tool exits 0 even
 * when it fails and prints `Error: ...` instead of the table: an unknown group gives [], any other
 * error throws. Exported for tests.
 */
export function parseConsumerGroupOffsets(out: string, group: string): CommittedOffset[] {
  const lines = out.split('\n')
  const error = lines.find((l) => l.startsWith('Error:'))
  if (error !== undefined) {
    // 4.x: "... GroupIdNotFoundException: Group g not found."; older tools: "Consumer group 'g' does not exist."
    if (/GroupIdNotFoundException|does not exist/.test(error)) return []
    throw new Error(`ConsumerGroupCommand --describe --group ${group}: ${error}`)
  }
  const header = lines.findIndex((l) => /^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s/.test(l))
  // An existing group without committed offsets or members prints no table at all.
  if (header < 0) return []
  const offsets: CommittedOffset[] = []
  for (const line of lines.slice(header + 1)) {
    if (line.trim().length === 0) continue
    // Rows start with the group id padded to the column; cut it off, since a group id may contain
    // spaces and topic names may not.
    const [topic, partition, current] = line.startsWith(group)
      ? line.slice(group.length).trim().split(/\s+/)
      : []
    if (topic === undefined || !/^\d+$/.test(partition ?? '') || !/^(\d+|-)$/.test(current ?? '')) {
      throw new Error(`ConsumerGroupCommand: unexpected line ${JSON.stringify(line)}`)
    }
    offsets.push({
      topic,
      partition: Number(partition),
      committedOffset: current === '-' ? null : Number(current),
    })
  }
  return offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

/**
 * The offsets `group` has committed, read with Kafka's own ConsumerGroupCommand (`--describe --offsets`),
 * ordered by topic and partition; [] for an unknown group or one without committed offsets.
 * The class is the one in the 4.x kafka-tools jar (`org.apache.kafka.tools.consumer.group`; older
 * releases had `kafka.admin.ConsumerGroupCommand`): the tools always run from the default version's
 * jars, which talk to older brokers too.
 */
export async function consumerGroupOffsets(opts: ConsumerGroupOffsetsOptions): Promise<CommittedOffset[]> {
  const out = await runKafkaTool(
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    ['--bootstrap-server', opts.bootstrapServers, '--describe', '--group', opts.group, '--offsets'],
    opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {},
  )
  return parseConsumerGroupOffsets(out, opts.group)
}

/** One line of `FeatureCommand describe`. */
export interface FeatureDescription {
  feature: string
  /** Levels as printed: a number such as '1', or a release for metadata.version, such as '4.4-IV2'. */
  supportedMinVersion: string
  supportedMaxVersion: string
  /** As printed; '0' for a feature the cluster has not finalized. */
  finalizedVersionLevel: string
}

/** Parses the output of `FeatureCommand describe`. Exported for tests. */
export function parseFeatureDescribe(out: string): FeatureDescription[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('Feature:'))
    .map((line) => {
      // FeatureCommand's format: "Feature: %-40s  SupportedMinVersion: %-15s  SupportedMaxVersion: %-15s
      // FinalizedVersionLevel: %-15s  Epoch: %s", so at least two spaces end a value, which may itself
      // hold one ("UNKNOWN 1" for a level this tool has no name for).
      const field = (name: string): string | undefined =>
        new RegExp(`${name}: (.*?)(?: {2,}|$)`).exec(line)?.[1]?.trim()
      const feature = field('Feature')
      const supportedMinVersion = field('SupportedMinVersion')
      const supportedMaxVersion = field('SupportedMaxVersion')
      const finalizedVersionLevel = field('FinalizedVersionLevel')
      if (!feature || !supportedMinVersion || !supportedMaxVersion || !finalizedVersionLevel) {
        throw new Error(`FeatureCommand: unexpected line ${JSON.stringify(line)}`)
      }
      return { feature, supportedMinVersion, supportedMaxVersion, finalizedVersionLevel }
    })
}

/**
 * The cluster's features with their supported range and finalized level, as Kafka's FeatureCommand
 * (`describe`) reports them.
 */
export async function describeFeatures(bootstrapServers: string): Promise<FeatureDescription[]> {
  const out = await runKafkaTool('org.apache.kafka.tools.FeatureCommand', [
    '--bootstrap-server',
    bootstrapServers,
    'describe',
  ])
  return parseFeatureDescribe(out)
}

/**
 * Produces `lines` (one record each) with Kafka's ConsoleProducer; resolves once it has exited cleanly.
 * ConsoleProducer exits 0 even when records failed (an authorization error, say) and only logs them,
 * so such a log line rejects too, with the tool's stderr.
 */
export async function consoleProduce(opts: ConsoleProduceOptions): Promise<void> {
  const reader: Record<string, string> = { ...opts.properties }
  if (opts.parseKey) reader['parse.key'] = 'true'
  if (opts.keySeparator !== undefined) reader['key.separator'] = opts.keySeparator
  const args = [
    '--bootstrap-server',
    opts.bootstrapServers,
    '--topic',
    opts.topic,
    ...repeated('--reader-property', reader),
    ...repeated('--command-property', opts.producerProperties),
    ...(opts.configFile !== undefined ? ['--command-config', opts.configFile] : []),
    ...(opts.compressionCodec ? ['--compression-codec', opts.compressionCodec] : []),
  ]
  const stdin = opts.lines.length === 0 ? '' : `${opts.lines.join('\n')}\n`
  // Logged by the producer's ErrorLoggingCallback for each record that failed.
  const failOn = /Error when sending message/
  await runKafkaTool('org.apache.kafka.tools.ConsoleProducer', args, { stdin, failOn })
}

const KCAT_INSTALL = '`apt-get install kcat` (Debian/Ubuntu) or `brew install kcat` (macOS)'

let kcatChecked: string | false | null = null

/**
 * Why kcat cannot be used (a one-line reason naming what to install), or false when it is on PATH.
 * Checked once per process.
 */
export function kcatMissing(): string | false {
  if (kcatChecked === null) {
    const r = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
    kcatChecked = r.error || r.status !== 0 ? `needs kcat, which is not installed: ${KCAT_INSTALL}` : false
  }
  return kcatChecked
}

/**
 * For a test that reads records back with kcat, called first thing in its body: when kcat is missing
 * it marks the test skipped with the reason and returns true (the test then returns).
 */
export function skipWithoutKcat(t: { skip(message?: string): void }): boolean {
  const missing = kcatMissing()
  if (missing === false) return false
  t.skip(missing)
  return true
}

/** Throws a readable error unless kcat is on PATH. */
export function ensureKcat(): void {
  const missing = kcatMissing()
  if (missing !== false) {
    throw new Error(
      "kcat (librdkafka's command-line client) is required by this test but was not found on PATH. " +
        `Install it, e.g. ${KCAT_INSTALL}.`,
    )
  }
}

/**
 * Makes sure kcat is there before a test run, if it can: on a Debian machine where we are root (CI,
 * the project's dev machines) it is installed with apt-get, so `npm test` works on a fresh machine.
 * Elsewhere it logs one line saying which tests will be skipped and what to install. Returns whether
 * kcat is available; it never throws.
 */
export function installKcatIfMissing(log: (line: string) => void = console.log): boolean {
  if (kcatMissing() === false) return true
  installDebianPackages(['kcat'], log)
  kcatChecked = null
  if (kcatMissing() === false) return true
  log(
    'kcat not found: the integration tests that read records back with kcat will be skipped. ' +
      `Install it to run them: ${KCAT_INSTALL}.`,
  )
  return false
}

// One header line with the lengths, then exactly K key bytes and S value bytes, with no terminator:
// the lengths make binary keys and values (newlines, NULs, anything) unambiguous, and -1 marks null.
const KCAT_FORMAT = '%p %o %T %K %S %h\n%k%s'

/**
 * Parses output of `kcat -f '%p %o %T %K %S %h\n%k%s'`. Headers come from kcat's `%h`, which prints
 * `k1=v1,k2=v2` without escaping, so header keys and values are assumed to be printable text without
 * `,`, `=` or newlines (a header's value is split at the first `=`). Exported for unit tests.
 */
export function parseKcatOutput(out: Buffer): KcatRecord[] {
  const records: KcatRecord[] = []
  let pos = 0
  while (pos < out.length) {
    const nl = out.indexOf(0x0a, pos)
    if (nl < 0) throw new Error(`kcat output: truncated header line at byte ${pos}`)
    const line = out.toString('utf8', pos, nl)
    pos = nl + 1
    const fields = line.split(' ')
    if (fields.length < 5) throw new Error(`kcat output: bad header line ${JSON.stringify(line)}`)
    const [p, o, t, k, s] = fields.slice(0, 5).map(Number) as [number, number, number, number, number]
    const headerText = fields.slice(5).join(' ')
    const take = (len: number): Buffer | null => {
      if (len < 0) return null
      if (pos + len > out.length) throw new Error(`kcat output: record at offset ${o} is truncated`)
      const b = Buffer.from(out.subarray(pos, pos + len))
      pos += len
      return b
    }
    const key = take(k)
    const value = take(s)
    const headers: [string, Buffer][] =
      headerText.length === 0
        ? []
        : headerText.split(',').map((kv): [string, Buffer] => {
            const eq = kv.indexOf('=')
            return eq < 0 ? [kv, Buffer.alloc(0)] : [kv.slice(0, eq), Buffer.from(kv.slice(eq + 1), 'utf8')]
          })
    records.push({ partition: p, offset: o, timestamp: t, key, value, headers })
  }
  return records
}

/**
 * Produces `lines` with kcat (librdkafka's producer, so its partitioners place the records) and resolves
 * once kcat has exited cleanly, which it does only when every record was delivered.
 */
export async function kcatProduce(opts: KcatProduceOptions): Promise<void> {
  ensureKcat()
  if (opts.lines.some((l) => l.includes('\n'))) throw new Error('kcatProduce: a line contains a newline')
  const args = ['-P', '-q', '-b', opts.bootstrapServers, '-t', opts.topic]
  if (opts.keyDelimiter !== undefined) args.push('-K', opts.keyDelimiter)
  args.push(...repeated('-X', opts.properties))
  const child = spawnTracked('kcat', args, ['pipe', 'pipe', 'pipe'])
  const stdin = opts.lines.length === 0 ? '' : `${opts.lines.join('\n')}\n`
  const r = await run(child, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, stdin)
  if (r.code !== 0) throw new Error(describe(`kcat ${args.join(' ')}`, r))
}

/**
 * Reads up to `count` records from the beginning of `topic` with kcat, stopping at the end of the topic
 * (`-e`), so produce first. Records of different partitions are in kcat's arrival order.
 */
export async function kcatConsume(opts: KcatConsumeOptions): Promise<KcatRecord[]> {
  ensureKcat()
  const args = ['-C', '-q', '-b', opts.bootstrapServers, '-t', opts.topic, '-o', 'beginning', '-e']
  args.push('-c', String(opts.count), '-f', KCAT_FORMAT)
  const child = spawnTracked('kcat', args, ['ignore', 'pipe', 'pipe'])
  const r = await run(child, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  if (r.code !== 0) throw new Error(describe(`kcat ${args.join(' ')}`, r))
  return parseKcatOutput(r.stdout)
}

/**
 * Reads until at least `count` records are there or `timeoutMs` passes, and returns what it read.
 * For records whose producer gets no acknowledgement (acks=0): "sent" says nothing about when the
 * broker has appended them, so a single read right after sending can race the broker.
 */
export async function kcatConsumeAtLeast(opts: KcatConsumeOptions, waitMs = 15_000): Promise<KcatRecord[]> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const got = await kcatConsume(opts)
    if (got.length >= opts.count || Date.now() >= deadline) return got
    await new Promise((r) => setTimeout(r, 250))
  }
}
