import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { presets, resolveProducerConfig } from '../../../src/config/index.js'

describe('presets (the guide tuning matrix)', () => {
  const expected = {
    realtime: { linger: 5, batch: 16384, compression: 'none', acks: -1, idempotence: true },
    analytics: { linger: 20, batch: 131072, compression: 'lz4', acks: -1, idempotence: true },
    batch: { linger: 200, batch: 1048576, compression: 'zstd', acks: -1, idempotence: true },
    logs: { linger: 500, batch: 1048576, compression: 'zstd', acks: 1, idempotence: false },
    metrics: { linger: 100, batch: 262144, compression: 'lz4', acks: 0, idempotence: false },
  } as const
  for (const [name, want] of Object.entries(expected)) {
    it(`${name} resolves to its matrix row`, () => {
      const preset = presets[name as keyof typeof presets]
      const c = resolveProducerConfig({ ...preset, 'bootstrap.servers': 'kafka:9092' })
      assert.equal(c.lingerMs, want.linger)
      assert.equal(c.batchSize, want.batch)
      assert.equal(c.compressionType, want.compression)
      assert.equal(c.acks, want.acks)
      assert.equal(c.enableIdempotence, want.idempotence)
    })
  }
  it('covers exactly the five matrix rows', () => {
    assert.deepEqual(Object.keys(presets).sort(), Object.keys(expected).sort())
  })
})
