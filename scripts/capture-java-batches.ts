// Captures record batches written by Kafka's Java producer with each compression codec, as test
// fixtures for our decoders (test/fixtures/java-batches/<codec>.bin, read by
// test/unit/compression/java-batches.test.ts).
//
//   npx tsc -p tsconfig.json && node dist/scripts/capture-java-batches.js
//
// Starts a single-node broker (or uses KAFKA_BOOTSTRAP_SERVERS), and for each codec: creates a
// one-partition topic, produces JAVA_BATCH_RECORDS with Kafka's ConsoleProducer
// (--compression-codec <codec>, a long linger.ms so all records land in one batch), then fetches the
// partition's raw bytes with our Fetch request and saves them. With the topic's compression.type
// left at `producer`, the broker keeps the producer's compressed records as they are (it only
// assigns offsets and the leader epoch in the batch header), so the payload is Java's.
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Connection } from '../src/network/connection.js'
import { Admin } from '../src/index.js'
import { FetchApi } from '../src/protocol/messages/index.js'
import { decodeRecordBatches } from '../src/protocol/record-batch.js'
import { startKafka, type KafkaCluster } from './kafka/cluster.js'
import { DEFAULT_KAFKA_VERSION } from './kafka/jars.js'
import { consoleProduce } from './kafka/tools.js'
import {
  JAVA_BATCH_CODECS,
  JAVA_BATCH_RECORDS,
  type JavaBatchCodec,
} from '../test/fixtures/java-batches/records.js'

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const outDir = join(repoRoot, 'test', 'fixtures', 'java-batches')
const MAX_BYTES = 1024 * 1024

/**
 * The raw record bytes of `topic` partition 0 from offset 0 (Fetch v12 to the first bootstrap
 * address, which must lead the partition: fine on a single-node cluster). Retries until some arrive.
 * Also used by test/integration/compression.test.ts to check the codec of our batches on the broker.
 */
export async function fetchPartitionBytes(
  bootstrap: string,
  topic: string,
  maxBytes = MAX_BYTES,
): Promise<Buffer> {
  const [host, port] = bootstrap.split(',')[0]!.split(':') as [string, string]
  const conn = new Connection({
    host,
    port: Number(port),
    nodeId: -1,
    clientId: 'capture-java-batches',
    requestTimeoutMs: 30_000,
    connectTimeoutMs: 10_000,
  })
  await conn.connect()
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      // v12 is the newest Fetch that names topics (v13+ take topic ids).
      const res = await conn.request(
        FetchApi,
        {
          replicaId: -1,
          maxWaitMs: 500,
          minBytes: 1,
          maxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic,
              topicId: Buffer.alloc(16),
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: -1,
                  fetchOffset: 0n,
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: maxBytes,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        },
        { maxVersion: 12 },
      )
      const p = res.responses[0]?.partitions[0]
      if (res.errorCode !== 0 || p === undefined) throw new Error(`Fetch failed: error ${res.errorCode}`)
      if (p.errorCode !== 0 && p.errorCode !== 6) throw new Error(`Fetch ${topic}-0: error ${p.errorCode}`)
      if (p.records !== null && p.records.length > 0) return Buffer.from(p.records)
      await sleep(250)
    }
    throw new Error(`Fetch ${topic}-0 returned no records`)
  } finally {
    conn.close()
  }
}

async function capture(bootstrap: string, codec: JavaBatchCodec): Promise<void> {
  const topic = `java-batch-${codec}-${Date.now().toString(36)}`
  const admin = new Admin({ bootstrapServers: bootstrap })
  try {
    await admin.createTopics(
      [{ name: topic, numPartitions: 1, replicationFactor: 1, configs: { 'compression.type': 'producer' } }],
      { timeoutMs: 60_000 },
    )
  } finally {
    await admin.close()
  }
  // linger.ms long enough that all records land in one batch.
  await consoleProduce({
    bootstrapServers: bootstrap,
    topic,
    lines: JAVA_BATCH_RECORDS.map((r) => `${r.key}\t${r.value}`),
    parseKey: true,
    keySeparator: '\t',
    compressionCodec: codec,
    producerProperties: { 'linger.ms': '10000', acks: 'all' },
  })
  const bytes = await fetchPartitionBytes(bootstrap, topic)
  const batches = decodeRecordBatches(bytes)
  assert.equal(batches.length, 1, `${codec}: expected one batch, got ${batches.length}`)
  const batch = batches[0]!
  assert.equal(batch.compression, codec)
  assert.equal(bytes.length, 12 + bytes.readInt32BE(8), `${codec}: trailing bytes after the batch`)
  assert.deepEqual(
    batch.records.map((r) => ({ key: r.key?.toString('utf8'), value: r.value?.toString('utf8') })),
    JAVA_BATCH_RECORDS,
  )
  const file = join(outDir, `${codec}.bin`)
  await writeFile(file, bytes)
  console.log(`${codec}: ${bytes.length} bytes, ${batch.records.length} records -> ${file}`)
}

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true })
  let cluster: KafkaCluster | null = null
  let bootstrap = process.env['KAFKA_BOOTSTRAP_SERVERS']
  if (!bootstrap) {
    cluster = await startKafka({ nodes: 1 })
    bootstrap = cluster.bootstrapServers
  }
  console.log(`Kafka ${DEFAULT_KAFKA_VERSION} at ${bootstrap}`)
  try {
    for (const codec of JAVA_BATCH_CODECS) await capture(bootstrap, codec)
  } finally {
    await cluster?.stop()
  }
}

// Run as a script, not when imported by a test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
