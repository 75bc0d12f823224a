import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import { ProduceApi } from '../../../src/protocol/messages/index.js'
import { negotiateVersion } from '../../../src/protocol/versions.js'

const broker = (min: number, max: number) => new Map([[0, { minVersion: min, maxVersion: max }]])
const unsupported = (e: unknown): boolean => e instanceof KafkaError && e.code === '_UNSUPPORTED_FEATURE'

describe('negotiateVersion', () => {
  it('picks the highest common version', () => {
    assert.equal(negotiateVersion(ProduceApi, broker(0, 11)), 11)
    assert.equal(negotiateVersion(ProduceApi, broker(3, 20)), ProduceApi.maxVersion)
    assert.equal(
      negotiateVersion({ apiKey: 0, name: 'Produce', minVersion: 3, maxVersion: 7 }, broker(5, 12)),
      7,
    )
  })

  it('applies the cap', () => {
    assert.equal(negotiateVersion(ProduceApi, broker(0, 13), 12), 12)
    assert.equal(negotiateVersion(ProduceApi, broker(0, 8), 12), 8)
  })

  it('throws _UNSUPPORTED_FEATURE naming the API and both ranges when they do not overlap', () => {
    assert.throws(
      () => negotiateVersion(ProduceApi, broker(0, 2)),
      (e: unknown) => {
        assert.ok(unsupported(e))
        const msg = (e as Error).message
        assert.match(msg, /Produce/)
        assert.match(msg, /3-13/)
        assert.match(msg, /0-2/)
        return true
      },
    )
    assert.throws(() => negotiateVersion(ProduceApi, broker(0, 13), 2), unsupported)
  })

  it('throws when the broker does not list the API', () => {
    assert.throws(() => negotiateVersion(ProduceApi, new Map()), unsupported)
  })
})
