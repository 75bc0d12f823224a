import { ErrorCode, KafkaError } from '../errors/index.js'
import { MetadataApi, type MetadataResponse } from '../protocol/index.js'
import type { Connection } from '../network/connection.js'
import type { Instrumentation, MetadataUpdatedEvent } from '../observability/events.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { BrokerAddress, ConnectionPool } from './connection-pool.js'

export interface PartitionInfo {
  readonly partition: number
  /** Leader node id, -1 when the partition has no leader right now. */
  readonly leader: number
  readonly leaderEpoch: number
  readonly errorCode: number
}

export interface TopicInfo {
  readonly name: string
  readonly partitions: readonly PartitionInfo[]
  /** Partitions that have a leader (what sticky and custom partitioners choose from). */
  readonly available: readonly number[]
}

export interface MetadataOptions {
  bootstrap: readonly { host: string; port: number }[]
  metadataMaxAgeMs: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  allowAutoTopicCreation: boolean
  clock: Clock
  random: RandomSource
  /** Called after every successful refresh (the sender re-checks leaders, pending topics move on). */
  onUpdate: () => void
  /** Reports a refresh that reached no broker at all (`_ALL_BROKERS_DOWN`). */
  onError?: (err: KafkaError) => void
  /** Hears `metadata.updated` after each answer applied (debug logging's metadata and topic contexts). */
  instrumentation?: Instrumentation
}

/** Topic errors that mean "this topic is not (yet) there"; we keep waiting within a bound for them. */
const TOPIC_MISSING_CODES = new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.LEADER_NOT_AVAILABLE])
/** Metadata v13 uses the same body as v12; v12 is the newest we need. */
const METADATA_MAX_VERSION = 12

/**
 * The cluster as the producer sees it: brokers, and for each topic in use its partitions and
 * leaders. Refreshes are coalesced (one request at a time for all topics in use), happen on
 * demand after a leader error or an unknown topic (no more often than the retry backoff allows),
 * and at least every metadata.max.age.ms.
 */
export class Metadata {
  readonly brokers = new Map<number, BrokerAddress>()
  private readonly topics = new Map<string, TopicInfo>()
  private readonly topicErrors = new Map<string, KafkaError>()
  private readonly interest = new Set<string>()
  private inProgress: Promise<void> | null = null
  private scheduled: TimerHandle | null = null
  private scheduledAt = Infinity
  private ageTimer: TimerHandle | null = null
  private lastRefreshAttempt = 0
  private failedRefreshes = 0
  private hasRefreshed = false
  private lastFailure: KafkaError | null = null
  private closed = false
  private readonly bootstrap: BrokerAddress[]
  private brokerCursor = 0

  constructor(
    private readonly opts: MetadataOptions,
    private readonly pool: ConnectionPool,
  ) {
    // Bootstrap addresses get ids -1, -2, … until the cluster tells us the real ones.
    this.bootstrap = opts.bootstrap.map((b, i) => ({ nodeId: -(i + 1), host: b.host, port: b.port }))
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name)
  }

  /** The last error the cluster reported for `name` (e.g. UNKNOWN_TOPIC_OR_PARTITION), if any. */
  topicError(name: string): KafkaError | undefined {
    return this.topicErrors.get(name)
  }

  /** Topics in the metadata cache (statistics' metadata_cache_cnt). */
  get topicCount(): number {
    return this.topics.size
  }

  broker(nodeId: number): BrokerAddress | undefined {
    return this.brokers.get(nodeId)
  }

  /** Whether the cluster has answered a Metadata request yet (bootstrap is done). */
  get refreshed(): boolean {
    return this.hasRefreshed
  }

  /**
   * Why the last refresh failed (`_ALL_BROKERS_DOWN`, with the last broker's error as `cause`), or
   * null when the last refresh succeeded or none has ended yet.
   */
  get lastError(): KafkaError | null {
    return this.lastFailure
  }

  /** Adds a topic to the set we keep metadata for; an unknown one triggers a refresh now. */
  addTopic(name: string): void {
    if (this.interest.has(name)) return
    this.interest.add(name)
    if (!this.topics.has(name)) this.requestUpdate(true)
  }

  /**
   * Stops keeping metadata for a topic the cluster has not given us (a caller that waited for it gave
   * up): otherwise a missing topic is asked for again every retry.backoff.ms, for ever. Its last
   * error is forgotten too, so a later wait for it hears a fresh answer.
   */
  removeTopic(name: string): void {
    if (this.topics.has(name)) return
    this.interest.delete(name)
    this.topicErrors.delete(name)
  }

  /**
   * Asks for a refresh soon. Not before the retry backoff since the last attempt has passed, so a
   * flapping leader cannot turn into a metadata storm (Java: retry.backoff.ms between updates).
   */
  requestUpdate(urgent = false): void {
    if (this.closed) return
    const now = this.opts.clock.now()
    const wait =
      this.failedRefreshes > 0
        ? backoffMs(
            this.failedRefreshes,
            this.opts.retryBackoffMs,
            this.opts.retryBackoffMaxMs,
            this.opts.random,
          )
        : urgent && !this.hasRefreshed
          ? 0
          : this.opts.retryBackoffMs
    const at = Math.max(now, this.lastRefreshAttempt + wait)
    if (this.scheduled && this.scheduledAt <= at) return
    if (this.scheduled) this.opts.clock.clearTimeout(this.scheduled)
    this.scheduledAt = at
    this.scheduled = this.opts.clock.setTimeout(() => {
      this.scheduled = null
      this.scheduledAt = Infinity
      void this.refresh()
    }, at - now)
  }

  /** Refreshes now (joins a refresh already running). Never rejects: failures are reported and retried. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (this.inProgress) return this.inProgress
    this.inProgress = this.doRefresh().finally(() => {
      this.inProgress = null
    })
    return this.inProgress
  }

  private async doRefresh(): Promise<void> {
    this.lastRefreshAttempt = this.opts.clock.now()
    const topics = [...this.interest]
    let lastErr: KafkaError | null = null
    for (const broker of this.candidates()) {
      let conn: Connection
      try {
        conn = await this.pool.get(broker)
      } catch (err) {
        lastErr = err as KafkaError
        continue
      }
      try {
        const res = await conn.request(
          MetadataApi,
          {
            topics: topics.map((name) => ({ topicId: ZERO_UUID, name })),
            allowAutoTopicCreation: this.opts.allowAutoTopicCreation,
            includeClusterAuthorizedOperations: false,
            includeTopicAuthorizedOperations: false,
          },
          { maxVersion: METADATA_MAX_VERSION },
        )
        if (this.closed) return
        this.apply(res)
        const events = this.opts.instrumentation
        if (events?.has('metadata.updated'))
          events.emit('metadata.updated', this.describe(broker.nodeId, res))
        this.failedRefreshes = 0
        this.hasRefreshed = true
        this.lastFailure = null
        this.scheduleAgeRefresh()
        this.opts.onUpdate()
        if (this.hasMissingTopics()) this.requestUpdate()
        return
      } catch (err) {
        lastErr = KafkaError.wrap(err, '_TRANSPORT')
      }
    }
    if (this.closed) return
    this.failedRefreshes++
    this.lastFailure = new KafkaError(
      '_ALL_BROKERS_DOWN',
      `metadata refresh reached no broker (${this.describeCandidates()})` +
        (lastErr ? `: ${lastErr.message}` : ''),
      { retriable: true, ...(lastErr ? { cause: lastErr } : {}) },
    )
    this.opts.onError?.(this.lastFailure)
    this.opts.onUpdate()
    this.requestUpdate()
  }

  /**
   * Brokers to ask, best first: one we are connected to, then known brokers and bootstrap
   * addresses in rotation, skipping those still in reconnect backoff. If all are in backoff we try
   * the one whose backoff ends first rather than nobody.
   */
  private candidates(): BrokerAddress[] {
    const all = [...this.brokers.values(), ...this.bootstrap]
    const ready = all.filter((b) => this.pool.ready(b.nodeId))
    const start = this.brokerCursor++ % Math.max(1, all.length)
    const rotated = [...all.slice(start), ...all.slice(0, start)]
    const usable = rotated.filter((b) => !this.pool.ready(b.nodeId) && !this.pool.inBackoff(b.nodeId))
    const out = [...ready, ...usable]
    if (out.length === 0 && all.length > 0) {
      out.push([...all].sort((a, b) => this.pool.retryAt(a.nodeId) - this.pool.retryAt(b.nodeId))[0]!)
    }
    return out
  }

  private describeCandidates(): string {
    return [...this.brokers.values(), ...this.bootstrap].map((b) => `${b.host}:${b.port}`).join(', ')
  }

  /** The `metadata.updated` payload: what the answer left us with, built only when someone listens. */
  private describe(nodeId: number, res: MetadataResponse): MetadataUpdatedEvent {
    const topics: MetadataUpdatedEvent['topics'][number][] = []
    for (const t of res.topics) {
      if (t.name === null) continue
      const info = this.topics.get(t.name)
      topics.push({
        topic: t.name,
        partitions: info?.partitions.length ?? 0,
        available: info?.available.length ?? 0,
        error: this.topicErrors.get(t.name)?.code ?? null,
      })
    }
    return { nodeId, brokers: [...this.brokers.values()], topics }
  }

  private apply(res: MetadataResponse): void {
    const brokers = res.brokers.filter(validBroker)
    if (brokers.length > 0) {
      this.brokers.clear()
      for (const b of brokers) this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port })
    }
    for (const t of res.topics) {
      const name = t.name
      if (name === null) continue
      const invalid = t.errorCode === 0 ? invalidPartitions(t.partitions) : null
      if (invalid !== null) {
        // Every byte from the network is checked before it sizes anything: partitions are stored
        // at their index, and one index of 2^31-2 would make an array the process cannot survive.
        // The topic's records fail with this error (it is not retriable) instead.
        this.topicErrors.set(
          name,
          new KafkaError('_BAD_MSG', `the broker sent invalid metadata for topic ${name}: ${invalid}`, {
            retriable: false,
          }),
        )
        this.topics.delete(name)
        continue
      }
      if (t.errorCode !== 0) {
        this.topicErrors.set(name, topicError(t.errorCode, name))
        // A topic we knew keeps its last partitions while the error is a transient one.
        if (!TOPIC_MISSING_CODES.has(t.errorCode) || !this.topics.has(name)) this.topics.delete(name)
        continue
      }
      this.topicErrors.delete(name)
      const old = this.topics.get(name)
      const partitions: PartitionInfo[] = []
      for (const p of t.partitions) {
        const prev = old?.partitions[p.partitionIndex]
        // KIP-320: never go back to an older leader epoch from a stale broker's metadata.
        if (prev && prev.leaderEpoch > p.leaderEpoch && p.leaderEpoch >= 0) {
          partitions[p.partitionIndex] = prev
        } else {
          partitions[p.partitionIndex] = {
            partition: p.partitionIndex,
            // A leader the broker list does not name cannot be reached: as good as none (the
            // sender asks for fresh metadata until the leader is known).
            leader:
              p.errorCode === ErrorCode.LEADER_NOT_AVAILABLE || !this.brokers.has(p.leaderId)
                ? -1
                : p.leaderId,
            leaderEpoch: p.leaderEpoch,
            errorCode: p.errorCode,
          }
        }
      }
      this.topics.set(name, {
        name,
        partitions,
        available: partitions.filter((p) => p.leader >= 0).map((p) => p.partition),
      })
    }
  }

  private hasMissingTopics(): boolean {
    for (const t of this.interest) {
      if (!this.topics.has(t)) return true
      if (this.topics.get(t)!.available.length < this.topics.get(t)!.partitions.length) return true
    }
    return false
  }

  private scheduleAgeRefresh(): void {
    if (this.ageTimer) this.opts.clock.clearTimeout(this.ageTimer)
    this.ageTimer = this.opts.clock.setTimeout(() => {
      this.ageTimer = null
      void this.refresh()
    }, this.opts.metadataMaxAgeMs)
  }

  close(): void {
    this.closed = true
    if (this.scheduled) this.opts.clock.clearTimeout(this.scheduled)
    if (this.ageTimer) this.opts.clock.clearTimeout(this.ageTimer)
    this.scheduled = null
    this.ageTimer = null
  }
}

const ZERO_UUID = Buffer.alloc(16)

function validBroker(b: { nodeId: number; host: string; port: number }): boolean {
  return b.nodeId >= 0 && b.host.length > 0 && Number.isInteger(b.port) && b.port > 0 && b.port <= 0xffff
}

/**
 * Why a topic's partition list cannot be used, or null: the indexes must be exactly 0..n-1 for
 * the n partitions listed (in any order), as every broker sends them.
 */
function invalidPartitions(partitions: readonly { partitionIndex: number }[]): string | null {
  const n = partitions.length
  const seen = new Uint8Array(n)
  for (const p of partitions) {
    const i = p.partitionIndex
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      return `partition index ${i} with ${n} partition(s) listed (indexes must be 0 to ${n - 1})`
    }
    if (seen[i]) return `partition ${i} listed twice`
    seen[i] = 1
  }
  return null
}

/**
 * A topic's error in a Metadata answer, with a message that says what it means: `topic orders:
 * Topic authorization failed.` rather than the bare topic name, since records fail with it as it is.
 */
function topicError(code: number, topic: string): KafkaError {
  const described = KafkaError.fromKafkaCode(code)
  return KafkaError.fromKafkaCode(code, `topic ${topic}: ${described.message}`)
}
