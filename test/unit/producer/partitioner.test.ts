import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkPartition,
  crc32,
  createPartitioner,
  fnv1a,
  fnv1aPartitionHash,
  murmur2,
  toPositive,
  type PartitionerFunction,
} from '../../../src/producer/partitioner.js'
import { murmur2String } from '../../../src/producer/murmur2.js'
import { KafkaError } from '../../../src/errors/index.js'

const b = (s: string): Buffer => Buffer.from(s, 'utf8')

/** A scripted random source: returns the given values in turn, then repeats the last. */
function scripted(...values: number[]): () => number {
  let i = 0
  return () => values[Math.min(i++, values.length - 1)]!
}

describe('murmur2', () => {
  it("matches Java's UtilsTest.testMurmur2 (signed results)", () => {
    // Vectors from apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java.
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ]
    for (const [s, expected] of vectors) assert.equal(murmur2(b(s)), expected, s)
  })

  it('positive-masked values', () => {
    const vectors: [string, number][] = [
      ['21', 1173551340],
      ['foobar', 1357151166],
      ['kafka', 1348980580],
      ['', 275646681],
    ]
    for (const [s, expected] of vectors) assert.equal(toPositive(murmur2(b(s))), expected, s)
  })

  it('toPositive clears only the sign bit', () => {
    assert.equal(toPositive(-2147483648), 0)
    assert.equal(toPositive(-1), 2147483647)
    assert.equal(toPositive(5), 5)
  })
})

describe('murmur2 of a string key (no Buffer)', () => {
  // Every tail length (0-3 bytes after the 4-byte blocks) of ASCII, and strings whose UTF-8 bytes
  // differ from their code units: 2-, 3-, 4-byte characters and lone surrogates (hashed as U+FFFD,
  // the bytes Buffer.from writes and the record carries).
  const strings = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'key-1',
    'key-123456',
    'x'.repeat(1000),
    '\x7f',
    '\x80',
    'é',
    'ÿÿÿÿ',
    'café-1',
    '日本語',
    '😀',
    'a😀',
    '\ud800',
    'ab\udc00',
    'x'.repeat(70_000) + 'é',
  ]

  it('equals murmur2 of the UTF-8 bytes', () => {
    for (const s of strings) assert.equal(murmur2String(s), murmur2(b(s)), JSON.stringify(s.slice(0, 20)))
  })

  it("matches Java's vectors from the string", () => {
    assert.equal(murmur2String('21'), -973932308)
    assert.equal(murmur2String('foobar'), -790332482)
    assert.equal(murmur2String('a-little-bit-long-string'), -985981536)
    assert.equal(murmur2String('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971)
    assert.equal(toPositive(murmur2String('')), 275646681)
  })

  it('every built-in partitioner puts a string key where its Buffer goes', () => {
    for (const name of [
      'murmur2_random',
      'murmur2',
      'consistent',
      'consistent_random',
      'fnv1a',
      'fnv1a_random',
    ] as const) {
      const p = createPartitioner(name, { batchSize: 100, random: scripted(0.5) })
      for (const s of strings) {
        for (const n of [3, 7, 1000]) {
          assert.equal(
            p.partition('t', s, 1, n, []),
            p.partition('t', b(s), 1, n, []),
            `${name} ${JSON.stringify(s.slice(0, 20))}`,
          )
        }
      }
    }
  })

  it('a partitioner function receives a Buffer of the string key', () => {
    const seen: unknown[] = []
    const p = createPartitioner(
      (key) => {
        seen.push(key)
        return 0
      },
      { batchSize: 100, random: scripted(0) },
    )
    p.partition('t', 'café', 1, 3, [])
    p.partition('t', null, 1, 3, [])
    assert.ok(Buffer.isBuffer(seen[0]))
    assert.deepEqual(seen, [b('café'), null])
  })
})

describe('crc32', () => {
  it('is the IEEE CRC-32', () => {
    assert.equal(crc32(b('123456789')), 0xcbf43926)
    assert.equal(crc32(b('')), 0)
  })
})

describe('murmur2_random (default)', () => {
  it('keyed records: toPositive(murmur2(key)) % partitionCount over all partitions', () => {
    const p = createPartitioner('murmur2_random', { batchSize: 100, random: scripted(0) })
    assert.equal(p.partition('t', b('21'), 10, 6, [0]), 1173551340 % 6)
    assert.equal(p.partition('t', b('foobar'), 10, 7, []), 1357151166 % 7)
    // An empty key is a key (Java), not a null key.
    assert.equal(p.partition('t', b(''), 10, 5, [0]), 275646681 % 5)
  })

  it('null keys stick to one random available partition until batch.size bytes, then switch', () => {
    // 0.5 of 3 available → index 1 → partition 4; then the switch avoids 4: 0.0 of [2, 6] → 2.
    const p = createPartitioner('murmur2_random', { batchSize: 100, random: scripted(0.5, 0.0) })
    const available = [2, 4, 6]
    const seen = [40, 40, 40, 40].map((bytes) => p.partition('t', null, bytes, 8, available))
    assert.deepEqual(seen, [4, 4, 4, 2])
  })

  it('sticky state is per topic', () => {
    const p = createPartitioner('murmur2_random', { batchSize: 100, random: scripted(0, 0.99) })
    assert.equal(p.partition('a', null, 1, 4, []), 0)
    assert.equal(p.partition('b', null, 1, 4, []), 3)
    assert.equal(p.partition('a', null, 1, 4, []), 0)
  })

  it('moves off a partition that became unavailable', () => {
    const p = createPartitioner('murmur2_random', { batchSize: 1000, random: scripted(0, 0) })
    assert.equal(p.partition('t', null, 1, 3, [0, 1, 2]), 0)
    assert.equal(p.partition('t', null, 1, 3, [1, 2]), 1)
  })

  it('spreads null keys across partitions over many batches', () => {
    let seed = 1
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
    const p = createPartitioner('murmur2_random', { batchSize: 1000, random })
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 4000; i++) counts[p.partition('t', null, 100, 4, [0, 1, 2, 3])]!++
    for (const c of counts) assert.ok(c > 500, `counts ${counts.join(',')}`)
  })
})

describe('librdkafka partitioners', () => {
  it('murmur2 maps null keys to one partition', () => {
    const p = createPartitioner('murmur2', { batchSize: 100, random: scripted(0.9) })
    assert.equal(p.partition('t', null, 1, 10, []), 275646681 % 10)
    assert.equal(p.partition('t', b('21'), 1, 10, []), 1173551340 % 10)
  })

  it('consistent: CRC-32 of the key; null and empty keys → partition of crc32("") = 0', () => {
    const p = createPartitioner('consistent', { batchSize: 100, random: scripted(0.9) })
    assert.equal(p.partition('t', b('123456789'), 1, 7, []), 0xcbf43926 % 7)
    assert.equal(p.partition('t', null, 1, 7, []), 0)
    assert.equal(p.partition('t', b(''), 1, 7, []), 0)
  })

  it('consistent_random: CRC-32 for keys, sticky for null and empty keys', () => {
    const p = createPartitioner('consistent_random', { batchSize: 100, random: scripted(0.7) })
    assert.equal(p.partition('t', b('123456789'), 1, 7, []), 0xcbf43926 % 7)
    assert.equal(p.partition('t', null, 1, 10, []), 7)
    assert.equal(p.partition('t', b(''), 1, 10, []), 7)
  })

  it('fnv1a and fnv1a_random take |signed hash|, like rd_fnv1a', () => {
    // FNV-1a 32 of "a" is 0xe40c292c, -468965076 as int32; of "" the offset basis 0x811c9dc5, -2128831035.
    assert.equal(fnv1a(b('a')), 0xe40c292c)
    assert.equal(fnv1aPartitionHash(b('a')), 468965076)
    const p = createPartitioner('fnv1a', { batchSize: 100, random: scripted(0) })
    assert.equal(p.partition('t', b('a'), 1, 1000, []), 468965076 % 1000)
    assert.equal(p.partition('t', null, 1, 1000, []), 2128831035 % 1000)
    assert.equal(p.partition('t', b(''), 1, 1000, []), 2128831035 % 1000)
    const r = createPartitioner('fnv1a_random', { batchSize: 100, random: scripted(0.5) })
    assert.equal(r.partition('t', null, 1, 10, []), 5)
    // Only null keys are sticky: an empty key is hashed.
    assert.equal(r.partition('t', b(''), 1, 1000, []), 2128831035 % 1000)
  })

  it("rd_fnv1a's unit-test vectors (Go's hash/fnv, then the absolute value)", () => {
    // From librdkafka src/rdfnv1a.c unittest_fnv1a(); all non-negative as int32, so equal to rd_fnv1a().
    const vectors: [string, number][] = [
      ['kafka', 0xd33c4e1],
      ['giberish123456789', 0x77a58295],
      ['1234', 0x23bdd03],
      ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x65cbd69c],
      ['', 0x7ee3623b],
    ]
    for (const [s, expected] of vectors) assert.equal(fnv1aPartitionHash(b(s)), expected, s)
  })

  it('INT32_MIN: |hash| is 2^31, as C wraps it and rd_fnv1a returns it unsigned', () => {
    assert.equal(fnv1a(b('k3D52m9')), 0x80000000)
    assert.equal(fnv1aPartitionHash(b('k3D52m9')), 2 ** 31)
  })

  it('random picks among available partitions for every record', () => {
    const p = createPartitioner('random', { batchSize: 100, random: scripted(0.1, 0.9, 1) })
    assert.equal(p.partition('t', b('k'), 1, 10, [3, 5]), 3)
    assert.equal(p.partition('t', b('k'), 1, 10, [3, 5]), 5)
    assert.equal(p.partition('t', null, 1, 10, []), 9) // random() === 1 is clamped
  })

  it('an unknown name is rejected', () => {
    assert.throws(
      () => createPartitioner('roundrobin' as unknown as 'random', { batchSize: 1, random: Math.random }),
      (err: unknown) => err instanceof KafkaError && err.code === '_INVALID_ARG',
    )
  })
})

describe('user partitioner function', () => {
  it("receives (key, partitionCount, availablePartitions), like the guide's region_partitioner", () => {
    const calls: unknown[] = []
    const regionPartitioner: PartitionerFunction = (key, partitionCount, available) => {
      calls.push([key?.toString() ?? null, partitionCount, available])
      if (key === null) return available[Math.floor(0.5 * available.length)]!
      const region = key.toString().split('-').slice(0, 2).join('-')
      const regions: Record<string, number> = { 'us-east': 0, 'us-west': 1, 'eu-central': 2 }
      return regions[region] ?? 0
    }
    const p = createPartitioner(regionPartitioner, { batchSize: 100, random: scripted(0) })
    assert.equal(p.partition('t', b('us-west-user-123'), 10, 3, [0, 1, 2]), 1)
    assert.equal(p.partition('t', null, 10, 3, [0, 2]), 2)
    assert.deepEqual(calls, [
      ['us-west-user-123', 3, [0, 1, 2]],
      [null, 3, [0, 2]],
    ])
  })

  it('an exception becomes KafkaError _APPLICATION with the exception as cause; a KafkaError passes as is', () => {
    const boom = new TypeError('boom')
    const p = createPartitioner(
      () => {
        throw boom
      },
      { batchSize: 100, random: scripted(0) },
    )
    assert.throws(
      () => p.partition('orders', null, 1, 3, []),
      (err: unknown) =>
        err instanceof KafkaError &&
        err.code === '_APPLICATION' &&
        !err.retriable &&
        err.cause === boom &&
        err.message === "the partitioner function threw for topic 'orders': TypeError: boom",
    )
    const own = new KafkaError('_UNKNOWN_PARTITION', 'no partition for this key')
    const q = createPartitioner(
      () => {
        throw own
      },
      { batchSize: 100, random: scripted(0) },
    )
    assert.throws(
      () => q.partition('orders', null, 1, 3, []),
      (err: unknown) => err === own,
    )
  })

  it('an invalid result is returned as is, for checkPartition to reject', () => {
    const p = createPartitioner(() => 7, { batchSize: 100, random: scripted(0) })
    const partition = p.partition('t', null, 1, 3, [])
    assert.throws(() => checkPartition(partition, 3, 't'), /Partition 7 is not valid for topic 't'/)
  })
})

describe('checkPartition', () => {
  it('accepts integers in [0, partitionCount)', () => {
    assert.equal(checkPartition(0, 3, 't'), 0)
    assert.equal(checkPartition(2, 3, 't'), 2)
  })

  it('throws _UNKNOWN_PARTITION otherwise', () => {
    for (const bad of [-1, 3, 1.5, NaN, Infinity, '1', null, undefined]) {
      assert.throws(
        () => checkPartition(bad, 3, 'orders'),
        (err: unknown) =>
          err instanceof KafkaError &&
          err.code === '_UNKNOWN_PARTITION' &&
          !err.retriable &&
          err.message.includes("'orders'"),
        String(bad),
      )
    }
  })
})

/**
 * Partitions chosen by librdkafka itself, not computed by our code: each key was produced with
 * `kcat -P -K: -X partitioner=<name>` (kcat 1.7.1, librdkafka 2.0.2, Debian's kcat package) into topics of
 * 6 and 7 partitions on a local broker, and read back with `kcat -C -e -f '%K|%k|%p\n'`. A null key is a
 * line without the `:`. The _random variants, run the same way, placed every key where the plain ones did,
 * except null keys (and consistent_random's empty key), which went to a random partition.
 * test/integration/partitioning.test.ts repeats the comparison against kcat on every run.
 */
const LIBRDKAFKA_PLACEMENT: {
  key: string | null
  fnv1aHashNegative: boolean
  fnv1a: [number, number]
  murmur2: [number, number]
  consistent: [number, number]
}[] = [
  // key, signed FNV-1a < 0, then [partition of 6, partition of 7] per partitioner
  { key: 'a', fnv1aHashNegative: true, fnv1a: [0, 6], murmur2: [4, 5], consistent: [3, 4] },
  { key: 'foobar', fnv1aHashNegative: true, fnv1a: [0, 4], murmur2: [0, 0], consistent: [5, 6] },
  { key: '21', fnv1aHashNegative: true, fnv1a: [0, 3], murmur2: [0, 3], consistent: [4, 6] },
  { key: 'user-1', fnv1aHashNegative: true, fnv1a: [0, 1], murmur2: [2, 3], consistent: [2, 5] },
  { key: 'user-2', fnv1aHashNegative: true, fnv1a: [3, 0], murmur2: [2, 0], consistent: [4, 3] },
  { key: 'user-3', fnv1aHashNegative: true, fnv1a: [2, 5], murmur2: [5, 0], consistent: [0, 2] },
  { key: 'user-4', fnv1aHashNegative: true, fnv1a: [3, 2], murmur2: [1, 3], consistent: [3, 4] },
  { key: 'user-5', fnv1aHashNegative: true, fnv1a: [2, 0], murmur2: [4, 1], consistent: [3, 6] },
  { key: 'k3D52m9', fnv1aHashNegative: true, fnv1a: [2, 2], murmur2: [0, 2], consistent: [2, 2] }, // INT32_MIN
  { key: 'k71q4Ij', fnv1aHashNegative: true, fnv1a: [2, 2], murmur2: [5, 3], consistent: [5, 5] }, // INT32_MIN
  { key: '', fnv1aHashNegative: true, fnv1a: [3, 2], murmur2: [3, 2], consistent: [0, 0] },
  { key: null, fnv1aHashNegative: true, fnv1a: [3, 2], murmur2: [3, 2], consistent: [0, 0] },
  { key: 'kafka', fnv1aHashNegative: false, fnv1a: [5, 4], murmur2: [4, 3], consistent: [5, 6] },
  { key: 'abc', fnv1aHashNegative: false, fnv1a: [5, 5], murmur2: [3, 4], consistent: [0, 5] },
]

describe("librdkafka's placement (golden values from kcat)", () => {
  const keyOf = (k: string | null): Buffer | null => (k === null ? null : b(k))
  const label = (k: string | null): string => (k === null ? 'null key' : JSON.stringify(k))

  it('the fixture has keys whose signed FNV-1a hash is negative, and says which', () => {
    for (const { key, fnv1aHashNegative } of LIBRDKAFKA_PLACEMENT) {
      assert.equal((fnv1a(keyOf(key) ?? b('')) | 0) < 0, fnv1aHashNegative, label(key))
    }
    assert.ok(LIBRDKAFKA_PLACEMENT.filter((r) => r.fnv1aHashNegative).length >= 8)
  })

  for (const name of ['fnv1a', 'murmur2', 'consistent'] as const) {
    for (const [i, n] of [6, 7].entries()) {
      it(`${name} and ${name}_random, ${n} partitions`, () => {
        const plain = createPartitioner(name, { batchSize: 100, random: scripted(0) })
        const rand = createPartitioner(`${name}_random`, { batchSize: 100, random: scripted(0) })
        for (const row of LIBRDKAFKA_PLACEMENT) {
          const key = keyOf(row.key)
          const expected = row[name][i]!
          assert.equal(plain.partition('t', key, 1, n, []), expected, `${name}, ${label(row.key)}`)
          // The _random variants make null keys sticky, and consistent_random empty keys too.
          const sticky = key === null || (name === 'consistent' && key.length === 0)
          if (!sticky) {
            assert.equal(rand.partition('t', key, 1, n, []), expected, `${name}_random, ${label(row.key)}`)
          }
          // A string key (how most records come) lands where its bytes do.
          if (row.key !== null) {
            assert.equal(
              plain.partition('t', row.key, 1, n, []),
              expected,
              `${name}, string ${label(row.key)}`,
            )
            if (!sticky)
              assert.equal(rand.partition('t', row.key, 1, n, []), expected, `${name}_random, string`)
          }
        }
      })
    }
  }
})
