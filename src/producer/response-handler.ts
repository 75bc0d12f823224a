import type { Metadata } from '../cluster/metadata.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import { UnwrittenRequestError } from '../network/connection.js'
import type { ProduceResponse } from '../protocol/index.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { Accumulator } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import type { IdempotenceState } from './idempotence.js'
import type { Instrumentation } from '../observability/events.js'
import { CONCURRENT_TRANSACTIONS_BACKOFF_MS } from '../transactions/index.js'

/** What a completed batch reports to the producer, which turns it into per-record reports. */
export type BatchOutcome =
  { ok: true; baseOffset: number; logAppendTime: number } | { ok: false; error: KafkaError }

export type BatchDone = (batch: ProducerBatch, outcome: BatchOutcome) => void

export interface ResponseHandlerDeps {
  clock: Clock
  random: RandomSource
  retries: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  accumulator: Accumulator
  metadata: Pick<Metadata, 'requestUpdate'>
  idempotence: IdempotenceState | null
  /** A transactional producer (INVALID_PRODUCER_EPOCH from a leader fails the transaction only). */
  transactional: boolean
  onBatchDone: BatchDone
  /** Asks the sender for a pass (something may be sent now). */
  wakeup: () => void
  /** Emits batch.answered and batch.retried (only when someone listens). */
  events: Instrumentation
}

/** Errors after which the leader we used is probably wrong: refresh metadata before retrying. */
const STALE_METADATA_CODES = new Set([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_ID,
])

/** The broker's answer to a batch over its max.message.bytes (RecordTooLargeException in Java). */
const MESSAGE_TOO_LARGE = ErrorCode.MESSAGE_TOO_LARGE

/**
 * A broker closes the connection when a request is over its socket.request.max.bytes (100 MiB by
 * default), as soon as it has read the size. A request at least this large that loses its
 * connection before it was fully written counts towards that diagnosis; smaller ones are too
 * small to be refused that way by any sensible broker setting and are retried as usual.
 */
const LARGE_REQUEST_BYTES = 1024 * 1024
/** Unwritten large requests after which a batch sent alone is split, or fails if it is one record. */
export const MAX_UNWRITTEN_CLOSES = 3

/**
 * What happens to batches once they were sent: the answer to a Produce request (complete, retry
 * with backoff, split a batch the broker finds too large, the idempotence verdicts), a request
 * that failed (lost connection, timeout), and the end of a batch's life (expiry, failure). The
 * sender sends; this decides what an answer means. It is the only code that gives a batch its
 * outcome, so every record gets exactly one report.
 */
export class ResponseHandler {
  constructor(private readonly deps: ResponseHandlerDeps) {}

  onResponse(batches: ProducerBatch[], res: ProduceResponse, nodeId: number): void {
    const events = this.deps.events
    const answered = events.has('batch.answered')
    const now = answered ? this.deps.clock.now() : 0
    const byKey = new Map<string, ProducerBatch>()
    for (const b of batches) byKey.set(`${b.partition}\u0000${b.topic}`, b)
    let refresh = false
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        const key = `${p.index}\u0000${t.name}`
        const b = byKey.get(key)
        if (!b) continue
        byKey.delete(key)
        // Expired or failed (fatal error, close) while in flight: it has its outcome already.
        if (!b.inFlight) continue
        if (answered) {
          events.emit('batch.answered', {
            nodeId,
            topic: b.topic,
            partition: b.partition,
            records: b.count,
            errorCode: p.errorCode,
            latencyMs: b.sentAt >= 0 ? now - b.sentAt : 0,
          })
        }
        if (p.errorCode === 0) {
          this.deps.idempotence?.onAcked(b)
          this.complete(b, Number(p.baseOffset), Number(p.logAppendTimeMs))
          continue
        }
        if (p.errorCode === MESSAGE_TOO_LARGE && b.count > 1) {
          this.splitTooLarge(b)
          continue
        }
        if (STALE_METADATA_CODES.has(p.errorCode)) refresh = true
        const detail = p.errorMessage ?? p.recordErrors?.map((e) => e.batchIndexErrorMessage).find((m) => m)
        const err = KafkaError.fromKafkaCode(
          p.errorCode,
          `produce to ${b.topic}[${b.partition}]${detail ? `: ${detail}` : ''}`,
        )
        if (this.deps.idempotence) this.onIdempotentError(b, err)
        else this.retryOrFail(b, err)
      }
    }
    // A partition missing from the response is a broker bug; treat it as a retriable failure.
    for (const b of byKey.values()) {
      this.retryOrFail(
        b,
        new KafkaError('_BAD_MSG', `no response for ${b.topic}[${b.partition}]`, { retriable: true }),
      )
    }
    if (refresh) this.deps.metadata.requestUpdate()
    this.deps.wakeup()
  }

  /**
   * The broker refused a batch as larger than its max.message.bytes (a compressed batch can come
   * out bigger than its estimate): its records go back to the queue in smaller batches, as Java's
   * Sender does, instead of failing. Not counted as a retry. An idempotent batch's parts keep its
   * sequence range, so batches behind it (answered OUT_OF_ORDER_SEQUENCE_NUMBER meanwhile) are
   * retried after them as usual.
   */
  private splitTooLarge(big: ProducerBatch): void {
    big.moveTo('done') // its records go on in the parts
    const parts = this.deps.accumulator.splitAndReenqueue(big)
    // isCurrent holds here (an epoch bump waits until no request is in flight); checked anyway so
    // that a stale stamp is never copied: unstamped parts get fresh sequences at drain.
    if (this.deps.idempotence && big.stamped && this.deps.idempotence.isCurrent(big))
      this.deps.idempotence.stampSplit(big, parts)
  }

  /** Produce errors of an idempotent producer, by the rules the broker applies (see idempotence.ts). */
  private onIdempotentError(b: ProducerBatch, err: KafkaError): void {
    const idem = this.deps.idempotence!
    switch (idem.classify(b, err.kafkaCode ?? -1)) {
      case 'duplicate':
        // The broker already has this batch (written by an earlier attempt): delivered, but the
        // broker does not say at which offset.
        idem.onAcked(b)
        this.complete(b, -1, -1)
        return
      case 'retry':
        this.retryOrFail(
          b,
          new KafkaError(err.code, err.message, { kafkaCode: err.kafkaCode, retriable: true }),
        )
        return
      case 'bump':
        idem.requestBump(err)
        this.retryOrFail(
          b,
          new KafkaError(err.code, err.message, { kafkaCode: err.kafkaCode, retriable: true }),
        )
        return
      case 'fatal':
        if (this.deps.transactional && err.kafkaCode === ErrorCode.INVALID_PRODUCER_EPOCH) {
          // KIP-588: from a partition leader this fails the transaction, not the producer: its
          // abort asks the coordinator, which says PRODUCER_FENCED if another instance took over.
          this.retryOrFail(
            b,
            new KafkaError(
              err.code,
              `${err.message}: the partition leader refused this producer's epoch; another producer with ` +
                `the same transactional.id may have fenced it. Abort the transaction: the coordinator ` +
                `then says PRODUCER_FENCED (fatal) if so`,
              { kafkaCode: err.kafkaCode, retriable: false, txnRequiresAbort: true },
            ),
          )
          return
        }
        idem.setFatal(new KafkaError(err.code, err.message, { kafkaCode: err.kafkaCode, fatal: true }))
        b.moveTo('ready') // failed with every other batch by the fatal error
        this.deps.wakeup()
        return
      default:
        this.retryOrFail(b, err)
    }
  }

  onRequestError(batches: ProducerBatch[], err: KafkaError): void {
    // The connection is gone or timed out; the leader may have moved with it.
    this.deps.metadata.requestUpdate()
    if (err instanceof UnwrittenRequestError && err.requestBytes >= LARGE_REQUEST_BYTES) {
      if (batches.length === 1 && ++batches[0]!.unwrittenCloses >= MAX_UNWRITTEN_CLOSES) {
        this.onRefusedRequest(batches[0]!, err)
        this.deps.wakeup()
        return
      }
      // Several batches: each goes alone from now on, so the one too large is found.
      for (const b of batches) if (b.unwrittenCloses === 0) b.unwrittenCloses = 1
    }
    for (const b of batches) this.retryOrFail(b, err)
    this.deps.wakeup()
  }

  /**
   * The broker cut the connection MAX_UNWRITTEN_CLOSES times while a request holding only `b` was
   * being written: `b` is larger than the broker accepts in one request. Its records are split
   * into smaller batches as for MESSAGE_TOO_LARGE; a single record that large fails, with the
   * reason, instead of being resent (and its bytes copied over the network) until
   * delivery.timeout.ms.
   */
  private onRefusedRequest(b: ProducerBatch, err: UnwrittenRequestError): void {
    if (!b.inFlight) return // expired meanwhile
    if (b.count > 1) {
      this.splitTooLarge(b)
      return
    }
    if (this.deps.idempotence && b.stamped) this.deps.idempotence.requestBump()
    this.fail(
      b,
      new KafkaError(
        'MESSAGE_TOO_LARGE',
        `the broker closed the connection ${b.unwrittenCloses} times while receiving a ${err.requestBytes}-byte ` +
          `Produce request holding only this record for ${b.topic}[${b.partition}]: it is larger than the ` +
          `broker's socket.request.max.bytes (default 104857600). Lower message.max.bytes (max.request.size) ` +
          `below that limit, or raise it on the broker`,
        { retriable: false, cause: err },
      ),
    )
  }

  private retryOrFail(b: ProducerBatch, err: KafkaError): void {
    if (!b.inFlight) return // already expired
    b.moveTo('ready')
    const now = this.deps.clock.now()
    if (err.retriable && b.attempts <= this.deps.retries && now < b.deadline) {
      const events = this.deps.events
      if (events.has('batch.retried')) {
        events.emit('batch.retried', {
          topic: b.topic,
          partition: b.partition,
          records: b.count,
          error: err,
          attempt: b.attempts,
        })
      }
      b.lastError = err
      // CONCURRENT_TRANSACTIONS (KIP-890, Produce v12): the coordinator is still writing the
      // previous transaction's markers, which takes milliseconds, not retry.backoff.ms.
      const base =
        err.code === 'CONCURRENT_TRANSACTIONS'
          ? Math.min(CONCURRENT_TRANSACTIONS_BACKOFF_MS, this.deps.retryBackoffMs)
          : this.deps.retryBackoffMs
      b.retryAt = now + backoffMs(b.attempts, base, this.deps.retryBackoffMaxMs, this.deps.random)
      return
    }
    // A sent batch given up on leaves a gap in its partition's sequence (the broker did not write
    // it, or may not have): later batches would get OUT_OF_ORDER_SEQUENCE_NUMBER until they time
    // out. Bump the epoch, as for an expired batch (Java: handleFailedBatch).
    if (this.deps.idempotence && b.stamped) this.deps.idempotence.requestBump(err)
    if (err.retriable && b.attempts <= this.deps.retries) {
      this.fail(b, timedOut(b, now, err))
      return
    }
    this.fail(b, err)
  }

  expire(b: ProducerBatch, now: number): void {
    // A batch that was sent and then given up on leaves its partition's sequence unresolved: the
    // broker may or may not have it. Java bumps the epoch in that case (KIP-360) so later batches
    // do not fail with OUT_OF_ORDER_SEQUENCE_NUMBER forever.
    const err = timedOut(b, now, b.lastError)
    if (this.deps.idempotence && b.stamped) this.deps.idempotence.requestBump(err)
    this.fail(b, err)
  }

  /** Fails every batch (fatal error, close): in-flight ones too; late responses are ignored. */
  failAll(err: KafkaError): void {
    for (const q of this.deps.accumulator.queues) {
      for (const b of [...q.batches]) this.fail(b, err)
    }
  }

  /**
   * Fails every batch that is not in flight (a transaction that will be aborted, purge()) and
   * returns how many records that was. One sent on an earlier attempt may have reached the broker:
   * its report must not say it was not written, and if it is stamped its sequence is unresolved, so
   * the epoch must be bumped, as for an expired batch.
   */
  failUnsent(err: KafkaError): number {
    let records = 0
    for (const q of this.deps.accumulator.queues) {
      for (const b of [...q.batches]) {
        if (b.inFlight) continue
        records += b.count
        if (this.deps.idempotence && b.stamped) this.deps.idempotence.requestBump(err)
        this.fail(b, b.attempts > 0 ? purgedAfterSending(err, this.deps.transactional) : err)
      }
    }
    return records
  }

  complete(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    if (!b.inFlight) return // expired while in flight: its records already have an outcome
    b.moveTo('done')
    this.deps.accumulator.remove(b)
    this.deps.onBatchDone(b, { ok: true, baseOffset, logAppendTime })
  }

  fail(b: ProducerBatch, error: KafkaError): void {
    b.moveTo('done')
    this.deps.accumulator.remove(b)
    this.deps.onBatchDone(b, { ok: false, error })
  }
}

/**
 * `err` (a purge) for a batch that was sent before and awaited a retry: the broker may have written
 * it (a SIGKILLed leader's follower can have it, or an answer was lost), so unlike a batch never
 * sent it may be in the log (in a transaction being aborted, invisible to read_committed
 * consumers). Same code and flags.
 */
function purgedAfterSending(err: KafkaError, transactional: boolean): KafkaError {
  const when = transactional ? 'when its transaction was to be aborted' : 'when it was purged'
  const where = transactional ? ', where the abort keeps it invisible to read_committed consumers' : ''
  return new KafkaError(
    err.code,
    `the record was sent, but had no answer ${when}, and is not sent again: it may be in the log${where}`,
    {
      kafkaCode: err.kafkaCode,
      retriable: err.retriable,
      fatal: err.fatal,
      txnRequiresAbort: err.txnRequiresAbort,
      cause: err,
    },
  )
}

function timedOut(b: ProducerBatch, now: number, last: KafkaError | null): KafkaError {
  return new KafkaError(
    '_MSG_TIMED_OUT',
    `${b.count} record(s) for ${b.topic}[${b.partition}] not delivered within delivery.timeout.ms ` +
      `(${now - b.createdAt} ms since the batch was created, ${b.attempts} attempt(s))` +
      (last ? `; last error: ${last.code}: ${last.message}` : ''),
    last ? { cause: last } : {},
  )
}
