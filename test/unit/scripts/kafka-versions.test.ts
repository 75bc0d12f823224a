// The broker harness's version rules (scripts/kafka/jars.ts) and its readiness probe's Metadata
// decoding for old (v1) and current (v4) brokers (scripts/kafka/probe.ts), without a broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  atLeast,
  COMPAT_KAFKA_VERSIONS,
  DEFAULT_KAFKA_VERSION,
  majorMinor,
  usesZooKeeper,
} from '../../../scripts/kafka/jars.js'
import { decodeMetadata } from '../../../scripts/kafka/probe.js'

describe('Kafka versions in the harness', () => {
  it('reads major and minor, also from 0.x versions with four numbers', () => {
    assert.deepEqual(majorMinor('4.4.0'), [4, 4])
    assert.deepEqual(majorMinor('0.10.2.2'), [0, 10])
    assert.throws(() => majorMinor('latest'), /invalid Kafka version/)
    assert.ok(atLeast('3.9.1', 3, 3))
    assert.ok(atLeast('4.0.0', 3, 9))
    assert.ok(!atLeast('2.8.2', 3, 0))
    assert.ok(!atLeast('0.10.2.2', 0, 11))
  })

  it('runs ZooKeeper before 3.3 (KRaft production-ready, KIP-833) and KRaft from then on', () => {
    assert.equal(usesZooKeeper('2.8.2'), true)
    assert.equal(usesZooKeeper('3.2.3'), true)
    assert.equal(usesZooKeeper('3.3.0'), false)
    assert.equal(usesZooKeeper('3.9.1'), false)
    assert.equal(usesZooKeeper(DEFAULT_KAFKA_VERSION), false)
  })

  it('test:compat covers one KRaft and one ZooKeeper version besides the default', () => {
    assert.ok(!COMPAT_KAFKA_VERSIONS.includes(DEFAULT_KAFKA_VERSION))
    assert.deepEqual(
      COMPAT_KAFKA_VERSIONS.map((v) => usesZooKeeper(v)),
      [false, true],
    )
  })
})

/** A Metadata response body with one broker, in v1 or v4 layout (no topics). */
function metadataBody(version: 1 | 4, correlationId: number): Buffer {
  const parts: Buffer[] = []
  const int32 = (v: number): void => {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    parts.push(b)
  }
  const str = (s: string | null): void => {
    const b = Buffer.alloc(2)
    b.writeInt16BE(s === null ? -1 : Buffer.byteLength(s))
    parts.push(b)
    if (s !== null) parts.push(Buffer.from(s))
  }
  int32(correlationId)
  if (version === 4) int32(0) // throttle_time_ms
  int32(1) // brokers
  int32(7)
  str('127.0.0.1')
  int32(9092)
  str(null) // rack
  if (version === 4) str('cluster-x')
  int32(7) // controller_id
  int32(0) // topics
  return Buffer.concat(parts)
}

describe('readiness probe', () => {
  for (const version of [1, 4] as const) {
    it(`decodes a Metadata v${version} answer`, () => {
      const r = decodeMetadata(metadataBody(version, 42), 42, version)
      assert.deepEqual(r.brokers, [{ nodeId: 7, host: '127.0.0.1', port: 9092 }])
      assert.equal(r.clusterId, version === 4 ? 'cluster-x' : null)
      assert.equal(r.controllerId, 7)
    })
  }

  it('refuses an answer to another request', () => {
    assert.throws(() => decodeMetadata(metadataBody(4, 1), 2, 4), /correlation id 1, expected 2/)
  })
})
