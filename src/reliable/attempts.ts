import type { Instrumentation } from '../observability/events.js'

/**
 * How many times the producer tried to deliver a failed record, for the envelope's `attempts`, read
 * from the instrumentation seam: the delivery report does not carry it. Per partition, it keeps the
 * attempt number of the latest Produce request (`batch.sent`), and forgets it when a batch of that
 * partition is acknowledged (`batch.answered` without error), so a failure counts the attempts made
 * since the partition last worked.
 *
 * Exact when the failing batch is the one the partition sent last, which is the case of a partition
 * that fails (an idempotent producer sends one batch per partition until the first acknowledgement
 * of its epoch, and bumps the epoch after a failure). With several batches of a partition in flight
 * it can be off by the ones sent after it; a record that was never sent (it failed waiting for
 * metadata, or expired in its queue) counts 1, the envelope's "unknown".
 */
export class AttemptTracker {
  private readonly last = new Map<string, number>()

  constructor(events: Instrumentation) {
    events.on('batch.sent', (e) => this.last.set(key(e.topic, e.partition), e.attempt))
    events.on('batch.answered', (e) => {
      if (e.errorCode === 0) this.last.delete(key(e.topic, e.partition))
    })
  }

  /** The attempts of a record of `topic`/`partition` that failed just now (at least 1). */
  attempts(topic: string, partition: number): number {
    if (partition < 0) return 1
    return Math.max(1, this.last.get(key(topic, partition)) ?? 1)
  }
}

function key(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`
}
