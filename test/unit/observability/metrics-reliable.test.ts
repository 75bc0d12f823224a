// ReliableProducer.metrics(): its counters as the group reliable-producer-metrics, then the data
// producer's Java-named metrics; the Prometheus text parses.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { ErrorCode } from '../../../src/errors/index.js'
import type { Metric } from '../../../src/observability/metrics/registry.js'
import { closeFakeReliables, fakeReliable } from '../../helpers/fake-reliable.js'

afterEach(closeFakeReliables)

function value(metrics: readonly Metric[], group: string, name: string): number {
  const found = metrics.filter((m) => m.group === group && m.name === name)
  assert.equal(found.length, 1, `${group} ${name}: ${found.length} found`)
  return found[0]!.value
}

describe('ReliableProducer.metrics()', () => {
  it('counts dead-lettered records and carries the data producer metrics', async () => {
    const { rp, cluster, pump } = fakeReliable({ 'client.id': 'rel' })
    // The original topic refuses every record for good: each goes to t.dlq.
    cluster.produceHandler = () => ({
      partitions: (t) => (t === 't' ? { errorCode: ErrorCode.MESSAGE_TOO_LARGE } : undefined),
    })
    const sent = [rp.send('t', 'k1', 'v1'), rp.send('t', 'k2', 'v2'), rp.send('t', 'k3', 'v3')]
    assert.equal(value(rp.metrics(), 'reliable-producer-metrics', 'send-pending'), 3)
    await pump()
    await Promise.all(sent)
    const m = rp.metrics()
    assert.equal(value(m, 'reliable-producer-metrics', 'record-dead-lettered-total'), 3)
    assert.equal(value(m, 'reliable-producer-metrics', 'record-spooled-total'), 0)
    assert.equal(value(m, 'reliable-producer-metrics', 'dead-letter-error-total'), 0)
    assert.equal(value(m, 'reliable-producer-metrics', 'send-pending'), 0)
    assert.equal(value(m, 'producer-metrics', 'record-error-total'), 3)
    assert.ok(m.every((x) => x.tags['client-id'] === 'rel'))
    const families = parsePrometheusTextFormat(rp.prometheus())
    const routed = families.find((f) => f.name === 'kafka_reliable_producer_record_dead_lettered_total')!
    assert.deepEqual(routed.metrics, [{ labels: { client_id: 'rel' }, value: '3' }])
    assert.ok(families.some((f) => f.name === 'kafka_producer_record_error_total'))
    // The dead-letter producer's own metrics: the three dead-letter records it delivered.
    assert.equal(value(rp.deadLetterProducer.metrics(), 'producer-metrics', 'record-send-total'), 3)
  })

  it('is empty with metrics.enable=false', () => {
    const { rp } = fakeReliable({ 'metrics.enable': false })
    assert.deepEqual(rp.metrics(), [])
    assert.equal(rp.prometheus(), '')
  })
})
