// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/)
// for metrics named as Java's (MetricName: name, group, tags). Names follow the Prometheus
// conventions (https://prometheus.io/docs/practices/naming/): snake_case, a `kafka_` namespace and the
// group as subsystem, so `record-send-total` of group `producer-metrics` is
// `kafka_producer_record_send_total` and the per-topic one `kafka_producer_topic_record_send_total`
// (a family of its own: summing a family never counts a record twice). Tags become labels
// (`client-id` → `client_id`). `-total` metrics are counters, everything else gauges.
import type { Metric } from './registry.js'

/** The Prometheus family name of a metric: `kafka_<group without -metrics>_<name>`, snake_case. */
export function prometheusName(group: string, name: string): string {
  const subsystem = group.replace(/-metrics$/, '')
  return sanitize(`kafka_${subsystem}_${name}`)
}

/** The text exposition of `metrics`: one `# HELP` and `# TYPE` per family, then its samples. */
export function toPrometheusText(metrics: readonly Metric[]): string {
  const families = new Map<string, { help: string; type: string; lines: string[] }>()
  for (const m of metrics) {
    const family = prometheusName(m.group, m.name)
    let f = families.get(family)
    if (f === undefined) {
      f = { help: m.description, type: m.name.endsWith('-total') ? 'counter' : 'gauge', lines: [] }
      families.set(family, f)
    }
    f.lines.push(`${family}${labels(m.tags)} ${formatValue(m.value)}`)
  }
  let out = ''
  for (const [family, f] of families) {
    out += `# HELP ${family} ${escapeHelp(f.help)}\n# TYPE ${family} ${f.type}\n`
    for (const line of f.lines) out += `${line}\n`
  }
  return out
}

function labels(tags: Readonly<Record<string, string>>): string {
  const keys = Object.keys(tags)
  if (keys.length === 0) return ''
  const parts = keys.map((k) => `${sanitizeLabel(k)}="${escapeLabelValue(tags[k]!)}"`)
  return `{${parts.join(',')}}`
}

/** Go's strconv formatting as Prometheus reads it: NaN, +Inf, -Inf, or a plain number. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/** Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*: anything else becomes `_`. */
function sanitize(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[a-zA-Z_:]/.test(s) ? s : `_${s}`
}

/** Label names match [a-zA-Z_][a-zA-Z0-9_]* and must not start with `__` (reserved). */
function sanitizeLabel(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_]/g, '_')
  if (!/^[a-zA-Z_]/.test(s)) s = `_${s}`
  return s.startsWith('__') ? `x${s}` : s
}

/** In a label value: backslash, double quote and line feed are escaped (format 0.0.4). */
function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** In HELP text: backslash and line feed are escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}
