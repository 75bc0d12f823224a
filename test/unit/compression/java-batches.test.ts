// Batches compressed by Kafka's Java producer (see test/fixtures/java-batches/README.md) decode with
// our codecs, including snappy in snappy-java's xerial framing.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeRecordBatches } from '../../../src/protocol/record-batch.js'
import { JAVA_BATCH_CODECS, JAVA_BATCH_RECORDS } from '../../fixtures/java-batches/records.js'
import { XERIAL_MAGIC } from '../../../src/compression/snappy.js'

// Compiled to dist/test/unit/compression/; the .bin fixtures stay in the source tree.
const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..')
const fixtureDir = join(repoRoot, 'test', 'fixtures', 'java-batches')
const ATTRIBUTE = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

for (const codec of JAVA_BATCH_CODECS) {
  test(`decodes a ${codec} batch written by the Java producer`, () => {
    const bytes = readFileSync(join(fixtureDir, `${codec}.bin`))
    const batches = decodeRecordBatches(bytes)
    assert.equal(batches.length, 1)
    const batch = batches[0]!
    assert.equal(batch.attributes & 0x07, ATTRIBUTE[codec])
    assert.equal(batch.compression, codec)
    assert.equal(batch.baseOffset, 0n)
    assert.equal(batch.lastOffsetDelta, JAVA_BATCH_RECORDS.length - 1)
    assert.deepEqual(
      batch.records.map((r) => ({ key: r.key?.toString('utf8'), value: r.value?.toString('utf8') })),
      JAVA_BATCH_RECORDS,
    )
    assert.deepEqual(
      batch.records.map((r) => r.offset),
      JAVA_BATCH_RECORDS.map((_, i) => BigInt(i)),
    )
    for (const r of batch.records) assert.deepEqual(r.headers, [])
  })
}

test("the Java snappy batch uses snappy-java's xerial framing, version 1, compatible 1", () => {
  const payload = readFileSync(join(fixtureDir, 'snappy.bin')).subarray(61)
  assert.deepEqual(payload.subarray(0, 8), XERIAL_MAGIC)
  assert.equal(payload.readInt32BE(8), 1)
  assert.equal(payload.readInt32BE(12), 1)
  assert.equal(payload.readInt32BE(16), payload.length - 20, 'one block holding the rest')
})
