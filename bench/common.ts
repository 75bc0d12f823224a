// Shared by the bench driver (run.ts) and the per-client runners (clients/*.ts): the workload a runner
// is handed, the result line it prints, the payloads everyone sends and a small latency histogram.

export type WorkloadId =
  'W1' | 'W1S' | 'W1P' | 'W2' | 'W3' | 'W4' | 'W5' | 'W1O' | 'W5O' | 'W6' | 'W7' | 'W7G'
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** How a workload's clients reach the broker when it is secured (W1S); the results JSON holds this. */
export interface SecuritySpec {
  protocol: 'SASL_SSL'
  mechanism: 'SCRAM-SHA-512'
  /** The broker's certificate is checked against the harness's CA and the host name (localhost). */
  hostnameVerification: true
}

/**
 * SecuritySpec with what the driver fills in per run: the CA and the SASL user. Runners get it in the
 * workload JSON; it never goes into results (the password is random per broker, still it stays out).
 */
export interface WorkloadSecurity extends SecuritySpec {
  /** PEM file of the CA that signed the broker's certificate. */
  caPath: string
  caPem: string
  username: string
  password: string
}

/** What a runner is told to do (passed as JSON in argv[2]). */
export interface Workload {
  id: WorkloadId
  bootstrapServers: string
  topic: string
  partitions: number
  records: number
  recordSize: number
  keyed: boolean
  acks: 'all'
  idempotence: boolean
  compression: Compression
  lingerMs: number
  /** Bytes per partition batch; null = the client's default. */
  batchSize: number | null
  /** Fixed send rate in records/s (W3); null = as fast as the client goes. */
  rate: number | null
  /** W4: records per transaction (transactions = records / txnSize). */
  txnSize?: number
  /** W1S: bootstrapServers is the SASL_SSL listener and every client authenticates with this. */
  security?: WorkloadSecurity
  /** W7: the topic's configs (max.message.bytes for 1 MiB records). */
  topicConfigs?: Record<string, string>
  /** W7: every client's largest request/record (Java's max.request.size, ours the same key). */
  maxRequestBytes?: number
  /**
   * Our client only: `off` = statistics and metrics recording both off; `on` = stats_cb every second
   * (the JSON parsed, as an application would) and metrics on, scraped every second.
   */
  observability?: 'off' | 'on'
  /**
   * Java, W1-W3: `ProducerPerformance` for Kafka's own tool (unkeyed records, an extra row); otherwise
   * bench/java/ProducerLoad.java, which sends exactly our records.
   */
  javaTool?: 'ProducerPerformance'
  /** W1O/W5O: the runner does this many off/on/control groups of the workload itself, in one process. */
  observabilityPairs?: number
}

/** One run of a W1O/W5O pair (the runner's `observabilityRuns`). */
export interface ObservabilityRun {
  /** `control`: off again, the A/A run that shows the measurement's noise. */
  mode: 'off' | 'on' | 'control'
  pair: number
  msgsPerSec: number
  /** CPU seconds of the runner's process during the run's timed part, in ms. */
  cpuMs: number
  result: ClientResult
}

/** The one JSON line a runner prints on stdout. */
export interface ClientResult {
  client: string
  workload: WorkloadId
  records: number
  delivered: number
  errors: number
  /** Wall time from the first produce call to the last delivery, ms. */
  elapsedMs: number
  msgsPerSec: number
  mbPerSec: number
  p50Ms: number | null
  p99Ms: number | null
  p999Ms: number | null
  maxMs: number | null
  peakRssMb: number
  cpuMs: number
  /** The first error seen, and anything else worth a footnote (deviations from the workload). */
  firstError?: string
  notes?: string[]
  /** W1O/W5O: every run of the off/on pairs. */
  observabilityRuns?: ObservabilityRun[]
}

export const RESULT_PREFIX = 'BENCH_RESULT '

/**
 * Log-bucketed latency histogram (1% buckets from 1 µs up), so a million samples cost a few KiB and
 * every client pays the same for measuring. Values in ms.
 */
export class Histogram {
  private static readonly BASE = Math.log(1.01)
  private readonly counts = new Float64Array(2200)
  count = 0
  max = 0

  record(ms: number): void {
    const us = Math.max(1, ms * 1000)
    const i = Math.min(this.counts.length - 1, Math.floor(Math.log(us) / Histogram.BASE))
    this.counts[i]!++
    this.count++
    if (ms > this.max) this.max = ms
  }

  /** The value at quantile q (0..1), ms; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null
    const target = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      // Upper edge of the bucket: a conservative estimate (at most 1% high).
      if (seen >= target) return Math.min(this.max, Math.exp((i + 1) * Histogram.BASE) / 1000)
    }
    return this.max
  }
}

/**
 * A pool of distinct JSON-like values of exactly `size` bytes (ASCII): the workloads send JSON-like
 * events, as applications do, rather than random or repeated bytes, whose compression ratio would say
 * nothing. Runners cycle through the pool, so every client sends the same bytes with the same
 * compressibility.
 */
export function makePayloads(size: number, n = payloadCount(size)): Buffer[] {
  const actions = ['click', 'view', 'purchase', 'login', 'logout', 'search']
  const out: Buffer[] = []
  let seed = 12345
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  for (let i = 0; i < n; i++) {
    const head =
      `{"id":${100000 + i},"user":"u-${Math.floor(rand() * 1e6)}","action":"${actions[i % actions.length]}",` +
      `"ts":${1700000000000 + i * 37},"pad":"`
    // head + pad + '"}', cut to `size`: the pad bytes written in place (W7's values are 1 MiB).
    const b = Buffer.alloc(size, 0x20)
    let pos = b.write(head.slice(0, size), 'latin1')
    const padEnd = Math.max(pos, size - 2)
    for (; pos < padEnd; pos++) b[pos] = alphabet.charCodeAt(Math.floor(rand() * alphabet.length))
    b.write('"}'.slice(0, size - pos), pos, 'latin1')
    out.push(b)
  }
  return out
}

/** How many values the pool has: 1,000, fewer for large values (16 MiB of them at most, W7). */
export function payloadCount(size: number): number {
  return Math.max(4, Math.min(1000, Math.floor((16 * 1024 * 1024) / size)))
}

/**
 * Records per send() call for the clients without an accumulator (kafkajs, platformatic): 1,000, or
 * as many as fit in one request of `maxRequestBytes` (W7's 1 MiB values: 3), since such a call goes
 * out as one Produce request.
 */
export function recordsPerCall(w: Workload): number {
  if (w.maxRequestBytes === undefined) return 1000
  return Math.max(1, Math.min(1000, Math.floor(w.maxRequestBytes / (w.recordSize + 1024))))
}

export function keyFor(i: number): string {
  return `key-${i % 10000}`
}

/** Builds the result from a histogram, the record counts and the runner's own resource usage. */
export function finishResult(
  client: string,
  w: Workload,
  h: Histogram,
  delivered: number,
  errors: number,
  elapsedMs: number,
  extra: { firstError?: string; notes?: string[] } = {},
): ClientResult {
  const ru = process.resourceUsage()
  const secs = elapsedMs / 1000
  return {
    client,
    workload: w.id,
    records: w.records,
    delivered,
    errors,
    elapsedMs: Math.round(elapsedMs),
    msgsPerSec: secs > 0 ? delivered / secs : 0,
    mbPerSec: secs > 0 ? (delivered * w.recordSize) / 1e6 / secs : 0,
    p50Ms: h.quantile(0.5),
    p99Ms: h.quantile(0.99),
    p999Ms: h.quantile(0.999),
    maxMs: h.count ? h.max : null,
    peakRssMb: ru.maxRSS / 1024,
    cpuMs: (ru.userCPUTime + ru.systemCPUTime) / 1000,
    ...extra,
  }
}

export function printResult(r: ClientResult): void {
  process.stdout.write(RESULT_PREFIX + JSON.stringify(r) + '\n')
}

/** Parses argv[2] and hands back the workload; prints a failure result on an uncaught error. */
export function readWorkload(): Workload {
  const raw = process.argv[2]
  if (!raw) throw new Error('usage: node <runner>.js <workload JSON>')
  return JSON.parse(raw) as Workload
}

/** Reports progress on stderr as `PROGRESS <delivered>` at most every 250 ms (the driver draws it). */
export function progressReporter(): (delivered: number) => void {
  let last = 0
  return (delivered) => {
    const now = Date.now()
    if (now - last < 250) return
    last = now
    process.stderr.write(`PROGRESS ${delivered}\n`)
  }
}

/** Paces a fixed-rate loop: resolves when record `i` is due at `rate` records/s from `start`. */
export function dueAt(start: number, i: number, rate: number): number {
  return start + (i * 1000) / rate
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)))
}

export function errMessage(e: unknown): string {
  if (e instanceof Error) return `${(e as { code?: unknown }).code ?? e.name}: ${e.message}`
  return String(e)
}

/** Peer packages are installed outside the repo; runners import them from this directory. */
export function peersDir(): string {
  const d = process.env.BENCH_PEERS_DIR
  if (!d) throw new Error('BENCH_PEERS_DIR is not set (run through bench/run.js)')
  return d
}

export interface BatchedRunOptions {
  /** Records per send() call in throughput mode. */
  batchRecords: number
  /** send() calls allowed in flight at once. */
  concurrency: number
}

/**
 * The loop for promise-per-call clients without a linger accumulator (kafkajs, platformatic): in
 * throughput mode it builds batches of `batchRecords` and keeps up to `concurrency` send() calls in
 * flight; in fixed-rate mode (W3) every record is its own send() at its due time. A record's latency
 * is from the send() call that carries it until that call resolves.
 */
export async function runBatched(
  client: string,
  w: Workload,
  send: (messages: { key: string | null; value: Buffer }[]) => Promise<unknown>,
  opts: BatchedRunOptions,
  notes: string[],
): Promise<ClientResult> {
  const payloads = makePayloads(w.recordSize)
  const h = new Histogram()
  const progress = progressReporter()
  let delivered = 0
  let errors = 0
  let firstError: string | undefined
  const inflight = new Set<Promise<void>>()
  const start = performance.now()
  let end = start
  const launch = (from: number, n: number): void => {
    const messages: { key: string | null; value: Buffer }[] = []
    for (let i = from; i < from + n; i++) {
      messages.push({ key: w.keyed ? keyFor(i) : null, value: payloads[i % payloads.length]! })
    }
    const t0 = performance.now()
    const p: Promise<void> = send(messages).then(
      () => {
        const now = performance.now()
        for (let k = 0; k < n; k++) h.record(now - t0)
        delivered += n
        end = now
      },
      (e: unknown) => {
        errors += n
        firstError ??= errMessage(e)
        end = performance.now()
      },
    )
    const tracked = p.finally(() => {
      inflight.delete(tracked)
      progress(delivered + errors)
    })
    inflight.add(tracked)
  }
  if (w.rate !== null) {
    for (let i = 0; i < w.records; i++) {
      const due = dueAt(start, i, w.rate)
      const now = performance.now()
      if (due > now + 1) await sleep(due - now)
      launch(i, 1)
    }
  } else {
    for (let i = 0; i < w.records; i += opts.batchRecords) {
      while (inflight.size >= opts.concurrency) await Promise.race(inflight)
      launch(i, Math.min(opts.batchRecords, w.records - i))
    }
  }
  await Promise.all(inflight)
  return finishResult(client, w, h, delivered, errors, end - start, { firstError, notes })
}

/** The note every W4 result carries: its p50/p99/p999 are per transaction, not per record. */
export const W4_LATENCY_NOTE = 'W4 latency = per-transaction begin→commit'

/** W4: a transactional.id unique to this run (`bench-<client>-<pid>`), so no run fences another. */
export function transactionalIdFor(client: string, pid: number = process.pid): string {
  return `bench-${client}-${pid}`
}

/** W4: how many transactions a workload asks for (records / txnSize). */
export function transactionCount(w: Workload): number {
  return Math.ceil(w.records / (w.txnSize ?? 1))
}

/** W4 stops after this many failed transactions in a row (a fenced or broken producer fails them all). */
export const MAX_CONSECUTIVE_TXN_FAILURES = 5

/**
 * W4: a Node client stops starting transactions after this much measured time and reports what it
 * did (records/s is a rate; its note says how many transactions ran). Ours, Java and confluent finish
 * W4's 2,000 in 5-20 s; kafkajs (800-1,700 records/s here) and @platformatic/kafka (60-110: it waits
 * a second after most commits) would take 1-2 and 15-27 minutes, which kept them out of W4's runs.
 */
export const W4_TIME_BUDGET_MS = 60_000

/**
 * The W4 loop for every Node client: transactions run one after another, each of `txnSize` records
 * (keys `keyFor(i)`, values from `makePayloads`, `i` counting records across transactions). `txn` must
 * begin a transaction, send the records, commit it, and resolve once the commit is acknowledged (or
 * abort and reject). A transaction's latency is from that call (begin) to its resolution (commit
 * acknowledged); its records count as delivered only when the commit succeeded. One warm-up
 * transaction with a single record (InitProducerId, coordinator lookup, metadata) runs before the timing.
 */
export async function runTransactions(
  client: string,
  w: Workload,
  txn: (messages: { key: string | null; value: Buffer }[]) => Promise<void>,
  notes: string[],
): Promise<ClientResult> {
  const payloads = makePayloads(w.recordSize)
  const size = w.txnSize ?? 1
  const h = new Histogram()
  const progress = progressReporter()
  let delivered = 0
  let errors = 0
  let firstError: string | undefined
  let failedInARow = 0
  await txn([{ key: 'warmup', value: payloads[0]! }])
  const start = performance.now()
  let end = start
  for (let from = 0; from < w.records; from += size) {
    const n = Math.min(size, w.records - from)
    const messages: { key: string | null; value: Buffer }[] = []
    for (let i = from; i < from + n; i++) {
      messages.push({ key: w.keyed ? keyFor(i) : null, value: payloads[i % payloads.length]! })
    }
    const t0 = performance.now()
    try {
      await txn(messages)
      end = performance.now()
      h.record(end - t0)
      delivered += n
      failedInARow = 0
    } catch (e) {
      end = performance.now()
      errors += n
      firstError ??= errMessage(e)
      if (++failedInARow >= MAX_CONSECUTIVE_TXN_FAILURES) {
        notes.push(`stopped after ${failedInARow} failed transactions in a row`)
        break
      }
    }
    progress(delivered + errors)
    if (end - start >= W4_TIME_BUDGET_MS && from + size < w.records) {
      notes.push(
        `stopped at the ${W4_TIME_BUDGET_MS / 1000} s budget after ${from / size + 1} of ${transactionCount(w)} transactions`,
      )
      break
    }
  }
  return finishResult(client, w, h, delivered, errors, end - start, {
    firstError,
    notes: [W4_LATENCY_NOTE, ...notes],
  })
}
