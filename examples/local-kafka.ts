// For the examples that run anywhere: they use the broker at KAFKA_BOOTSTRAP_SERVERS when it is set,
// and otherwise start a local single-node Kafka broker for the run (jars from Maven Central, cached in
// ~/.cache/reliable-kafka) and stop it at the end. An application has its own cluster and needs none
// of this.
import { startKafka } from '../scripts/kafka/cluster.js'

/** Runs `fn` with a bootstrap address: KAFKA_BOOTSTRAP_SERVERS, or a local broker started for it. */
export async function withKafka<T>(fn: (bootstrap: string) => Promise<T>): Promise<T> {
  const given = process.env['KAFKA_BOOTSTRAP_SERVERS']
  if (given) return fn(given)
  console.log(
    'KAFKA_BOOTSTRAP_SERVERS is not set: starting a local Kafka broker (first run fetches its jars)…',
  )
  const cluster = await startKafka({ nodes: 1 })
  console.log(`Kafka is up at ${cluster.bootstrapServers}`)
  try {
    return await fn(cluster.bootstrapServers)
  } finally {
    await cluster.stop()
    console.log('Local Kafka broker stopped.')
  }
}
