import type { Codec } from '../compression/index.js'
import { KafkaError, ProduceApi, type ProduceRequest, type ProduceResponse } from '../protocol/index.js'
import type { ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import type { Connection } from '../network/connection.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { Accumulator, PartitionQueue } from './accumulator.js'
import type { ProducerBatch } from './batch.js'

export interface SenderOptions {
  acks: -1 | 0 | 1
  requestTimeoutMs: number
  retries: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  maxInFlight: number
  /** Upper bound of one Produce request's size (message.max.bytes / max.request.size). */
  maxRequestBytes: number
  codec: Codec
  clock: Clock
  random: RandomSource
  /** Runs `fn` soon, after the current synchronous work (setImmediate by default). */
  schedule?: (fn: () => void) => void
}

/** What a completed batch reports to the producer, which turns it into per-record reports. */
export type BatchOutcome =
  { ok: true; baseOffset: number; logAppendTime: number } | { ok: false; error: KafkaError }

export type BatchDone = (batch: ProducerBatch, outcome: BatchOutcome) => void

/**
 * Produce v13 names topics by id (KIP-516); we address topics by name, so v12 is our newest.
 * Versions 3..12 all carry RecordBatch v2 and differ only in error reporting.
 */
const PRODUCE_MAX_VERSION = 12

/** Errors after which the leader we used is probably wrong: refresh metadata before retrying. */
const STALE_METADATA_CODES = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  56, // KAFKA_STORAGE_ERROR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
  100, // UNKNOWN_TOPIC_ID
])

/** Bytes of a Produce request besides the record batches (header, topic names, array sizes). */
const REQUEST_OVERHEAD = 128
const ZERO_UUID = Buffer.alloc(16)

/**
 * Moves batches from the accumulator to the brokers: picks the batches that may go (full,
 * lingered long enough, or flushing), groups them by partition leader, respects the in-flight
 * cap per connection, and handles responses (complete, retry with backoff, or fail). It is the
 * only code that marks batches in flight or removes them.
 *
 * It runs as a coalesced task: appends, responses, metadata updates and timers call
 * {@link wakeup}; one pass then does everything that can be done now and arms one timer for the
 * next deadline (linger, retry backoff, delivery timeout).
 */
export class Sender {
  private scheduledRun = false
  private timer: TimerHandle | null = null
  private timerAt = Infinity
  private flushing = 0
  private closed = false
  private drainCursor = 0
  private readonly schedule: (fn: () => void) => void

  constructor(
    private readonly opts: SenderOptions,
    private readonly accumulator: Accumulator,
    private readonly metadata: Metadata,
    private readonly pool: ConnectionPool,
    private readonly onBatchDone: BatchDone,
  ) {
    this.schedule = opts.schedule ?? ((fn) => setImmediate(fn))
  }

  /** Asks for a pass soon; many calls before it runs cost one pass. */
  wakeup(): void {
    if (this.scheduledRun || this.closed) return
    this.scheduledRun = true
    this.schedule(() => {
      this.scheduledRun = false
      this.run()
    })
  }

  /** While flushing, every batch may go at once, regardless of linger.ms. */
  beginFlush(): void {
    this.flushing++
    this.wakeup()
  }

  endFlush(): void {
    this.flushing = Math.max(0, this.flushing - 1)
  }

  close(): void {
    this.closed = true
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = null
  }

  /** One pass. Public for deterministic tests; production code calls {@link wakeup}. */
  run(): void {
    if (this.closed) return
    const now = this.opts.clock.now()
    let nextWake = Infinity
    const byLeader = new Map<number, PartitionQueue[]>()

    for (const q of this.accumulator.queues) {
      if (q.batches.length === 0) continue
      // Delivery timeout: a batch whose deadline passed fails now, even if it is in flight (as
      // Java does); a late response for it is then ignored.
      for (let i = 0; i < q.batches.length; i++) {
        const b = q.batches[i]!
        if (b.deadline <= now) {
          this.expire(b, now)
          i--
        } else {
          nextWake = Math.min(nextWake, b.deadline)
        }
      }
      const head = this.nextToSend(q)
      if (!head) continue
      if (head.retryAt > now) {
        nextWake = Math.min(nextWake, head.retryAt)
        continue
      }
      const isLast = q.batches[q.batches.length - 1] === head
      const lingerAt = this.accumulator.lingerDeadline(head)
      if (isLast && !head.closed && this.flushing === 0 && lingerAt > now) {
        nextWake = Math.min(nextWake, lingerAt)
        continue
      }
      const leader = this.metadata.topic(q.topic)?.partitions[q.partition]?.leader ?? -1
      if (leader < 0) {
        // Woken again by the metadata update.
        this.metadata.requestUpdate()
        continue
      }
      let list = byLeader.get(leader)
      if (!list) byLeader.set(leader, (list = []))
      list.push(q)
    }

    for (const [nodeId, queues] of byLeader) {
      const conn = this.pool.ready(nodeId)
      if (!conn) {
        nextWake = Math.min(nextWake, this.connect(nodeId, now))
        continue
      }
      while (conn.inFlight < this.opts.maxInFlight) {
        const batches = this.drain(queues, now)
        if (batches.length === 0) break
        this.sendProduce(conn, batches)
      }
    }
    this.arm(nextWake, now)
  }

  /** The oldest batch of `q` that is not in flight, if it may be sent next. */
  private nextToSend(q: PartitionQueue): ProducerBatch | undefined {
    for (const b of q.batches) {
      if (!b.inFlight) return b
      // max.in.flight.requests.per.connection=1 promises ordering even across retries (Java's
      // guaranteeMessageOrder): nothing behind an in-flight batch may overtake it.
      if (this.opts.maxInFlight === 1) return undefined
    }
    return undefined
  }

  /** Starts connecting to a leader we have no connection to; returns when to look again. */
  private connect(nodeId: number, now: number): number {
    if (this.pool.isConnecting(nodeId)) return Infinity
    if (this.pool.inBackoff(nodeId)) return this.pool.retryAt(nodeId)
    const broker = this.metadata.broker(nodeId)
    if (!broker) {
      this.metadata.requestUpdate()
      return Infinity
    }
    this.pool.get(broker).then(
      () => this.wakeup(),
      () => {
        // The leader may have moved while it was unreachable.
        this.metadata.requestUpdate()
        this.wakeup()
      },
    )
    return now + this.opts.retryBackoffMs
  }

  /**
   * Takes at most one batch per partition (a partition may appear once per Produce request) up to
   * the request size limit, starting at a rotating position so that no partition starves.
   */
  private drain(queues: PartitionQueue[], now: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    let size = REQUEST_OVERHEAD
    const n = queues.length
    const start = this.drainCursor++ % n
    for (let k = 0; k < n; k++) {
      const q = queues[(start + k) % n]!
      const b = this.nextToSend(q)
      if (!b || b.retryAt > now) continue
      const isLast = q.batches[q.batches.length - 1] === b
      if (isLast && !b.closed && this.flushing === 0 && this.accumulator.lingerDeadline(b) > now) continue
      if (!b.wire) {
        b.wire = b.builder.build({
          producerId: -1n,
          producerEpoch: -1,
          baseSequence: -1,
          transactional: false,
          codec: this.opts.codec,
        })
      }
      if (out.length > 0 && size + b.wire.length > this.opts.maxRequestBytes) continue
      b.closed = true
      b.inFlight = true
      b.attempts++
      size += b.wire.length + 64
      out.push(b)
    }
    return out
  }

  private sendProduce(conn: Connection, batches: ProducerBatch[]): void {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>()
    for (const b of batches) {
      let parts = byTopic.get(b.topic)
      if (!parts) byTopic.set(b.topic, (parts = []))
      parts.push({ index: b.partition, records: b.wire! })
    }
    const req: ProduceRequest = {
      transactionalId: null,
      acks: this.opts.acks,
      timeoutMs: this.opts.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, topicId: ZERO_UUID, partitionData })),
    }
    if (this.opts.acks === 0) {
      // acks=0: the broker never answers; a record counts as delivered once written to the
      // socket, with offset -1 (at-most-once: what is lost after that is never reported).
      conn.request(ProduceApi, req, { noResponse: true, maxVersion: PRODUCE_MAX_VERSION }).then(
        () => {
          for (const b of batches) this.complete(b, -1, -1)
          this.wakeup()
        },
        (err: unknown) => this.onRequestError(batches, toKafkaError(err)),
      )
      return
    }
    conn.request(ProduceApi, req, { maxVersion: PRODUCE_MAX_VERSION }).then(
      (res) => this.onResponse(batches, res),
      (err: unknown) => this.onRequestError(batches, toKafkaError(err)),
    )
  }

  private onResponse(batches: ProducerBatch[], res: ProduceResponse): void {
    const byKey = new Map<string, ProducerBatch>()
    for (const b of batches) byKey.set(`${b.partition}\u0000${b.topic}`, b)
    let refresh = false
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        const key = `${p.index}\u0000${t.name}`
        const b = byKey.get(key)
        if (!b) continue
        byKey.delete(key)
        if (p.errorCode === 0) {
          this.complete(b, Number(p.baseOffset), Number(p.logAppendTimeMs))
          continue
        }
        if (STALE_METADATA_CODES.has(p.errorCode)) refresh = true
        const detail = p.errorMessage ?? p.recordErrors?.map((e) => e.batchIndexErrorMessage).find((m) => m)
        const err = KafkaError.fromKafkaCode(
          p.errorCode,
          `produce to ${b.topic}[${b.partition}]${detail ? `: ${detail}` : ''}`,
        )
        this.retryOrFail(b, err)
      }
    }
    // A partition missing from the response is a broker bug; treat it as a retriable failure.
    for (const b of byKey.values()) {
      this.retryOrFail(
        b,
        new KafkaError('_BAD_MSG', `no response for ${b.topic}[${b.partition}]`, { retriable: true }),
      )
    }
    if (refresh) this.metadata.requestUpdate()
    this.wakeup()
  }

  private onRequestError(batches: ProducerBatch[], err: KafkaError): void {
    // The connection is gone or timed out; the leader may have moved with it.
    this.metadata.requestUpdate()
    for (const b of batches) this.retryOrFail(b, err)
    this.wakeup()
  }

  private retryOrFail(b: ProducerBatch, err: KafkaError): void {
    if (!b.inFlight) return // already expired
    b.inFlight = false
    const now = this.opts.clock.now()
    if (err.retriable && b.attempts <= this.opts.retries && now < b.deadline) {
      b.retryAt =
        now + backoffMs(b.attempts, this.opts.retryBackoffMs, this.opts.retryBackoffMaxMs, this.opts.random)
      return
    }
    if (err.retriable && b.attempts <= this.opts.retries) {
      this.fail(b, timedOut(b, now, err))
      return
    }
    this.fail(b, err)
  }

  private expire(b: ProducerBatch, now: number): void {
    b.inFlight = false
    this.fail(b, timedOut(b, now, null))
  }

  private complete(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    if (!b.inFlight) return // expired while in flight: its records already have an outcome
    b.inFlight = false
    this.accumulator.remove(b)
    this.onBatchDone(b, { ok: true, baseOffset, logAppendTime })
  }

  private fail(b: ProducerBatch, error: KafkaError): void {
    this.accumulator.remove(b)
    this.onBatchDone(b, { ok: false, error })
  }

  private arm(at: number, now: number): void {
    if (at === Infinity) return
    if (this.timer && this.timerAt <= at && this.timerAt > now) return
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timerAt = at
    this.timer = this.opts.clock.setTimeout(
      () => {
        this.timer = null
        this.timerAt = Infinity
        this.run()
      },
      Math.max(0, at - now),
    )
  }
}

function timedOut(b: ProducerBatch, now: number, last: KafkaError | null): KafkaError {
  return new KafkaError(
    '_MSG_TIMED_OUT',
    `${b.count} record(s) for ${b.topic}[${b.partition}] not delivered within delivery.timeout.ms ` +
      `(${now - b.createdAt} ms since the batch was created, ${b.attempts} attempt(s))` +
      (last ? `; last error: ${last.message}` : ''),
    last ? { cause: last } : {},
  )
}

function toKafkaError(err: unknown): KafkaError {
  return err instanceof KafkaError ? err : new KafkaError('_TRANSPORT', String(err), { cause: err })
}
