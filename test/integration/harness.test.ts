// Proves the real-broker harness itself: the shared broker, private clusters that survive a restart,
// a 3-node cluster, feature levels, the independent peers (console tools, kcat) agreeing on the same
// records, and consumer-group offsets as Kafka's own tool reads them.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { startKafka } from '../../scripts/kafka/cluster.js'
import { probeMetadata } from '../../scripts/kafka/probe.js'
import {
  consoleConsume,
  consoleConsumeRecords,
  consoleProduce,
  consumerGroupOffsets,
  describeFeatures,
  kcatConsume,
  parseConsoleRecords,
  parseConsumerGroupOffsets,
  parseFeatureDescribe,
  runKafkaTool,
  skipWithoutKcat,
} from '../../scripts/kafka/tools.js'
import { sharedBootstrapServers, withPrivateKafka } from '../helpers/kafka.js'

// TopicCommand from the Kafka jars, on purpose: our own admin client is not the thing under test here.
async function createTopic(
  bootstrapServers: string,
  topic: string,
  partitions: number,
  rf: number,
): Promise<void> {
  await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrapServers,
    '--create',
    '--topic',
    topic,
    '--partitions',
    String(partitions),
    '--replication-factor',
    String(rf),
  ])
}

async function listTopics(bootstrapServers: string): Promise<string[]> {
  const out = await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrapServers,
    '--list',
  ])
  return out.split('\n').filter((l) => l.length > 0)
}

function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

function hostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':')
  return [address.slice(0, i), Number(address.slice(i + 1))]
}

test('the shared broker answers Metadata', async () => {
  const first = sharedBootstrapServers().split(',')[0] ?? ''
  const [host, port] = hostPort(first)
  const r = await probeMetadata(host, port)
  assert.ok(r.brokers.length >= 1, 'at least one broker listed')
  assert.ok(r.clusterId, 'a cluster id')
})

test('console producer -> console consumer and kcat agree on keys, values, nulls and headers', async (t) => {
  const bootstrapServers = sharedBootstrapServers()
  const topic = uniqueTopic('harness-roundtrip')
  await createTopic(bootstrapServers, topic, 1, 1)
  await consoleProduce({
    bootstrapServers,
    topic,
    parseKey: true,
    // headers<TAB>key<TAB>value; '<null>' makes a null key or value.
    properties: { 'parse.headers': 'true', 'null.marker': '<null>' },
    lines: ['h1:a,h2:b\tk1\tv1', 'h1:c\tk2\thello world', 'h1:d\t<null>\t', 'h1:e\tk4\t<null>'],
  })

  const text = await consoleConsume({
    bootstrapServers,
    topic,
    maxMessages: 4,
    timeoutMs: 15_000,
    properties: {
      'print.key': 'true',
      'print.headers': 'true',
      'print.offset': 'true',
      'key.separator': '|',
    },
  })
  assert.deepEqual(text.trimEnd().split('\n'), [
    'Offset:0|h1:a,h2:b|k1|v1',
    'Offset:1|h1:c|k2|hello world',
    'Offset:2|h1:d|null|',
    'Offset:3|h1:e|k4|null',
  ])

  await t.test('kcat reads the same records', async (t) => {
    if (skipWithoutKcat(t)) return
    const records = await kcatConsume({ bootstrapServers, topic, count: 4 })
    assert.equal(records.length, 4)
    assert.deepEqual(
      records.map((r) => [r.partition, r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null]),
      [
        [0, 0, 'k1', 'v1'],
        [0, 1, 'k2', 'hello world'],
        [0, 2, null, ''],
        [0, 3, 'k4', null],
      ],
    )
    assert.deepEqual(
      records[0]?.headers.map(([k, v]) => [k, v.toString()]),
      [
        ['h1', 'a'],
        ['h2', 'b'],
      ],
    )
    for (const r of records) assert.ok(Math.abs(r.timestamp - Date.now()) < 10 * 60_000, 'a recent timestamp')
  })
})

test('a private 1-node cluster stops, restarts on the same port with its data, and survives a kill', async () => {
  await withPrivateKafka({ nodes: 1 }, async (cluster) => {
    const node = cluster.nodes[0]
    assert.ok(node)
    const topic = uniqueTopic('harness-restart')
    await createTopic(cluster.bootstrapServers, topic, 1, 1)

    await node.stop()
    assert.equal(node.running, false)
    await assert.rejects(probeMetadata('127.0.0.1', node.port, 1000))

    await node.start()
    assert.equal(node.running, true)
    await cluster.waitReady(30_000)
    assert.equal(cluster.bootstrapServers, `127.0.0.1:${node.port}`)
    assert.ok((await listTopics(cluster.bootstrapServers)).includes(topic), 'topic kept across the restart')

    await node.kill()
    assert.equal(node.running, false)
    await node.start()
    const r = await probeMetadata('127.0.0.1', node.port)
    assert.deepEqual(
      r.brokers.map((b) => b.nodeId),
      [1],
    )
  })
})

test('a 3-node cluster lists 3 brokers on every node', async () => {
  await withPrivateKafka({ nodes: 3 }, async (cluster) => {
    assert.equal(cluster.nodes.length, 3)
    assert.equal(cluster.bootstrapServers.split(',').length, 3)
    for (const node of cluster.nodes) {
      const r = await probeMetadata('127.0.0.1', node.port)
      assert.deepEqual(r.brokers.map((b) => b.nodeId).sort(), [1, 2, 3])
    }
  })
})

test('the parsers read the console tools’ output as printed by Kafka 4.4', () => {
  // ConsoleConsumer with consoleConsumeRecords' formatter properties: U+001F between fields, U+001E
  // after each record, U+0015 for null.
  assert.deepEqual(
    parseConsoleRecords(
      'Partition:1\x1fOffset:0\x1fk1\x1fv1\x1e' +
        'Partition:1\x1fOffset:2\x1f\x15\x1f\x1e' +
        'Partition:0\x1fOffset:7\x1fnull\x1f\x15\x1e',
    ),
    [
      { partition: 1, offset: 0, key: 'k1', value: 'v1' },
      { partition: 1, offset: 2, key: null, value: '' },
      { partition: 0, offset: 7, key: 'null', value: null },
    ],
  )
  assert.deepEqual(parseConsoleRecords(''), [])
  assert.throws(() => parseConsoleRecords('Partition:0\x1fOffset:0\x1fk\x1fv'), /unterminated/)
  assert.throws(() => parseConsoleRecords('Partition:0\x1fOffset:0\x1fk\x1fv\x1fw\x1e'), /unexpected record/)

  // ConsumerGroupCommand --describe --offsets: a table; nothing for an existing group without
  // offsets; and for an unknown group an error on stdout, with exit code 0.
  const table =
    '\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n' +
    'my group        t1              1          4               4               0               -               -               -\n' +
    'my group        t1              0          -               1               -               -               -               -\n'
  assert.deepEqual(parseConsumerGroupOffsets(table, 'my group'), [
    { topic: 't1', partition: 0, committedOffset: null },
    { topic: 't1', partition: 1, committedOffset: 4 },
  ])
  assert.deepEqual(parseConsumerGroupOffsets('', 'g'), [])
  assert.deepEqual(
    parseConsumerGroupOffsets(
      '\nError: Executing consumer group command failed due to org.apache.kafka.common.errors.GroupIdNotFoundException: Group g not found.\n',
      'g',
    ),
    [],
  )
  assert.throws(
    () =>
      parseConsumerGroupOffsets(
        '\nError: Executing consumer group command failed due to org.apache.kafka.common.errors.TimeoutException: Timed out\n',
        'g',
      ),
    /TimeoutException/,
  )

  assert.deepEqual(
    parseFeatureDescribe(
      'Feature: metadata.version                          SupportedMinVersion: UNKNOWN 1        SupportedMaxVersion: 4.4-IV2          FinalizedVersionLevel: 4.4-IV2          Epoch: 17\n' +
        'Feature: transaction.version                       SupportedMinVersion: 0                SupportedMaxVersion: 2                FinalizedVersionLevel: 1                Epoch: 17\n',
    ),
    [
      {
        feature: 'metadata.version',
        supportedMinVersion: 'UNKNOWN 1',
        supportedMaxVersion: '4.4-IV2',
        finalizedVersionLevel: '4.4-IV2',
      },
      {
        feature: 'transaction.version',
        supportedMinVersion: '0',
        supportedMaxVersion: '2',
        finalizedVersionLevel: '1',
      },
    ],
  )
})

function finalizedLevel(features: Awaited<ReturnType<typeof describeFeatures>>, name: string): string {
  const f = features.find((d) => d.feature === name)
  assert.ok(f, `FeatureCommand lists ${name}`)
  return f.finalizedVersionLevel
}

test('features: a broker formatted with transaction.version=1 finalizes it; versions that cannot are refused', async () => {
  // Refused before any download or JVM: ZooKeeper mode has no storage to format, 3.8 was not checked.
  await assert.rejects(
    startKafka({ version: '2.8.2', features: { 'transaction.version': 1 } }),
    /need a KRaft cluster, but Kafka 2\.8\.2 runs in ZooKeeper mode/,
  )
  await assert.rejects(
    startKafka({ version: '3.8.1', features: { 'transaction.version': 1 } }),
    /need Kafka 3\.9 or newer/,
  )
  await assert.rejects(startKafka({ features: { 'transaction.version': 1.5 } }), /integer from 0 to 32767/)

  // The shared broker shows the 4.x default, so the level below is the option's doing (only when the
  // run's broker is the default version; --kafka-version may pick another).
  const [shared] = await Promise.all([
    process.env['KAFKA_VERSION'] === undefined ? describeFeatures(sharedBootstrapServers()) : null,
    withPrivateKafka({ features: { 'transaction.version': 1 } }, async (cluster) => {
      const features = await describeFeatures(cluster.bootstrapServers)
      assert.equal(finalizedLevel(features, 'transaction.version'), '1')
    }),
  ])
  if (shared) assert.equal(finalizedLevel(shared, 'transaction.version'), '2')
})

test('read_committed ConsoleConsumer records and the group offsets it commits', async (t) => {
  const bootstrapServers = sharedBootstrapServers()
  const topic = uniqueTopic('harness-records')
  const group = uniqueTopic('harness-group')
  await createTopic(bootstrapServers, topic, 2, 1)
  const lines = ['k1\tv1', 'k2\thello world', 'k3\tgrüße ✓', '<null>\tnull key', 'null\t<null>', 'k6\t']
  await consoleProduce({
    bootstrapServers,
    topic,
    parseKey: true,
    properties: { 'null.marker': '<null>' },
    lines,
  })

  const records = await consoleConsumeRecords({
    bootstrapServers,
    topic,
    isolationLevel: 'read_committed',
    maxMessages: lines.length,
    group,
  })
  const sent = [
    ['k1', 'v1'],
    ['k2', 'hello world'],
    ['k3', 'grüße ✓'],
    [null, 'null key'],
    ['null', null],
    ['k6', ''],
  ]
  assert.deepEqual(
    records.map((r) => JSON.stringify([r.key, r.value])).sort(),
    sent.map((kv) => JSON.stringify(kv)).sort(),
    'every record once, nulls apart from the text "null"',
  )
  const counts = [0, 1].map((p) => records.filter((r) => r.partition === p).length)
  for (const p of [0, 1]) {
    const mine = records.filter((r) => r.partition === p)
    assert.deepEqual(
      mine.map((r) => r.offset),
      mine.map((_, i) => i),
      `partition ${p}: offsets 0.. in order`,
    )
    // ConsoleProducer sends in input order, so each partition holds its records in that order.
    const order = mine.map((r) => sent.findIndex(([k, v]) => k === r.key && v === r.value))
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `partition ${p}: records in the order sent`,
    )
  }

  // Closing, the console consumer of the group committed its position: the end of each partition.
  const [committed, unknown] = await Promise.all([
    consumerGroupOffsets({ bootstrapServers, group }),
    consumerGroupOffsets({ bootstrapServers, group: `${group}-unknown` }),
  ])
  assert.deepEqual(unknown, [])
  assert.deepEqual(committed, [
    { topic, partition: 0, committedOffset: counts[0] },
    { topic, partition: 1, committedOffset: counts[1] },
  ])

  await t.test('kcat reads the same partitions and offsets', async (t) => {
    if (skipWithoutKcat(t)) return
    const seen = await kcatConsume({ bootstrapServers, topic, count: lines.length })
    const key = (p: number, o: number, k: string | null, v: string | null): string =>
      JSON.stringify([p, o, k, v])
    assert.deepEqual(
      seen
        .map((r) => key(r.partition, r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null))
        .sort(),
      records.map((r) => key(r.partition, r.offset, r.key, r.value)).sort(),
    )
  })
})
