// `npm start`: the guide's task-lifecycle scenario ("Message Key Design"). Every task emits
// task.created → task.updated → task.completed, keyed by task id so that a task's events stay in
// order on one partition. Without KAFKA_BOOTSTRAP_SERVERS it starts a local Kafka broker first
// (jars from Maven Central, cached in ~/.cache/reliable-kafka) and stops it at the end.
import { parseArgs } from 'node:util'
import { withKafka } from './local-kafka.js'
import { Admin, Producer, type DeliveryReport, type KafkaError } from '../src/index.js'

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '300' },
    topic: { type: 'string', default: 'task-events' },
    quiet: { type: 'boolean', default: false },
  },
})
const TASKS = Number(args.tasks)
const TOPIC = args.topic
const EVENTS = ['task.created', 'task.updated', 'task.completed'] as const

async function main(): Promise<number> {
  return withKafka(run)
}

async function run(bootstrap: string): Promise<number> {
  const admin = new Admin({ bootstrapServers: bootstrap })
  await admin.createTopics([{ name: TOPIC, numPartitions: 6, replicationFactor: 1 }])
  await admin.close()

  // The guide's production configuration (lz4 aside: see the README's status section).
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'task-service',
    acks: 'all',
    retries: 2147483647,
    'retry.backoff.ms': 100,
    'delivery.timeout.ms': 120000,
    'batch.size': 16384,
    'linger.ms': 5,
    'buffer.memory': 33554432,
    'max.block.ms': 60000,
  })

  let delivered = 0
  const failures: { key: string; err: KafkaError }[] = []
  const lastEventByTask = new Map<string, { partition: number; offset: number; type: string }>()
  const orderViolations: string[] = []
  const onDelivery = (err: KafkaError | null, report: DeliveryReport): void => {
    const key = report.key?.toString() ?? ''
    if (err) {
      failures.push({ key, err })
      console.error(`Delivery failed for ${key}: ${err.code}: ${err.message}`)
      return
    }
    delivered++
    const type = (JSON.parse(report.value!.toString()) as { type: string }).type
    const prev = lastEventByTask.get(key)
    // Same key → same partition → offsets follow the order the events were produced in.
    if (prev && (prev.partition !== report.partition || prev.offset >= report.offset)) {
      orderViolations.push(`${key}: ${prev.type}@${prev.offset} then ${type}@${report.offset}`)
    }
    lastEventByTask.set(key, { partition: report.partition, offset: report.offset, type })
    if (!args.quiet)
      console.log(`Delivered to ${report.topic}[${report.partition}]@${report.offset} ${key} ${type}`)
  }

  const started = performance.now()
  for (const type of EVENTS) {
    for (let t = 0; t < TASKS; t++) {
      const taskId = t + 1
      producer.produce(
        {
          topic: TOPIC,
          key: `task-${taskId}`,
          value: JSON.stringify({
            type,
            task_id: taskId,
            user_id: `user-${taskId % 17}`,
            at: new Date().toISOString(),
          }),
          headers: [
            ['event_type', type],
            ['source', 'task-service'],
          ],
        },
        onDelivery,
      )
    }
  }
  const remaining = await producer.flush(30_000)
  const seconds = (performance.now() - started) / 1000
  await producer.close()

  const total = TASKS * EVENTS.length
  console.log('')
  console.log(`Summary: ${total} events for ${TASKS} tasks`)
  console.log(`  delivered:        ${delivered}`)
  console.log(`  failed:           ${failures.length}`)
  console.log(`  undelivered:      ${remaining}`)
  console.log(`  order violations: ${orderViolations.length}`)
  console.log(`  throughput:       ${Math.round(delivered / seconds)} msgs/s (${seconds.toFixed(3)} s)`)
  return delivered === total && failures.length === 0 && orderViolations.length === 0 ? 0 : 1
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err)
    process.exitCode = 1
  },
)
