import { KafkaError } from '../errors/index.js'
import type { Producer } from '../producer/producer.js'
import type { DeliveryReport } from '../producer/record.js'
import { DeadLetterError } from './dead-letter-error.js'
import {
  buildEnvelope,
  deadLetterHeaders,
  fitEnvelope,
  recordOverhead,
  withoutValue,
  type FailedRecord,
} from './envelope.js'
import type { DeadLetterEnvelope, SpoolEntry } from './envelope-types.js'
import type { SpoolWriter } from './spool-writer.js'
import type { DeadLetterFailureHook, DeadLetterOutcome } from './types.js'

/** The counters the router moves (ReliableProducer.stats). */
export interface RouterCounters {
  routed: number
  spooled: number
  deadLetterFailures: number
}

export interface DeadLetterRouterOptions {
  /** The dead-letter producer. */
  readonly producer: Producer
  readonly topicFor: (topic: string) => string
  /** The largest dead-letter record the topic takes: the lower of message.max.bytes and deadLetterMaxBytes. */
  readonly maxBytes: number
  readonly now: () => number
  readonly newId: () => string
  readonly onFailure: DeadLetterFailureHook | undefined
  readonly spool: SpoolWriter | null
  readonly counters: RouterCounters
}

/**
 * Where a record that failed for good goes: its envelope to the dead-letter topic; if that write
 * fails too, the failure hook and the spool; if there is no spool or it fails, a DeadLetterError
 * holding the entry, so the record is never dropped without the caller being told.
 */
export class DeadLetterRouter {
  constructor(private readonly opts: DeadLetterRouterOptions) {}

  /** Resolves with where the record went; rejects with a DeadLetterError when it went nowhere. */
  async route(rec: FailedRecord, error: KafkaError): Promise<DeadLetterOutcome> {
    const { counters } = this.opts
    const envelope = buildEnvelope(rec, error, this.opts.now())
    let topic = ''
    let failure: KafkaError
    try {
      topic = this.topicOf(rec.topic)
      const { report, truncated } = await this.write(topic, rec, envelope, error)
      counters.routed++
      return { deadLettered: true, spooled: false, dlq: report, error, truncated }
    } catch (err) {
      failure = KafkaError.wrap(err)
    }
    counters.deadLetterFailures++
    // The spool keeps the whole envelope: a local file has no max.message.bytes, and a replay needs
    // every byte of the value.
    const entry: SpoolEntry = { v: 1, id: this.opts.newId(), dlq_topic: topic, envelope }
    this.notify(entry, failure)
    const spool = this.opts.spool
    if (spool === null) throw new DeadLetterError(entry, error, failure, null)
    try {
      await spool.append(entry)
    } catch (err) {
      throw new DeadLetterError(entry, error, failure, KafkaError.wrap(err))
    }
    counters.spooled++
    return { deadLettered: false, spooled: true, error, deadLetterError: failure, id: entry.id }
  }

  private topicOf(topic: string): string {
    const name: unknown = this.opts.topicFor(topic)
    if (typeof name !== 'string') {
      throw new KafkaError(
        '_INVALID_ARG',
        `deadLetterTopic(${JSON.stringify(topic)}) did not return a string`,
      )
    }
    return name
  }

  /**
   * Writes the envelope, cut to the limit we know. The dead-letter topic's own max.message.bytes
   * may be lower still: on MESSAGE_TOO_LARGE it goes once more with no value at all (flagged
   * truncated), since the metadata alone is what an operator needs to find the record.
   */
  private async write(
    topic: string,
    rec: FailedRecord,
    full: DeadLetterEnvelope,
    error: KafkaError,
  ): Promise<{ report: DeliveryReport; truncated: boolean }> {
    const headers = deadLetterHeaders(rec, error)
    const send = (env: DeadLetterEnvelope): Promise<DeliveryReport> =>
      this.opts.producer.send({ topic, key: rec.key, value: JSON.stringify(env), headers })
    const fitted = fitEnvelope(full, rec.value, recordOverhead(rec.key, headers), this.opts.maxBytes)
    try {
      return { report: await send(fitted), truncated: fitted.original_value_truncated }
    } catch (err) {
      const emptied = fitted.original_value_truncated && fitted.original_value === ''
      if (!(err instanceof KafkaError) || err.code !== 'MESSAGE_TOO_LARGE' || !rec.value?.length || emptied) {
        throw err
      }
      return { report: await send(withoutValue(full, rec.value)), truncated: true }
    }
  }

  private notify(entry: SpoolEntry, error: KafkaError): void {
    const hook = this.opts.onFailure
    if (!hook) return
    try {
      const r = hook(entry, error)
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, () => {})
    } catch {
      // A failing hook must not lose the record: the spool comes next either way.
    }
  }
}
