// The delivery report and its callback. They live in config/ because a configuration holds such a
// callback (dr_msg_cb / dr_cb / on_delivery) and config/ is below producer/; the producer's produce()
// callback is the same type (src/producer/record.ts re-exports both), so the global callback and the
// per-record one receive the same report.
import type { KafkaError } from '../errors/index.js'

export interface DeliveryReport {
  topic: string
  /** -1 when the record failed before a partition was chosen. */
  partition: number
  /**
   * Offset of the record in its partition; -1 with acks=0, when delivery failed, or when the
   * broker acknowledged the batch as a duplicate of one it already had (it does not say where).
   */
  offset: number
  /** The record's timestamp (the broker's log-append time on topics configured for it). */
  timestamp: number
  /**
   * The key and value as sent (strings UTF-8 encoded). For a batched record these (and `headers`)
   * are read from the sent batch on first access and cached, so a callback that never reads them
   * costs nothing for them; they are getters on the report's prototype, which `{ ...report }`,
   * Object.keys and deepEqual do not see (JSON.stringify does). They are views of the batch's
   * bytes, not the Buffers you passed: equal content, and copy them (Buffer.from) if you keep many
   * reports around, so that the batch's memory can be freed.
   *
   * Records of about half a MiB and more (a batch of 512 KiB or more): after a successful delivery
   * the batch's memory is reused once its callbacks return, unless a callback read a key or value
   * of it. Read them in the callback (what you read stays valid); read later, they throw
   * `_STATE`. send()'s report and a failed record's report always keep them.
   */
  key: Buffer | null
  value: Buffer | null
  /** In wire order; repeated keys are kept. */
  headers: ReadonlyArray<readonly [string, Buffer | null]>
}

/**
 * Called exactly once per accepted record: `err` is null on success. The type of produce()'s
 * callback and of the `dr_msg_cb` configuration key alike.
 */
export type DeliveryCallback = (err: KafkaError | null, report: DeliveryReport) => void
