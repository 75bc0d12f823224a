import { KEY_INDEX, type ConfigAlias, type ConfigEntry } from './catalogue.js'
import { ConfigError } from './errors.js'

/**
 * Parsing of single configuration values, as Kafka users write them in either spelling: numbers
 * as numbers or strings ('100', '1e3'), booleans as 'true'/'false', acks as 'all'/-1, lists as
 * comma-separated strings, host:port lists; and the closest known key for a typo. The rules that
 * relate several keys are resolve.ts's.
 */

/** What a secret setting shows instead of its value, in error messages and in the resolved configuration. */
export const REDACTED = '[redacted]'

export function show(entry: ConfigEntry, value: unknown): string {
  if (entry.sensitive) return REDACTED
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'bigint') return `${value}n`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

export function invalid(key: string, entry: ConfigEntry, value: unknown, expected: string): ConfigError {
  return new ConfigError(
    key,
    `Invalid value ${show(entry, value)} for config key '${key}': expected ${expected}`,
  )
}

export function rangeText(entry: ConfigEntry, alias: ConfigAlias | null): string {
  const scale = alias?.scale ?? 1
  const unit = alias?.unit ?? entry.unit
  const lo = entry.min === undefined ? undefined : Math.ceil(entry.min / scale)
  const hi = entry.max === undefined ? undefined : Math.floor(entry.max / scale)
  const u = unit ? ` ${unit}` : ''
  if (lo !== undefined && hi !== undefined) return `from ${lo} to ${hi}${u}`
  if (lo !== undefined) return `at least ${lo}${u}`
  if (hi !== undefined) return `at most ${hi}${u}`
  return 'any value'
}

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

/** Python users pass numbers as numbers or strings ('100'); both are accepted, nothing else is. */
export function parseNumber(
  key: string,
  entry: ConfigEntry,
  alias: ConfigAlias | null,
  raw: unknown,
): number {
  const integer = entry.type === 'integer'
  const expected = `${integer ? 'an integer' : 'a number'} ${rangeText(entry, alias)}`
  let n: number
  if (typeof raw === 'number') n = raw
  else if (typeof raw === 'string' && NUMERIC.test(raw)) n = Number(raw)
  else throw invalid(key, entry, raw, expected)
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw invalid(key, entry, raw, expected)
  const scaled = n * (alias?.scale ?? 1)
  // -1 means "codec default" / "disabled" where allowed, and is in range for those keys.
  if ((entry.min !== undefined && scaled < entry.min) || (entry.max !== undefined && scaled > entry.max)) {
    throw new ConfigError(
      key,
      `Config key '${key}' is out of range: ${show(entry, raw)} given, expected ${expected.replace(/^an? \w+ /, '')}`,
    )
  }
  return scaled
}

export function parseBoolean(key: string, entry: ConfigEntry, raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase()
    if (s === 'true') return true
    if (s === 'false') return false
  }
  throw invalid(key, entry, raw, "a boolean (true, false, 'true' or 'false')")
}

export function parseEnum(key: string, entry: ConfigEntry, raw: unknown): string {
  const values = entry.values ?? []
  if (typeof raw === 'string') {
    const s = raw.trim()
    const hit = values.find((v) => (entry.caseInsensitive ? v.toLowerCase() === s.toLowerCase() : v === s))
    if (hit !== undefined) return hit
  }
  throw invalid(key, entry, raw, `one of ${values.map((v) => `'${v}'`).join(', ')}`)
}

export function parseAcks(key: string, entry: ConfigEntry, raw: unknown): -1 | 0 | 1 {
  const s = typeof raw === 'number' || typeof raw === 'string' ? String(raw).trim().toLowerCase() : null
  if (s === 'all' || s === '-1') return -1
  if (s === '0') return 0
  if (s === '1') return 1
  throw invalid(key, entry, raw, "'all', '-1', '0', '1', -1, 0 or 1")
}

export function parseList(key: string, entry: ConfigEntry, raw: unknown): string[] {
  let items: string[]
  if (typeof raw === 'string') items = raw.split(',')
  else if (Array.isArray(raw) && raw.every((x): x is string => typeof x === 'string')) items = raw
  else throw invalid(key, entry, raw, 'a comma-separated string or an array of strings')
  items = items.map((s) => s.trim()).filter((s) => s !== '')
  if (entry.values) {
    const allowed = entry.values
    const bad = items.find((s) => !allowed.includes(s.toLowerCase()))
    if (bad !== undefined) {
      throw invalid(key, entry, raw, `a comma-separated list of ${allowed.join(', ')} ('${bad}' is not one)`)
    }
    items = items.map((s) => s.toLowerCase())
  }
  return items
}

export function parseValue(
  key: string,
  entry: ConfigEntry,
  alias: ConfigAlias | null,
  raw: unknown,
): unknown {
  switch (entry.type) {
    case 'string':
      if (typeof raw !== 'string') throw invalid(key, entry, raw, 'a string')
      return raw
    case 'integer':
    case 'number':
      return parseNumber(key, entry, alias, raw)
    case 'boolean':
      return parseBoolean(key, entry, raw)
    case 'enum':
      return parseEnum(key, entry, raw)
    case 'acks':
      return parseAcks(key, entry, raw)
    case 'list':
      return parseList(key, entry, raw)
    case 'function':
      if (typeof raw !== 'function') throw invalid(key, entry, raw, 'a function')
      return raw
    case 'partitioner':
      if (typeof raw === 'function') return raw
      return parseEnum(key, entry, raw)
    case 'object':
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw invalid(key, entry, raw, 'an object')
      }
      return raw
  }
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i])
  return Object.is(a, b)
}

// ---------------------------------------------------------------------------------------------- suggestions

/** Levenshtein distance; keys are short, so the O(n·m) table is fine. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/** The known key closest to `key`, if it is close enough to be a plausible typo. */
export function suggestKey(key: string): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const known of KEY_INDEX.keys()) {
    const d = editDistance(key.toLowerCase(), known)
    if (d < bestDistance) {
      best = known
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

// ---------------------------------------------------------------------------------------------- bootstrap

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/
const IPV6 = /^[0-9A-Fa-f:.]+(%[\w.-]+)?$/

export function parseBootstrap(key: string, servers: readonly string[]): string[] {
  if (servers.length === 0) {
    throw new ConfigError(key, `Config key '${key}' is empty: expected at least one host:port`)
  }
  return servers.map((server) => {
    // librdkafka accepts PLAINTEXT://host:port and similar listener-style prefixes.
    const s = server.replace(/^[A-Za-z_]+:\/\//, '')
    let host: string
    let port: string | undefined
    if (s.startsWith('[')) {
      const end = s.indexOf(']')
      host = end > 0 ? s.slice(1, end) : ''
      const rest = end > 0 ? s.slice(end + 1) : ''
      if (rest !== '' && !rest.startsWith(':')) host = ''
      port = rest === '' ? undefined : rest.slice(1)
      if (!IPV6.test(host)) host = ''
    } else {
      const parts = s.split(':')
      if (parts.length > 2)
        host = '' // a bare IPv6 address is ambiguous: require brackets
      else {
        host = parts[0]!
        port = parts[1]
        if (!HOSTNAME.test(host)) host = ''
      }
    }
    const portNumber = port === undefined ? 9092 : /^\d+$/.test(port) ? Number(port) : NaN
    if (host === '' || !(portNumber >= 1 && portNumber <= 65535)) {
      throw new ConfigError(
        key,
        `Invalid broker address '${server}' in config key '${key}': expected host:port ` +
          `(e.g. kafka:9092, 10.0.0.1:9092 or [::1]:9092) with a port from 1 to 65535`,
      )
    }
    return host.includes(':') ? `[${host}]:${portNumber}` : `${host}:${portNumber}`
  })
}
