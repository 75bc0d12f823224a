// The record's headers with the trace context added, as a new array: the caller's headers object
// (or array) is theirs and is never changed (the house rule for anything a caller hands us).
import type { TextMapSetter } from '@opentelemetry/api'
import type { RecordData, RecordHeaders } from '../index.js'

type Pair = readonly [string, RecordData | null]

/** Collects what a propagator injects: `traceparent`, `tracestate`, `baggage`, ... */
export const mapSetter: TextMapSetter<Map<string, string>> = {
  set(carrier, key, value) {
    carrier.set(key, value)
  },
}

/**
 * `headers` in wire order followed by `injected`; a header the propagator sets replaces the
 * caller's of that name (a record consumed and produced again must not carry two traceparents,
 * W3C Trace Context §3.2: one traceparent per carrier).
 */
export function withInjected(
  headers: RecordHeaders | undefined,
  injected: ReadonlyMap<string, string>,
): Pair[] {
  const out: Pair[] = []
  if (Array.isArray(headers)) {
    for (const pair of headers as ReadonlyArray<Pair>) out.push(pair)
  } else if (headers !== undefined && headers !== null) {
    for (const [key, value] of Object.entries(headers as Readonly<Record<string, unknown>>)) {
      if (Array.isArray(value)) for (const v of value as (RecordData | null)[]) out.push([key, v])
      else out.push([key, value as RecordData | null])
    }
  }
  const kept = injected.size === 0 ? out : out.filter(([key]) => !injected.has(key))
  for (const [key, value] of injected) kept.push([key, value])
  return kept
}
