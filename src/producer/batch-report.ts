import type { ProducerBatch } from './batch.js'
import type { DeliveryReport } from './record.js'

/** Reports of records without headers share one empty, frozen list. */
export const NO_HEADERS: DeliveryReport['headers'] = Object.freeze([])

/**
 * The delivery report of a record that travelled in a batch. Key, value and headers are read from
 * the batch on first access, not when the report is made: most callbacks only count outcomes or
 * read the offset, and a Buffer view per key and value per record was a tenth of the producer's
 * JavaScript time (issue 14). A read is cached, so two reads return the same Buffer, and a set
 * replaces it as on a plain object.
 *
 * The three are accessors on the prototype, so `{ ...report }`, Object.keys and Object.assign see
 * only topic, partition, offset and timestamp; toJSON() and util.inspect show all seven, in the
 * order a plain report had them.
 */
export class BatchReport implements DeliveryReport {
  // Private fields (#) rather than TypeScript's `private`: they stay out of spread, Object.keys
  // and structuredClone, so a copy never carries the batch along.
  readonly #batch: ProducerBatch
  readonly #index: number
  /** undefined until first read; key and value may be null. */
  #key: Buffer | null | undefined = undefined
  #value: Buffer | null | undefined = undefined
  #headers: DeliveryReport['headers'] | undefined = undefined

  constructor(
    batch: ProducerBatch,
    index: number,
    public topic: string,
    public partition: number,
    public offset: number,
    public timestamp: number,
  ) {
    this.#batch = batch
    this.#index = index
  }

  get key(): Buffer | null {
    return this.#key === undefined ? (this.#key = this.#batch.keyAt(this.#index)) : this.#key
  }

  set key(v: Buffer | null) {
    this.#key = v
  }

  get value(): Buffer | null {
    return this.#value === undefined ? (this.#value = this.#batch.valueAt(this.#index)) : this.#value
  }

  set value(v: Buffer | null) {
    this.#value = v
  }

  get headers(): DeliveryReport['headers'] {
    return this.#headers === undefined
      ? (this.#headers = this.#batch.headersAt(this.#index) ?? NO_HEADERS)
      : this.#headers
  }

  set headers(v: DeliveryReport['headers']) {
    this.#headers = v
  }

  /** See {@link keepPayload}. */
  static keep(report: BatchReport): void {
    report.#batch.payloadKept = true
  }

  /** A plain copy with all seven fields: what JSON.stringify of a plain report gave. */
  toJSON(): DeliveryReport {
    return {
      topic: this.topic,
      partition: this.partition,
      offset: this.offset,
      timestamp: this.timestamp,
      key: this.key,
      value: this.value,
      headers: this.headers,
    }
  }

  /** console.log shows the report as a plain one, key and value included, and not the batch. */
  [Symbol.for('nodejs.util.inspect.custom')](): DeliveryReport {
    return this.toJSON()
  }
}

/**
 * For a report handed on beyond its callback (send() resolves with it): its key and value stay
 * readable, so its batch's buffer is not reused (ProducerBatch.recycle). Returns the report.
 */
export function keepPayload(report: DeliveryReport): DeliveryReport {
  if (report instanceof BatchReport) BatchReport.keep(report)
  return report
}
