// The Prometheus text exposition (format 0.0.4) of Java-named metrics: names, types, labels,
// escaping, and that a real parser (parse-prometheus-text-format, a port of the Prometheus Python
// client's parser) reads it back to the same values.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { Metric } from '../../../src/observability/metrics/registry.js'
import { prometheusName, toPrometheusText } from '../../../src/observability/metrics/prometheus.js'

function metric(group: string, name: string, tags: Record<string, string>, value: number): Metric {
  return { group, name, tags, value, description: `about ${name}` }
}

describe('Prometheus exposition', () => {
  it('names a metric kafka_<group>_<name> in snake_case', () => {
    assert.equal(prometheusName('producer-metrics', 'record-send-total'), 'kafka_producer_record_send_total')
    assert.equal(
      prometheusName('producer-topic-metrics', 'record-send-total'),
      'kafka_producer_topic_record_send_total',
    )
    assert.equal(
      prometheusName('producer-node-metrics', 'request-latency-avg'),
      'kafka_producer_node_request_latency_avg',
    )
    assert.equal(prometheusName('x.y metrics', '1-odd name'), 'kafka_x_y_metrics_1_odd_name')
  })

  it('writes HELP and TYPE once per family, counters for -total, labels from tags', () => {
    const text = toPrometheusText([
      metric('producer-topic-metrics', 'record-send-total', { 'client-id': 'c', topic: 'a' }, 3),
      metric('producer-metrics', 'record-send-rate', { 'client-id': 'c' }, 1.5),
      metric('producer-topic-metrics', 'record-send-total', { 'client-id': 'c', topic: 'b' }, 4),
    ])
    assert.equal(
      text,
      [
        '# HELP kafka_producer_topic_record_send_total about record-send-total',
        '# TYPE kafka_producer_topic_record_send_total counter',
        'kafka_producer_topic_record_send_total{client_id="c",topic="a"} 3',
        'kafka_producer_topic_record_send_total{client_id="c",topic="b"} 4',
        '# HELP kafka_producer_record_send_rate about record-send-rate',
        '# TYPE kafka_producer_record_send_rate gauge',
        'kafka_producer_record_send_rate{client_id="c"} 1.5',
        '',
      ].join('\n'),
    )
  })

  it('escapes label values and help text; NaN and infinities as Prometheus spells them', () => {
    const hostile = 'a\\b"c\nd}{,='
    const text = toPrometheusText([
      {
        group: 'producer-metrics',
        name: 'x-avg',
        tags: { topic: hostile, __x: '1' },
        value: NaN,
        description: 'line1\nline2 \\ end',
      },
      metric('producer-metrics', 'y-max', {}, Infinity),
      metric('producer-metrics', 'z-max', {}, -Infinity),
    ])
    assert.match(text, /^# HELP kafka_producer_x_avg line1\\nline2 \\\\ end$/m)
    assert.match(text, /^kafka_producer_x_avg\{topic="a\\\\b\\"c\\nd\}\{,=",x__x="1"\} NaN$/m)
    assert.match(text, /^kafka_producer_y_max \+Inf$/m)
    assert.match(text, /^kafka_producer_z_max -Inf$/m)
    const parsed = parsePrometheusTextFormat(text)
    assert.equal(parsed[0]!.metrics[0]!.labels!.topic, hostile)
    assert.equal(parsed[0]!.help, 'line1\nline2 \\ end')
  })

  it('parses back with a real parser to the same families, labels and values', () => {
    const metrics: Metric[] = []
    for (const topic of ['orders', 'pay"ments']) {
      metrics.push(metric('producer-topic-metrics', 'record-send-total', { 'client-id': 'app', topic }, 10))
      metrics.push(metric('producer-topic-metrics', 'byte-rate', { 'client-id': 'app', topic }, 0.125))
    }
    metrics.push(metric('producer-metrics', 'request-latency-avg', { 'client-id': 'app' }, NaN))
    metrics.push(
      metric('producer-node-metrics', 'request-total', { 'client-id': 'app', 'node-id': 'node-1' }, 7),
    )
    const parsed = parsePrometheusTextFormat(toPrometheusText(metrics))
    assert.deepEqual(
      parsed.map((f) => [f.name, f.type, f.metrics.length]),
      [
        ['kafka_producer_topic_record_send_total', 'COUNTER', 2],
        ['kafka_producer_topic_byte_rate', 'GAUGE', 2],
        ['kafka_producer_request_latency_avg', 'GAUGE', 1],
        ['kafka_producer_node_request_total', 'COUNTER', 1],
      ],
    )
    assert.deepEqual(parsed[0]!.metrics[1], { labels: { client_id: 'app', topic: 'pay"ments' }, value: '10' })
    assert.equal(parsed[2]!.metrics[0]!.value, 'NaN')
    assert.deepEqual(parsed[3]!.metrics[0]!.labels, { client_id: 'app', node_id: 'node-1' })
  })

  it('is empty for no metrics', () => {
    assert.equal(toPrometheusText([]), '')
  })
})
