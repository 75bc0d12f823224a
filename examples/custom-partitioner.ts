// The guide's region_partitioner. confluent-kafka-python cannot take a partitioner function; here
// the `partitioner` key can: (key, partitionCount, availablePartitions) => partition.
//
//   npx tsc -p tsconfig.json && node dist/examples/custom-partitioner.js
import { Admin, Producer, type PartitionerFunction } from '../src/index.js'

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092'

const admin = new Admin({ bootstrapServers: bootstrap })
await admin.createTopics([{ name: 'user-events', numPartitions: 3 }])
await admin.close()

const regions: Record<string, number> = { 'us-east': 0, 'us-west': 1, eu: 2 }

/** Route by region prefix: "us-east-user-123" → 0. */
const regionPartitioner: PartitionerFunction = (key, _partitionCount, availablePartitions) => {
  if (key === null) return availablePartitions[Math.floor(Math.random() * availablePartitions.length)]!
  const k = key.toString()
  const region = Object.keys(regions).find((r) => k.startsWith(`${r}-`))
  return region === undefined ? 0 : regions[region]!
}

const producer = new Producer({ 'bootstrap.servers': bootstrap, partitioner: regionPartitioner })

for (const key of ['us-east-user-123', 'us-west-user-7', 'eu-user-42', 'apac-user-1', null]) {
  const report = await producer.send({
    topic: 'user-events',
    key,
    value: JSON.stringify({ action: 'login' }),
  })
  console.log(`${String(key).padEnd(16)} -> partition ${report.partition}`)
}

// A result outside [0, partitionCount) fails only that record, with _UNKNOWN_PARTITION; here the
// topic has 3 partitions, so a region mapped to partition 7 would be rejected, not misrouted.
await producer.close()
