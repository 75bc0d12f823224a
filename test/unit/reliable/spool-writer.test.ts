// The spool writer: entries that fail together share one append (one fsync), in their order.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SpoolEntry } from '../../../src/reliable/envelope-types.js'
import { SpoolWriter } from '../../../src/reliable/spool-writer.js'
import { MemorySpool } from '../../helpers/memory-spool.js'

const entry = (id: string): SpoolEntry => ({
  v: 1,
  id,
  dlq_topic: 't.dlq',
  envelope: {} as SpoolEntry['envelope'],
})

describe('SpoolWriter', () => {
  it('batches the entries of one turn, then those that came while an append ran, in order', async () => {
    const spool = new MemorySpool()
    const w = new SpoolWriter(spool)
    const first = [w.append(entry('a')), w.append(entry('b'))]
    await new Promise((r) => setImmediate(r))
    const later = w.append(entry('c'))
    await Promise.all([...first, later])
    await w.idle()
    assert.deepEqual(
      spool.appends.map((a) => a.map((e) => e.id)),
      [['a', 'b'], ['c']],
    )
  })

  it('a failed append rejects each of its entries; the next batch is tried again', async () => {
    const spool = new MemorySpool()
    const w = new SpoolWriter(spool)
    spool.failAppends = new Error('EIO')
    await assert.rejects(w.append(entry('a')), { code: '_STATE', message: /EIO/ })
    spool.failAppends = null
    await w.append(entry('b'))
    assert.deepEqual(
      spool.entries.map((e) => e.id),
      ['b'],
    )
  })
})
