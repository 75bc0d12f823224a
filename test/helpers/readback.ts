// Compares what an independent consumer read back with what we produced and were told in reports.
import assert from 'node:assert/strict'
import type { KcatRecord } from '../../scripts/kafka/tools.js'
import type { DeliveryReport } from '../../src/index.js'

/** What record `i` was produced with (headers as [key, UTF-8 value] pairs). */
export interface ExpectedRecord {
  key: string | Buffer
  value: Buffer
  timestamp: number
  headers: [string, string][]
}

/**
 * Asserts that `consumed` holds exactly the records of `reports`, once each, at the partition and
 * offset their report named, with the key, value, timestamp and headers `expected(i)` gives.
 */
export function assertReadBack(
  consumed: readonly KcatRecord[],
  reports: readonly (DeliveryReport | null)[],
  expected: (i: number) => ExpectedRecord,
): void {
  const n = reports.length
  assert.equal(consumed.length, n, 'kcat reads back exactly N records')
  const byPosition = new Map(consumed.map((c) => [`${c.partition}@${c.offset}`, c]))
  assert.equal(byPosition.size, n, 'no duplicates in the log')
  for (let i = 0; i < n; i++) {
    const rep = reports[i]
    assert.ok(rep, `record ${i} has no delivery report`)
    const c = byPosition.get(`${rep.partition}@${rep.offset}`)
    assert.ok(c, `record ${i} missing at ${rep.partition}@${rep.offset}`)
    const r = expected(i)
    assert.ok(c.key?.equals(Buffer.from(r.key)), `key of record ${i}`)
    assert.ok(c.value?.equals(r.value), `value of record ${i}`)
    assert.equal(c.timestamp, r.timestamp, `timestamp of record ${i}`)
    assert.equal(rep.timestamp, r.timestamp, `reported timestamp of record ${i}`)
    assert.deepEqual(
      c.headers.map(([k, v]) => [k, v.toString()]),
      r.headers,
      `headers of record ${i}`,
    )
  }
}
