import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { KafkaError } from '../../../../src/errors/index.js'
import { parseJaasConfig } from '../../../../src/network/sasl/jaas.js'

const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule'

function options(text: string): Record<string, string> {
  const c = parseJaasConfig(text)
  return Object.fromEntries(c.options.names.map((n) => [n, c.options.get(n)!]))
}

function refusal(text: string): KafkaError {
  try {
    parseJaasConfig(text)
  } catch (e) {
    assert.ok(e instanceof KafkaError)
    assert.equal(e.code, '_INVALID_ARG')
    return e
  }
  return assert.fail(`accepted: ${text}`)
}

describe('sasl.jaas.config', () => {
  it('reads the PlainLoginModule line of the Java client documentation', () => {
    const c = parseJaasConfig(`${PLAIN} required username="alice" password="alice-secret";`)
    assert.equal(c.loginModule, PLAIN)
    assert.equal(c.controlFlag, 'required')
    assert.deepEqual(c.options.names, ['username', 'password'])
    assert.equal(c.options.get('username'), 'alice')
    assert.equal(c.options.get('password'), 'alice-secret')
    assert.equal(c.options.has('tokenauth'), false)
  })

  it('reads ScramLoginModule with single quotes, unquoted words, newlines and comments', () => {
    const c = parseJaasConfig(
      `${SCRAM} REQUIRED
         // the user of the orders service
         username='orders' /* quoted with single quotes */
         password="p=w;d \\"quoted\\"" tokenauth=true;  `,
    )
    assert.equal(c.loginModule, SCRAM)
    assert.equal(c.controlFlag, 'required')
    assert.deepEqual(Object.fromEntries(c.options.names.map((n) => [n, c.options.get(n)])), {
      username: 'orders',
      password: 'p=w;d "quoted"',
      tokenauth: 'true',
    })
  })

  it('handles escapes as java.io.StreamTokenizer does', () => {
    assert.deepEqual(
      options(
        `${PLAIN} optional a="back\\\\slash" b="tab\\there" c="nl\\n" d="\\101\\7" e="\\q" f='it\\'s' g="";`,
      ),
      {
        a: 'back\\slash',
        b: 'tab\there',
        c: 'nl\n',
        d: 'A\x07',
        e: 'q',
        f: "it's",
        g: '',
      },
    )
  })

  it('accepts every control flag, in any case; a repeated option keeps its last value', () => {
    for (const flag of ['required', 'Requisite', 'SUFFICIENT', 'optional'] as const) {
      assert.equal(parseJaasConfig(`M ${flag};`).controlFlag, flag.toLowerCase())
    }
    assert.deepEqual(options('M required a="1" b=2 a="3";'), { a: '3', b: '2' })
  })

  it('refuses what Kafka refuses, saying where, and never shows a value', () => {
    for (const [text, reason] of [
      ['', /is empty: expected a login module/],
      ['   // only a comment', /is empty/],
      [`${PLAIN} username="alice";`, /expected a control flag .* at position/],
      [
        `${PLAIN} required username="alice" password="hunter2"`,
        /expected an option name or ';' at the end \(each login module ends with ';'\)/,
      ],
      [`${PLAIN} required username "alice";`, /expected '=' after option username at position/],
      [`${PLAIN} required password=;`, /option password has no value at position/],
      [`${PLAIN} required password="hunter2;`, /quoted value at position \d+ is not closed/],
      [`${PLAIN} required password="hunter2\n";`, /is not closed/],
      [
        `${PLAIN} required password=hun@ter2;`,
        /unexpected character at position \d+ \(quote values that contain symbols\)/,
      ],
      [`${PLAIN} required /* password="hunter2";`, /comment at position \d+ is not closed/],
      [`${PLAIN} required a="1"; ${SCRAM} required b="2";`, /one login module only/],
      ['"quoted.Module" required;', /expected a login module class name at position 1/],
    ] as const) {
      const e = refusal(text)
      assert.match(e.message, /^sasl\.jaas\.config: /)
      assert.match(e.message, reason)
      assert.ok(!e.message.includes('hunter2') && !e.message.includes('hun@'), e.message)
    }
  })

  it('options show their names but no value in util.inspect and JSON', () => {
    const c = parseJaasConfig(`${PLAIN} required username="alice" password="hunter2";`)
    const shown = inspect(c, { depth: 10, showHidden: true }) + JSON.stringify(c)
    assert.ok(!shown.includes('hunter2'), shown)
    assert.ok(!shown.includes('alice'), shown)
    assert.match(inspect(c.options), /JaasOptions \{ username: \[redacted\], password: \[redacted\] \}/)
    assert.equal(JSON.stringify(c.options), '{"username":"[redacted]","password":"[redacted]"}')
  })
})
