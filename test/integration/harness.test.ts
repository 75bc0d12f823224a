// Proves the real-broker harness itself: the shared broker, private clusters that survive a restart,
// a 3-node cluster, and the independent peers (console tools, kcat) agreeing on the same records.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { probeMetadata } from '../../scripts/kafka/probe.js'
import {
  consoleConsume,
  consoleProduce,
  kcatConsume,
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
