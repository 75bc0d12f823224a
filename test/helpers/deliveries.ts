// Delivery bookkeeping for producer unit tests: every accepted record must get exactly one callback.
import assert from 'node:assert/strict'
import type { DeliveryCallback, DeliveryReport, KafkaError } from '../../src/index.js'

/**
 * The report's seven fields as a plain object, for deepEqual: a batched record's report reads key,
 * value and headers through getters on its prototype, which deepEqual (own properties only) skips.
 */
export function plainReport(r: DeliveryReport): DeliveryReport {
  const { topic, partition, offset, timestamp, key, value, headers } = r
  return { topic, partition, offset, timestamp, key, value, headers }
}

/** Counts delivery callbacks per record id: every accepted record must get exactly one. */
export class Deliveries {
  readonly calls = new Map<string, { err: KafkaError | null; report: DeliveryReport }[]>()
  /** Record ids in the order their callbacks ran. */
  readonly order: string[] = []

  cb(id: string): DeliveryCallback {
    this.calls.set(id, [])
    return (err, report) => {
      this.calls.get(id)!.push({ err, report })
      this.order.push(id)
    }
  }

  one(id: string): { err: KafkaError | null; report: DeliveryReport } {
    const c = this.calls.get(id)
    assert.ok(c, `record ${id} was never produced`)
    assert.equal(c.length, 1, `record ${id} got ${c.length} callbacks`)
    return c[0]!
  }

  assertAllOnce(): void {
    for (const [id, c] of this.calls) assert.equal(c.length, 1, `record ${id} got ${c.length} callbacks`)
  }

  get total(): number {
    let n = 0
    for (const c of this.calls.values()) n += c.length
    return n
  }
}
