// A Producer wired to a FakeCluster with a manual clock, for the producer unit tests: the one place
// that builds it, pumps it and makes sure no test leaves one keeping the process alive.
import assert from 'node:assert/strict'
import type { ProducerConfig } from '../../src/config/index.js'
import { Producer } from '../../src/producer/producer.js'
import { ManualClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { FakeCluster, settle, type FakeClusterOptions } from './fake-broker.js'

/** The manual clock's start time. */
export const T0 = 1_700_000_000_000

export interface FakeProducer {
  cluster: FakeCluster
  clock: ManualClock
  producer: Producer
  /** Moves time by `ms`, then lets I/O, promises and zero-delay timers run to quiescence. */
  pump: (ms?: number) => Promise<void>
}

/** Producers of the running test; a failed test must not leave one keeping the process alive. */
const live: { producer: Producer; clock: ManualClock }[] = []

/**
 * A producer on a new fake cluster (default: topic `t` with one partition). `config` is used as given
 * after `bootstrap.servers`; randomness comes from a fixed seed so runs repeat.
 */
export function fakeProducer(
  config: ProducerConfig | Record<string, unknown> = {},
  clusterOpts: FakeClusterOptions = { topics: { t: { partitions: 1 } } },
  seed = 7,
): FakeProducer {
  const cluster = new FakeCluster(clusterOpts)
  const clock = new ManualClock(T0)
  const producer = new Producer({ 'bootstrap.servers': cluster.bootstrap, ...config } as ProducerConfig, {
    clock,
    random: seededRandom(seed),
    transport: cluster.transport,
  })
  live.push({ producer, clock })
  const pump = async (ms = 0): Promise<void> => {
    clock.advance(ms)
    for (let i = 0; i < 4; i++) {
      await settle(10)
      clock.advance(0)
    }
  }
  return { cluster, clock, producer, pump }
}

/** For afterEach: closes every producer the test made, whatever state it left them in. */
export async function closeFakeProducers(): Promise<void> {
  for (const { producer, clock } of live.splice(0)) {
    const p = producer.close(0)
    clock.advance(0)
    await settle(5)
    clock.advance(0)
    await p
  }
}

/** Closes a producer whose records are all reported (nothing outstanding). */
export async function closeIdle(producer: Producer, pump: () => Promise<void>): Promise<void> {
  assert.equal(producer.pending, 0)
  const p = producer.close(0)
  await pump()
  await p
}
