// The guide's "Stats Callback": every statistics.interval.ms the producer hands stats_cb librdkafka's
// statistics JSON (docs/statistics.md). The callback below is the guide's Python, translated line for
// line, with one correction: the guide reads `batchsize` from each partition, but librdkafka (and
// this client, which uses the same format) keeps `batchsize` and `batchcnt` per *topic*; per
// partition there are queue depths and counters (msgq_cnt, xmit_msgq_cnt, txmsgs, ...). Read from a
// partition, the guide's lookup always finds nothing and prints 0. Also note the guide's label: its
// second line prints `msg_size`, the bytes of all records not yet delivered (queued or in flight).
// Without KAFKA_BOOTSTRAP_SERVERS it starts a local Kafka broker first and stops it at the end.
//
//   npx tsc -p tsconfig.json && node dist/examples/stats-callback.js
import { pathToFileURL } from 'node:url'
import { withKafka } from './local-kafka.js'
import { Admin, Producer, type Statistics } from '../src/index.js'

// def stats_callback(stats_json):
export function statsCallback(statsJson: string, print: (line: string) => void = console.log): void {
  // stats = json.loads(stats_json)
  const stats = JSON.parse(statsJson) as Partial<Statistics>
  // print(f"Messages in queue: {stats.get('msg_cnt', 0)}")
  print(`Messages in queue: ${stats.msg_cnt ?? 0}`)
  // print(f"Messages in flight: {stats.get('msg_size', 0)} bytes")
  print(`Messages in flight: ${stats.msg_size ?? 0} bytes`)
  // for topic_name, topic_stats in stats.get('topics', {}).items():
  for (const [topicName, topicStats] of Object.entries(stats.topics ?? {})) {
    //   for partition_id, partition_stats in topic_stats.get('partitions', {}).items():
    for (const partitionId of Object.keys(topicStats.partitions ?? {})) {
      // batch_size = partition_stats.get('batchsize', {})   <- the guide's mistake: it is per topic
      const batchSize = topicStats.batchsize ?? { avg: 0, cnt: 0 }
      // print(f"{topic_name}[{partition_id}]:")
      print(`${topicName}[${partitionId}]:`)
      // print(f"  Avg batch size: {batch_size.get('avg', 0)} bytes")
      print(`  Avg batch size: ${batchSize.avg ?? 0} bytes`)
      // print(f"  Batch count: {batch_size.get('cnt', 0)}")
      print(`  Batch count: ${batchSize.cnt ?? 0}`)
    }
  }
}

async function main(): Promise<void> {
  await withKafka(async (bootstrap) => {
    const admin = new Admin({ bootstrapServers: bootstrap })
    await admin.createTopics([{ name: 'stats-demo', numPartitions: 3 }])
    await admin.close()

    // producer = Producer({..., 'stats_cb': stats_callback, 'statistics.interval.ms': 5000})
    const producer = new Producer({
      'bootstrap.servers': bootstrap,
      'linger.ms': 50,
      'batch.size': 65536,
      stats_cb: statsCallback,
      'statistics.interval.ms': 5000,
    })
    // Twelve seconds of records (1,000 every 100 ms), so that two statistics land during the run.
    const until = Date.now() + 12_000
    for (let i = 0; Date.now() < until; i++) {
      producer.produce({ topic: 'stats-demo', key: `user-${i % 100}`, value: 'x'.repeat(100) })
      if (i % 1000 === 999) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await producer.flush()
    // The same object, typed, for TypeScript users.
    const stats = producer.statistics()
    console.log(
      `typed, as of the last emission: ${stats?.txmsgs ?? 0} records sent, ${stats?.txmsg_bytes ?? 0} key+value bytes`,
    )
    await producer.close()
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
