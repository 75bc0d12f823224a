// The table `npm run bench` prints (and writes into the results JSON): one line per client × workload.
import { type Row } from './child.js'

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-'
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(digits)
}

export function table(rows: Row[]): string {
  const header = [
    'workload',
    'client',
    'msgs/s',
    'MB/s',
    'p50 ms',
    'p99 ms',
    'p999 ms',
    'RSS MB',
    'CPU s',
    'CPU s/M',
    'vs ours',
  ]
  const lines: string[][] = []
  const notes: string[] = []
  for (const r of rows) {
    const ours = rows.find((o) => o.workload === r.workload && o.client === 'ours' && o.result)?.result
    if (!r.result) {
      lines.push([r.workload, r.client, `${r.status}${r.reason ? `: ${r.reason}` : ''}`])
      continue
    }
    const x = r.result
    let ratio = ''
    // W1P is our W1 through a write stream: compared with our W1 (issue 12 wants >= 0.8).
    const w1 = rows.find((o) => o.workload === 'W1' && o.client === 'ours' && o.result)?.result
    // W1O/W5O: on (and off again) against off, the median of the groups' ratios (issue 13: >= 0.97).
    const pr = r.pairRatios
    if (r.workload === 'W1P' && w1 && w1.msgsPerSec > 0) ratio = `${fmt(x.msgsPerSec / w1.msgsPerSec, 2)}x W1`
    else if (pr) {
      const spread = (k: 'msgs' | 'cpu'): string =>
        `${fmt(Math.min(...pr.each.map((e) => e[k])), 2)}-${fmt(Math.max(...pr.each.map((e) => e[k])), 2)}`
      ratio = `${fmt(pr.msgs, 3)}x off (${spread('msgs')}), CPU ${fmt(pr.cpu, 3)}x (${spread('cpu')})`
    } else if (r.client !== 'ours' && ours && ours.msgsPerSec > 0) {
      ratio =
        r.workload === 'W3' && ours.p99Ms
          ? `p99 ${fmt((x.p99Ms ?? 0) / ours.p99Ms, 2)}x`
          : `${fmt(x.msgsPerSec / ours.msgsPerSec, 2)}x`
    }
    const err =
      x.errors > 0 || x.delivered < x.records ? ` (${x.errors} err, ${x.delivered}/${x.records})` : ''
    lines.push([
      r.workload,
      r.variant ? `${r.client} (${r.variant}${r.runs ? `, median of ${r.runs.length}` : ''})` : r.client,
      fmt(x.msgsPerSec, 0) + err,
      fmt(x.mbPerSec, 2),
      fmt(x.p50Ms, 2),
      fmt(x.p99Ms, 2),
      fmt(x.p999Ms, 2),
      fmt(x.peakRssMb, 0),
      fmt(x.cpuMs / 1000, 2),
      // CPU seconds per million records: steadier than records/s on a shared machine (issue 14).
      // Per record handled (delivered or failed), since a W4 runner may stop at its time budget.
      fmt(cpuPerMillion(x), 2),
      ratio,
    ])
    if (x.firstError) notes.push(`${r.workload} ${r.client}: first error ${x.firstError}`)
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.filter((l) => l.length > 3).map((l) => (l[i] ?? '').length)),
  )
  const pad = (cells: string[]): string =>
    cells.length <= 3
      ? `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]!.padEnd(widths[1]!)}  ${cells[2]}`
      : cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const out = [pad(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(pad)]
  return out.join('\n') + (notes.length ? '\n\n' + notes.join('\n') : '')
}

/** CPU seconds per million records the runner handled (delivered or failed); null if none. */
export function cpuPerMillion(x: { cpuMs: number; delivered: number; errors: number }): number | null {
  const handled = x.delivered + x.errors
  return handled > 0 ? x.cpuMs / 1000 / (handled / 1e6) : null
}
