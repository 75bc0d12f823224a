// A Producer wired to a FakeCluster with a manual clock, for the producer unit tests: the one place
// that builds it, pumps it and makes sure no test leaves one keeping the process alive.
//
// It also makes sure no delivery callback threw unnoticed. The producer catches an exception from a
// delivery callback (a per-record callback or dr_msg_cb) and reports it to error_cb as _APPLICATION,
// so an assert inside a callback cannot fail the test by itself. Every fake producer therefore gets
// an error_cb (around the test's own, if it passes one) that keeps those errors, and
// closeFakeProducers, the afterEach of every producer test file, fails the test if any are left.
// Callbacks should only record what they got (test/helpers/deliveries.ts) for the test body to
// assert on; a test that makes a callback throw on purpose takes the errors with takeCallbackThrows().
import assert from 'node:assert/strict'
import type { ErrorCallback, ProducerConfig } from '../../src/config/index.js'
import type { KafkaError } from '../../src/errors/index.js'
import { Producer, type ProducerDependencies } from '../../src/producer/producer.js'
import { ManualClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { Deliveries } from './deliveries.js'
import { FakeCluster, settle, type FakeClusterOptions } from './fake-broker.js'

/** The manual clock's start time. */
export const T0 = 1_700_000_000_000

export interface FakeProducer {
  cluster: FakeCluster
  clock: ManualClock
  producer: Producer
  /** Moves time by `ms`, then lets I/O, promises and zero-delay timers run to quiescence. */
  pump: (ms?: number) => Promise<void>
  /**
   * The _APPLICATION errors of delivery callbacks that threw so far, which the test thereby
   * handles: returns them and forgets them. Any not taken fail the test in closeFakeProducers.
   */
  takeCallbackThrows: () => KafkaError[]
}

/** Producers of the running test; a failed test must not leave one keeping the process alive. */
const live: { producer: Producer; clock: ManualClock; callbackThrows: KafkaError[] }[] = []

/**
 * A producer on a new fake cluster (default: topic `t` with one partition). `config` is used as given
 * after `bootstrap.servers`; randomness comes from a fixed seed so runs repeat.
 */
export function fakeProducer(
  config: ProducerConfig | Record<string, unknown> = {},
  clusterOpts: FakeClusterOptions = { topics: { t: { partitions: 1 } } },
  seed = 7,
  deps: Pick<ProducerDependencies, 'instrumentation' | 'connectionFactory' | 'cores'> = {},
): FakeProducer {
  const cluster = new FakeCluster(clusterOpts)
  const clock = new ManualClock(T0)
  const callbackThrows: KafkaError[] = []
  const own = (config as { error_cb?: ErrorCallback }).error_cb
  // error_cb's only _APPLICATION error is a delivery callback that threw.
  const error_cb: ErrorCallback = (err) => {
    if (err.code === '_APPLICATION') callbackThrows.push(err)
    own?.(err)
  }
  const producer = new Producer(
    { 'bootstrap.servers': cluster.bootstrap, ...config, error_cb } as ProducerConfig,
    // Four cores unless a test says otherwise: the same compression path on every machine.
    { clock, random: seededRandom(seed), transport: cluster.transport, cores: 4, ...deps },
  )
  live.push({ producer, clock, callbackThrows })
  const pump = async (ms = 0): Promise<void> => {
    clock.advance(ms)
    for (let i = 0; i < 4; i++) {
      await settle(10)
      clock.advance(0)
    }
  }
  const takeCallbackThrows = (): KafkaError[] => callbackThrows.splice(0)
  return { cluster, clock, producer, pump, takeCallbackThrows }
}

/** A fake producer that sends at once (linger.ms 0 unless `config` says otherwise), with a Deliveries. */
export function eagerProducer(
  config: ProducerConfig | Record<string, unknown> = {},
  clusterOpts: FakeClusterOptions = { topics: { t: { partitions: 1 } } },
): FakeProducer & { d: Deliveries } {
  return { ...fakeProducer({ 'linger.ms': 0, ...config }, clusterOpts), d: new Deliveries() }
}

/**
 * For afterEach: closes every producer the test made, whatever state it left them in, then fails
 * the test if a delivery callback threw (before or during the close) and the test did not take it.
 */
export async function closeFakeProducers(): Promise<void> {
  const closed = live.splice(0)
  for (const { producer, clock } of closed) {
    const p = producer.close(0)
    clock.advance(0)
    await settle(5)
    clock.advance(0)
    await p
  }
  const thrown = closed.flatMap((c) => c.callbackThrows.splice(0))
  if (thrown.length > 0) {
    const first = thrown[0]!.cause
    assert.fail(
      `${thrown.length} delivery callback(s) threw during the test; the producer caught them and ` +
        `only error_cb saw them (assert in the test body, not in a callback):\n` +
        thrown.map((e) => `  ${e.message}`).join('\n') +
        (first instanceof Error && first.stack ? `\nthe first one thrown\n${where(first.stack)}` : ''),
    )
  }
}

/** The first frames of a stack: where the callback threw. */
function where(stack: string): string {
  return stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 3)
    .join('\n')
}

/** Closes a producer whose records are all reported (nothing outstanding). */
export async function closeIdle(producer: Producer, pump: () => Promise<void>): Promise<void> {
  assert.equal(producer.pending, 0)
  const p = producer.close(0)
  await pump()
  await p
}
