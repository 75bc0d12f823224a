import { KafkaError } from '../errors/index.js'

/** Splits a validated "host:port" or "[v6]:port" into its parts. */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s)
  if (!m) throw new KafkaError('_INVALID_ARG', `broker address '${s}' is not host:port`)
  return { host: m[1]!, port: Number(m[2]) }
}
