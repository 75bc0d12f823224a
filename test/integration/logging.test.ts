// debug 'all' against the real broker, with a capturing logger: an idempotent and a transactional
// producer's output shows the protocol steps (ApiVersions, Metadata, InitProducerId, Produce,
// FindCoordinator, AddPartitionsToTxn or Produce v12, EndTxn), the connections, the metadata, the
// producer id and the transaction states, and never a record's key or value. (Secrets at debug
// 'all' against the secured broker: security.test.ts, 'sessions and secrets'.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Producer, type ProducerConfig } from '../../src/index.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

function capturing(): { lines: string[]; logger: ProducerConfig['logger'] } {
  const lines: string[] = []
  const keep = (m: string): void => void lines.push(m)
  return { lines, logger: { debug: keep, info: keep, warn: keep, error: keep } }
}

const facilityCounts = (lines: string[]): string =>
  Object.entries(
    lines.reduce<Record<string, number>>((acc, l) => {
      const fac = l.slice(0, l.indexOf('|'))
      acc[fac] = (acc[fac] ?? 0) + 1
      return acc
    }, {}),
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')

test("debug 'all': the protocol steps of an idempotent and a transactional producer, no record data", async () => {
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('logging')
  await createTopic(bootstrap, { name: topic, numPartitions: 2 })

  const idem = capturing()
  const producer = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'log-idem',
    'linger.ms': 5,
    debug: 'all',
    logger: idem.logger,
  })
  try {
    for (let i = 0; i < 20; i++)
      await producer.send({ topic, key: `secret-key-${i}`, value: `secret-value-${i}` })
  } finally {
    await producer.close()
  }

  const txn = capturing()
  const tp = new Producer({
    'bootstrap.servers': bootstrap,
    'client.id': 'log-txn',
    'transactional.id': uniqueTopic('log-txn'),
    debug: 'eos,protocol',
    logger: txn.logger,
  })
  try {
    await tp.initTransactions()
    tp.beginTransaction()
    await tp.send({ topic, key: 'secret-key-t', value: 'secret-value-t' })
    await tp.commitTransaction()
  } finally {
    await tp.close()
  }

  const text = idem.lines.join('\n')
  for (const step of [
    /^CONF\|log-idem\| bootstrap\.servers = /m,
    /^SEND\|log-idem\| sent ApiVersions v\d+ request .* to bootstrap broker -1$/m,
    /^RECV\|log-idem\| received ApiVersions response /m,
    /^CONNECT\|log-idem\| connected to bootstrap broker -1 at /m,
    /^SEND\|log-idem\| sent Metadata v\d+ request/m,
    /^METADATA\|log-idem\| metadata from .*: 1 brokers \(1 at /m,
    new RegExp(`^TOPIC\\|log-idem\\| topic ${topic}: 2 partitions, 2 with a leader$`, 'm'),
    /^INIT\|log-idem\| producer log-idem bootstrapped: 1 brokers known$/m,
    /^SEND\|log-idem\| sent InitProducerId v\d+ request/m,
    /^PID\|log-idem\| producer id ready: id \d+, epoch 0$/m,
    /^CONNECT\|log-idem\| connected to broker 1 at /m,
    /^BATCH\|log-idem\| batch for .* \[\d\]: \d+ records/m,
    /^SEND\|log-idem\| sent Produce v\d+ request/m,
    /^RECV\|log-idem\| received Produce response/m,
    /^DR\|log-idem\| record delivered to .* at offset \d+$/m,
    /^DISCONNECT\|log-idem\| connection to broker 1 at .* closed: _DESTROY/m,
    /^TERMINATE\|log-idem\| producer log-idem closed \(0 records failed by close\)$/m,
  ]) {
    assert.match(text, step)
  }
  const txnText = txn.lines.join('\n')
  for (const step of [
    /^SEND\|log-txn\| sent FindCoordinator v\d+ request/m,
    /^SEND\|log-txn\| sent InitProducerId v\d+ request/m,
    /^PID\|log-txn\| producer id assigned: id \d+, epoch \d+$/m,
    /^TXNSTATE\|log-txn\| transaction .*: state ready$/m,
    /^TXNSTATE\|log-txn\| transaction .*: state inTransaction$/m,
    /^TXNSTATE\|log-txn\| transaction .*: state committing$/m,
    /^SEND\|log-txn\| sent EndTxn v\d+ request/m,
  ]) {
    assert.match(txnText, step)
  }
  for (const line of [...idem.lines, ...txn.lines]) assert.ok(!/secret-(key|value)/.test(line), line)
  console.log(`debug all (idempotent): ${idem.lines.length} lines: ${facilityCounts(idem.lines)}`)
  console.log(`debug eos,protocol (transactional): ${txn.lines.length} lines: ${facilityCounts(txn.lines)}`)
})
