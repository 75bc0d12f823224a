import type { RecordEntry } from '../../src/producer/batch.js'
import { RecordBatchBuilder } from '../../src/protocol/index.js'

/**
 * An accepted record as the accumulator takes it (no headers, no callback), and its size bound:
 * what produce() would hand over for `value` and `key` (strings UTF-8 encoded).
 */
export function recordEntry(
  value: string | Buffer,
  opts: { key?: string | null; timestamp: number; deadline: number },
): { e: RecordEntry; bound: number } {
  const v = typeof value === 'string' ? Buffer.from(value) : value
  const k = opts.key == null ? null : Buffer.from(opts.key)
  const bound = RecordBatchBuilder.recordSizeUpperBound(k, v, null)
  const e: RecordEntry = {
    key: k,
    keyLength: k === null ? -1 : k.length,
    value: v,
    valueLength: v.length,
    headers: null,
    timestamp: opts.timestamp,
    callback: undefined,
    bytes: bound,
    deadline: opts.deadline,
  }
  return { e, bound }
}
