import { KafkaError } from '../../errors/index.js'

// A parser for Java's sasl.jaas.config, so that configurations written for the Java client work as
// they are:
//
//   org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cr3t";
//
// The grammar is that of Kafka's JaasConfig (which reads the value with java.io.StreamTokenizer):
// exactly one login module, `<class> <flag> [<name>=<value>]... ;`, where a value is a word or a
// string in double or single quotes with backslash escapes, and `//` or `/* */` comments may appear
// between the parts. The parser only reads: mapping a module's options to SASL settings is the
// configuration layer's job. No error message contains a value, since values hold passwords.

export type JaasControlFlag = 'required' | 'requisite' | 'sufficient' | 'optional'

const FLAGS: readonly JaasControlFlag[] = ['required', 'requisite', 'sufficient', 'optional']

/**
 * The options of a login module. Values are kept privately: util.inspect and JSON.stringify show the
 * names only, since `password` (and options of custom modules) are secrets.
 */
export class JaasOptions {
  readonly #values: ReadonlyMap<string, string>

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = values
  }

  get(name: string): string | undefined {
    return this.#values.get(name)
  }

  has(name: string): boolean {
    return this.#values.has(name)
  }

  /** Option names in the order written (a repeated name keeps its first place and its last value). */
  get names(): string[] {
    return [...this.#values.keys()]
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries(this.names.map((n) => [n, '[redacted]']))
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `JaasOptions { ${this.names.map((n) => `${n}: [redacted]`).join(', ')} }`
  }
}

export interface JaasConfig {
  /** The login module's class name, e.g. `org.apache.kafka.common.security.scram.ScramLoginModule`. */
  readonly loginModule: string
  readonly controlFlag: JaasControlFlag
  readonly options: JaasOptions
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'quoted'; text: string; at: number }
  | { kind: '=' | ';' | 'end'; at: number }

function invalid(reason: string): KafkaError {
  return new KafkaError('_INVALID_ARG', `sasl.jaas.config: ${reason}`)
}

/** Characters of an unquoted word: StreamTokenizer's letters and digits, and Kafka's '-', '_', '$'. */
function isWordChar(c: string): boolean {
  return /[A-Za-z0-9_$.-]/.test(c) || c.charCodeAt(0) >= 0xa0
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
}

/** Splits `text` into tokens; positions are 1-based character offsets, for messages. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
    } else if (text.startsWith('//', i)) {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? text.length : nl + 1
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2)
      if (end === -1) throw invalid(`comment at position ${i + 1} is not closed`)
      i = end + 2
    } else if (c === '=' || c === ';') {
      tokens.push({ kind: c, at: i + 1 })
      i++
    } else if (c === '"' || c === "'") {
      const at = i + 1
      let out = ''
      i++
      for (;;) {
        if (i >= text.length || text[i] === '\n' || text[i] === '\r') {
          throw invalid(`quoted value at position ${at} is not closed`)
        }
        const d = text[i]!
        if (d === c) break
        if (d !== '\\') {
          out += d
          i++
          continue
        }
        const e = text[i + 1]
        if (e === undefined) throw invalid(`quoted value at position ${at} is not closed`)
        const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))?.[0]
        if (octal) {
          // StreamTokenizer: up to three octal digits, the third only if the first is 0-3 (a byte).
          const digits = octal.length === 3 && octal[0]! > '3' ? octal.slice(0, 2) : octal
          out += String.fromCharCode(parseInt(digits, 8))
          i += 1 + digits.length
        } else {
          out += SIMPLE_ESCAPES[e] ?? e
          i += 2
        }
      }
      i++ // the closing quote
      tokens.push({ kind: 'quoted', text: out, at })
    } else if (isWordChar(c)) {
      const at = i + 1
      while (i < text.length && isWordChar(text[i]!)) i++
      tokens.push({ kind: 'word', text: text.slice(at - 1, i), at })
    } else {
      // The character itself is not shown: it may be part of an unquoted password.
      throw invalid(`unexpected character at position ${i + 1} (quote values that contain symbols)`)
    }
  }
  tokens.push({ kind: 'end', at: text.length + 1 })
  return tokens
}

/**
 * Parses a `sasl.jaas.config` value into its login module, control flag and options. Throws a
 * KafkaError `_INVALID_ARG` naming the position and what was expected (never a value).
 */
export function parseJaasConfig(text: string): JaasConfig {
  if (typeof text !== 'string') throw invalid('must be a string')
  const tokens = tokenize(text)
  let k = 0
  const next = (): Token => tokens[Math.min(k++, tokens.length - 1)]!
  const where = (t: Token): string => (t.kind === 'end' ? 'at the end' : `at position ${t.at}`)

  const module = next()
  if (module.kind === 'end') throw invalid('is empty: expected a login module')
  if (module.kind !== 'word') throw invalid(`expected a login module class name ${where(module)}`)
  const flag = next()
  const flagName = flag.kind === 'word' ? flag.text.toLowerCase() : ''
  if (!FLAGS.includes(flagName as JaasControlFlag)) {
    throw invalid(`expected a control flag (${FLAGS.join(', ')}) after the login module ${where(flag)}`)
  }
  const options = new Map<string, string>()
  for (;;) {
    const t = next()
    if (t.kind === ';') break
    if (t.kind !== 'word') {
      throw invalid(
        `expected an option name or ';' ${where(t)}${t.kind === 'end' ? " (each login module ends with ';')" : ''}`,
      )
    }
    const eq = next()
    if (eq.kind !== '=') throw invalid(`expected '=' after option ${t.text} ${where(eq)}`)
    const value = next()
    if (value.kind !== 'word' && value.kind !== 'quoted')
      throw invalid(`option ${t.text} has no value ${where(value)}`)
    // As Java's JaasConfig (a HashMap): a repeated option keeps its last value.
    options.set(t.text, value.text)
  }
  const rest = next()
  if (rest.kind !== 'end') {
    // Kafka accepts exactly one login module in sasl.jaas.config (JaasContext.loadClientContext).
    throw invalid(`expected one login module only, found more ${where(rest)}`)
  }
  return Object.freeze({
    loginModule: module.text,
    controlFlag: flagName as JaasControlFlag,
    options: new JaasOptions(options),
  })
}
