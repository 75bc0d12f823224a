import type { Metadata, TopicInfo } from '../cluster/metadata.js'
import { KafkaError, errorInfo } from '../errors/index.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { ProducerIdState } from './producer-id-manager.js'

export interface ClusterWaitOptions {
  clock: Clock
  metadata: Pick<
    Metadata,
    'refreshed' | 'lastError' | 'topic' | 'topicError' | 'addTopic' | 'removeTopic' | 'requestUpdate'
  >
  /** How long a topic the cluster says does not exist may take to appear (as for records). */
  topicMetadataPropagationMaxMs: number
  /** Where the idempotent producer's id is; null without idempotence. */
  producerId: () => { state: ProducerIdState; lastError: KafkaError | null } | null
  /** Asks the sender for a pass, which asks for a producer id when there is none. */
  wakeup: () => void
  /** Whether records wait for the topic's metadata (so it must stay of interest). */
  recordsWaitFor: (topic: string) => boolean
}

/** What one call waits for. */
export interface ClusterWaitSpec {
  /** The call, for messages: 'connect()', 'partitionsFor()'. */
  readonly call: string
  /** Topics whose metadata must be known. */
  readonly topics: readonly string[]
  /** Whether the idempotent producer's id must be there too (connect() waits for it). */
  readonly producerId: boolean
  readonly timeoutMs: number
}

interface Wait extends ClusterWaitSpec {
  readonly startedAt: number
  readonly resolve: (topics: TopicInfo[]) => void
  readonly reject: (err: KafkaError) => void
  timer: TimerHandle | null
}

/**
 * Calls that wait for the cluster: connect() (a Metadata answer, the metadata of the topics it was
 * given, the producer id when idempotence is on) and partitionsFor() (one topic's metadata). Nothing
 * polls: the producer calls {@link check} whenever its metadata or its producer id changes, and
 * each wait has one timer, for its deadline (or first for the end of
 * topic.metadata.propagation.max.ms, if that comes earlier). While a call waits, a referenced handle
 * keeps Node alive (the producer's timers are unref'd), so a script's `await producer.connect()`
 * cannot let the process end before the call settles.
 */
export class ClusterWaits {
  private readonly waits = new Set<Wait>()
  private keepAlive: NodeJS.Timeout | null = null

  constructor(private readonly opts: ClusterWaitOptions) {}

  /**
   * Resolves with the topics' metadata (in the order given) once everything `spec` asks for is
   * there; rejects as {@link outcome} says. Starts what is missing: a metadata refresh, interest in
   * the topics, a sender pass for the producer id.
   */
  wait(spec: ClusterWaitSpec): Promise<TopicInfo[]> {
    return new Promise<TopicInfo[]>((resolve, reject) => {
      const w: Wait = { ...spec, startedAt: this.opts.clock.now(), resolve, reject, timer: null }
      if (this.settle(w, false)) return
      this.waits.add(w)
      this.keepAlive ??= setInterval(() => {}, 1 << 30)
      this.arm(w)
      const md = this.opts.metadata
      for (const topic of w.topics) md.addTopic(topic)
      if (!md.refreshed) md.requestUpdate(true)
      if (w.producerId && this.opts.producerId() !== null) this.opts.wakeup()
    })
  }

  /** Metadata or the producer id changed: settles the waits that can be settled now. */
  check(): void {
    for (const w of [...this.waits]) this.settle(w, false)
  }

  /** Rejects every wait with `err` (the producer closes, or stopped on a fatal error). */
  failAll(err: KafkaError): void {
    for (const w of [...this.waits]) this.fail(w, err)
  }

  private settle(w: Wait, final: boolean): boolean {
    const out = this.outcome(w, this.opts.clock.now(), final)
    if (out === null) return false
    if (out instanceof KafkaError) this.fail(w, out)
    else {
      this.finish(w)
      w.resolve(out)
    }
    return true
  }

  /**
   * Rejects `w`, leaving no interest behind in its topics the cluster did not give us, unless
   * records or another call wait for them: a readiness probe naming a missing topic must not leave
   * the producer asking for it every retry.backoff.ms.
   */
  private fail(w: Wait, err: KafkaError): void {
    this.finish(w)
    const md = this.opts.metadata
    for (const topic of w.topics) {
      if (md.topic(topic) || this.opts.recordsWaitFor(topic)) continue
      if ([...this.waits].some((other) => other.topics.includes(topic))) continue
      md.removeTopic(topic)
    }
    w.reject(err)
  }

  /**
   * The topics' metadata when everything is there; an error when the wait is over; null to go on
   * waiting. `final`: the deadline has passed.
   *
   * - No Metadata answer yet: `_ALL_BROKERS_DOWN` at the deadline, caused by the last failed refresh.
   * - A topic with an error waiting cannot cure (TOPIC_AUTHORIZATION_FAILED,
   *   INVALID_TOPIC_EXCEPTION, invalid metadata): that error at once.
   * - A topic the cluster says does not exist: `_UNKNOWN_TOPIC` when topic.metadata.propagation.max.ms
   *   or the deadline has passed, whichever is first (a new topic takes time to reach every broker).
   * - Anything else missing at the deadline (a topic not answered for yet, the producer id):
   *   `_TIMED_OUT`, caused by the last error met.
   */
  private outcome(w: Wait, now: number, final: boolean): TopicInfo[] | KafkaError | null {
    const md = this.opts.metadata
    if (!md.refreshed) {
      if (!final) return null
      const cause = md.lastError
      return new KafkaError(
        '_ALL_BROKERS_DOWN',
        `${w.call}: no broker answered within ${w.timeoutMs} ms` + (cause ? ` (${cause.message})` : ''),
        { retriable: true, ...(cause ? { cause } : {}) },
      )
    }
    const infos: TopicInfo[] = []
    for (const topic of w.topics) {
      const info = md.topic(topic)
      if (info) {
        infos.push(info)
        continue
      }
      const err = md.topicError(topic)
      if (err && !err.retriable) {
        return new KafkaError(
          err.code,
          `${w.call}: topic ${topic} cannot be used: ${errorInfo(err.code)?.description ?? err.message}`,
          { kafkaCode: err.kafkaCode, retriable: false, cause: err },
        )
      }
      const propagationOver = now >= w.startedAt + this.opts.topicMetadataPropagationMaxMs
      if (err && (final || propagationOver)) {
        return new KafkaError(
          '_UNKNOWN_TOPIC',
          `${w.call}: topic ${topic} does not exist (still unknown after ${now - w.startedAt} ms; the ` +
            `cluster answers ${err.code})`,
          { kafkaCode: err.kafkaCode, cause: err },
        )
      }
      if (!final) return null
      return new KafkaError(
        '_TIMED_OUT',
        `${w.call}: no metadata for topic ${topic} within ${w.timeoutMs} ms`,
        {
          retriable: true,
          ...(md.lastError ? { cause: md.lastError } : {}),
        },
      )
    }
    const id = w.producerId ? this.opts.producerId() : null
    // bumpPending: the producer has its id and is only changing epochs.
    if (id !== null && id.state !== 'ready' && id.state !== 'bumpPending') {
      if (!final) return null
      return new KafkaError(
        '_TIMED_OUT',
        `${w.call}: no producer id (InitProducerId) within ${w.timeoutMs} ms` +
          (id.lastError ? ` (last error: ${id.lastError.message})` : ''),
        { retriable: true, ...(id.lastError ? { cause: id.lastError } : {}) },
      )
    }
    return infos
  }

  /** One timer per wait: at its deadline, or first at the end of the topics' propagation time. */
  private arm(w: Wait): void {
    const clock = this.opts.clock
    const now = clock.now()
    const deadline = w.startedAt + w.timeoutMs
    const propagationEnd = w.startedAt + this.opts.topicMetadataPropagationMaxMs
    const at =
      w.topics.length > 0 && now < propagationEnd && propagationEnd < deadline ? propagationEnd : deadline
    w.timer = clock.setTimeout(
      () => {
        w.timer = null
        if (!this.settle(w, clock.now() >= deadline)) this.arm(w)
      },
      Math.max(0, at - now),
    )
  }

  private finish(w: Wait): void {
    this.waits.delete(w)
    if (w.timer) this.opts.clock.clearTimeout(w.timer)
    w.timer = null
    if (this.waits.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive)
      this.keepAlive = null
    }
  }
}
