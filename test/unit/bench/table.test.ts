// The benchmark table's CPU per million records: per record the runner handled, so a W4 runner that
// stopped at its time budget is not credited with the records it never sent.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cpuPerMillion } from '../../../bench/table.js'

describe('bench table: CPU seconds per million records', () => {
  it('divides by the records handled, delivered or failed', () => {
    assert.equal(cpuPerMillion({ cpuMs: 5_000, delivered: 50_000, errors: 0 }), 100)
    assert.equal(cpuPerMillion({ cpuMs: 3_000, delivered: 900_000, errors: 100_000 }), 3)
  })

  it('has no figure for a runner that handled nothing', () => {
    assert.equal(cpuPerMillion({ cpuMs: 1_000, delivered: 0, errors: 0 }), null)
  })
})
