// A ReliableProducer on a FakeCluster with a manual clock and an in-memory spool, for its unit tests:
// the one place that builds it, pumps it, and closes what a test leaves open.
import type { ProducerConfig } from '../../src/config/index.js'
import { ReliableProducer } from '../../src/reliable/reliable-producer.js'
import type { ReliableProducerOptions } from '../../src/reliable/types.js'
import { ManualClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { FakeCluster, settle, type FakeClusterOptions } from './fake-broker.js'
import { T0 } from './fake-producer.js'
import { MemorySpool } from './memory-spool.js'

export interface FakeReliable {
  cluster: FakeCluster
  clock: ManualClock
  rp: ReliableProducer
  spool: MemorySpool
  /** Moves time by `ms`, then lets I/O, promises and zero-delay timers run to quiescence. */
  pump: (ms?: number) => Promise<void>
  /** Moves time by `ms` in steps of `step`, pumping after each (timeouts that need I/O in between). */
  pumpFor: (ms: number, step?: number) => Promise<void>
}

const live: { rp: ReliableProducer; pump: (ms?: number) => Promise<void> }[] = []

/** Topic `t` and its dead-letter topic `t.dlq`, one partition each. */
export const DEFAULT_TOPICS: FakeClusterOptions = {
  topics: { t: { partitions: 1 }, 't.dlq': { partitions: 1 } },
}

/** A ReliableProducer (linger.ms 0 unless `config` says otherwise) on a new fake cluster. */
export function fakeReliable(
  config: ProducerConfig | Record<string, unknown> = {},
  options: ReliableProducerOptions = {},
  clusterOpts: FakeClusterOptions = DEFAULT_TOPICS,
): FakeReliable {
  const cluster = new FakeCluster(clusterOpts)
  const clock = new ManualClock(T0)
  const spool = new MemorySpool()
  let ids = 0
  const rp = new ReliableProducer(
    { 'bootstrap.servers': cluster.bootstrap, 'linger.ms': 0, ...config } as ProducerConfig,
    options,
    {
      clock,
      random: seededRandom(7),
      transport: cluster.transport,
      openSpool: () => spool,
      newId: () => `id-${++ids}`,
    },
  )
  const pump = async (ms = 0): Promise<void> => {
    clock.advance(ms)
    for (let i = 0; i < 4; i++) {
      await settle(10)
      clock.advance(0)
    }
  }
  const pumpFor = async (ms: number, step = 100): Promise<void> => {
    for (let t = 0; t < ms; t += step) await pump(Math.min(step, ms - t))
  }
  live.push({ rp, pump })
  return { cluster, clock, rp, spool, pump, pumpFor }
}

/** For afterEach: closes every ReliableProducer the test made, whatever state it left them in. */
export async function closeFakeReliables(): Promise<void> {
  for (const { rp, pump } of live.splice(0)) {
    const p = rp.close(0)
    p.catch(() => undefined)
    for (let i = 0; i < 5; i++) await pump()
    await p
  }
}
