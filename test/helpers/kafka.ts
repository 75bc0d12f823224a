// Access to real brokers from tests: the shared one started by `npm test`, or a private cluster for
// tests that stop, kill or restart brokers (never do that to the shared one).

import { startKafka, type KafkaCluster, type StartKafkaOptions } from '../../scripts/kafka/cluster.js'

export type { KafkaCluster, KafkaNode, StartKafkaOptions } from '../../scripts/kafka/cluster.js'

/** bootstrap.servers of the broker shared by the whole test run (set by scripts/test-runner.ts). */
export function sharedBootstrapServers(): string {
  const servers = process.env['KAFKA_BOOTSTRAP_SERVERS']
  if (!servers) {
    throw new Error(
      'KAFKA_BOOTSTRAP_SERVERS is not set: run integration tests through `npm test` (which starts a broker), ' +
        'e.g. `npm test -- dist/test/integration/<file>.test.js`, or set KAFKA_BOOTSTRAP_SERVERS yourself.',
    )
  }
  return servers
}

/** Starts a private cluster, runs `fn` with it and always stops it (even when `fn` throws). */
export async function withPrivateKafka<T>(
  opts: StartKafkaOptions,
  fn: (cluster: KafkaCluster) => Promise<T>,
): Promise<T> {
  const cluster = await startKafka(opts)
  try {
    return await fn(cluster)
  } finally {
    await cluster.stop()
  }
}
