// Type tests of the public API (src/index.ts). The functions below are compiled by `npm run build`
// (tsconfig includes test/) and never called: each `@ts-expect-error` line must fail to compile, or
// tsc reports the directive as unused and the build fails; every other line must compile. The one
// runtime test checks what the types promise where JavaScript can break it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  KafkaError,
  Producer,
  presets,
  type CloseOptions,
  type DeliveryCallback,
  type DeliveryReport,
  type KafkaErrorCode,
  type PartitionMetadata,
  type PresetName,
  type ProducerConfig,
  type ResolvedProducerConfig,
} from '../../src/index.js'

/** KafkaError.code is the union of the error table's names. */
export function errorCodes(err: KafkaError): KafkaErrorCode {
  if (err.code === '_QUEUE_FULL' || err.code === 'NOT_LEADER_OR_FOLLOWER') return err.code
  // @ts-expect-error a misspelled local code is not a KafkaErrorCode
  if (err.code === '_QUEUE_FULLL') return err.code
  // @ts-expect-error a misspelled broker code either
  if (err.code === 'NOT_LEADER_FOR_PARTITON') return err.code
  switch (err.code) {
    case '_MSG_TIMED_OUT':
    case 'PRODUCER_FENCED':
      return err.code
    // @ts-expect-error not a code
    case 'TIMEOUT':
      return '_TIMED_OUT'
  }
  const known: KafkaErrorCode = '_APPLICATION'
  // @ts-expect-error the union has no free strings
  const unknown: KafkaErrorCode = 'SOMETHING_ELSE'
  new KafkaError('_STATE', 'closed')
  // @ts-expect-error the constructor takes the union too
  new KafkaError('_STAET', 'closed')
  KafkaError.wrap(new Error('x'), '_TRANSPORT')
  // @ts-expect-error and so does wrap()
  KafkaError.wrap(new Error('x'), 'TRANSPORT')
  return unknown === known ? known : err.code
}

/** produce()'s callback and dr_msg_cb get the same DeliveryReport, with key, value and headers. */
export function deliveryReports(producer: Producer): ProducerConfig {
  const fields = (r: DeliveryReport): [string, number, number, Buffer | null, Buffer | null, number] => [
    r.topic,
    r.partition,
    r.offset,
    r.key,
    r.value,
    r.headers.length,
  ]
  producer.produce({ topic: 't', value: 'v' }, (err, report) => {
    fields(report)
    // @ts-expect-error misspelled field
    return err ?? report.offest
  })
  // @ts-expect-error key is null for a record without one
  producer.produce({ topic: 't', value: 'v' }, (_err, report) => report.key.length)
  const cb: DeliveryCallback = (_err, report) => fields(report)
  const config: ProducerConfig = {
    'bootstrap.servers': 'kafka:9092',
    dr_msg_cb: (err, report) => {
      const key: Buffer | null = report.key
      const value: Buffer | null = report.value
      const headers: ReadonlyArray<readonly [string, Buffer | null]> = report.headers
      // @ts-expect-error misspelled field, in the global callback too
      return err ?? [key, value, headers, report.header]
    },
    dr_cb: cb,
    on_delivery: cb,
  }
  return config
}

/** Read-only views instead of internals. */
export function surface(producer: Producer): [bigint | null, number | null, ResolvedProducerConfig] {
  const id: bigint | null = producer.producerId
  const epoch: number | null = producer.producerEpoch
  // @ts-expect-error producerId is a getter only
  producer.producerId = 1n
  // @ts-expect-error producerEpoch too
  producer.producerEpoch = 0
  // @ts-expect-error the idempotence state is private
  producer.idempotence?.bumpEpoch([])
  const config: ResolvedProducerConfig = producer.config
  // A secret reads '[redacted]' or null, never its value.
  const password: '[redacted]' | null = config.saslPassword
  // @ts-expect-error so comparing it with a password cannot be meant
  if (config.saslPassword === 'hunter2') return [id, epoch, config]
  // @ts-expect-error the resolved configuration is read-only
  config.lingerMs = 0
  return password === null ? [id, epoch, config] : [null, null, config]
}

/** connect(), partitionsFor(), AbortSignal on send() and flush(), `await using` (docs/producer.md). */
export async function readinessAndCancelling(producer: Producer, signal: AbortSignal): Promise<number> {
  await producer.connect()
  await producer.connect({ topics: ['t'], timeoutMs: 1_000 })
  // @ts-expect-error topics is a list
  await producer.connect({ topics: 't' })
  const partitions: PartitionMetadata[] = await producer.partitionsFor('t', { timeoutMs: 1_000 })
  // @ts-expect-error what partitionsFor() gives is read-only
  partitions[0]!.leader = 2
  const report: DeliveryReport = await producer.send({ topic: 't', value: 'v' }, { signal })
  const left: number = await producer.flush(1_000, { signal })
  await producer.flush({ timeoutMs: 1_000, signal })
  // @ts-expect-error the timeout is given once: as the first argument or in the options
  await producer.flush(1_000, { timeoutMs: 5 })
  await using scoped = new Producer({ 'bootstrap.servers': 'kafka:9092' })
  return left + report.offset + scoped.pending
}

/** close() with a number or options, purge() counting what it failed. */
export async function shutdown(producer: Producer, options: CloseOptions): Promise<number> {
  await producer.close(1_000)
  await producer.close({ timeoutMs: 1_000 })
  await producer.close(options)
  // @ts-expect-error the option is timeoutMs, as for flush()
  await producer.close({ timeout: 1_000 })
  const purged: number = producer.purge()
  return purged
}

/** What the package exports, and what it keeps to itself. */
export function exports(name: PresetName): ProducerConfig {
  // @ts-expect-error not a preset
  const wrong: PresetName = 'fastest'
  return { ...presets[name], ...presets[wrong], 'bootstrap.servers': 'kafka:9092' }
}
// @ts-expect-error the test seams are not part of the package's API
export type NoDependencies = import('../../src/index.js').ProducerDependencies
// @ts-expect-error nor the secrets' accessor
export type NoSecretValue = typeof import('../../src/index.js').secretValue

describe('types of the public API', () => {
  it('the functions above compiled (npm run build), and exist', () => {
    for (const f of [errorCodes, deliveryReports, surface, readinessAndCancelling, shutdown, exports]) {
      assert.equal(typeof f, 'function')
    }
  })

  it('a getter-only property also refuses writes at run time', async () => {
    const producer = new Producer({ 'bootstrap.servers': '127.0.0.1:1', 'enable.idempotence': true })
    try {
      assert.throws(() => {
        ;(producer as unknown as { producerId: bigint }).producerId = 5n
      }, TypeError)
      assert.equal(producer.producerId, null)
      assert.equal(producer.producerEpoch, null)
    } finally {
      await producer.close(0)
    }
  })
})
