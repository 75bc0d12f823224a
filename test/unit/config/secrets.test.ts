// Secrets in the resolved configuration: its properties read '[redacted]', however the object is
// shown, and secretValue() gives the code that needs one the value.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { CATALOGUE, resolveProducerConfig, secretValue, type SecretProp } from '../../../src/config/index.js'

const BASE = { 'bootstrap.servers': 'kafka:9092' }

/** Every secret setting, each with its own value, so that a leak says which one leaked. */
const SECRETS = {
  'sasl.password': 'hunter2',
  'ssl.key.password': 'key-pass-0001',
  'ssl.keystore.password': 'store-pass-0002',
  'ssl.key.pem': '-----BEGIN PRIVATE KEY-----\nMIIsecret0003\n-----END PRIVATE KEY-----',
  'sasl.oauthbearer.config': 'principal=alice token=secret-token-0004',
}

/** Exactly the SecretProp names: a missing or extra one does not compile. */
const SECRET_PROPS = {
  sslKeyPem: 'ssl.key.pem',
  sslKeyPassword: 'ssl.key.password',
  sslKeystorePassword: 'ssl.keystore.password',
  saslPassword: 'sasl.password',
  saslOauthbearerConfig: 'sasl.oauthbearer.config',
} satisfies Record<SecretProp, keyof typeof SECRETS>

function assertHidden(shown: string, where: string): void {
  for (const [key, value] of Object.entries(SECRETS)) {
    assert.ok(!shown.includes(value), `${where} shows ${key}: ${shown}`)
  }
  assert.ok(!shown.includes('MIIsecret'), where)
  assert.ok(!shown.includes('secret-token'), where)
}

describe('secrets in the resolved configuration', () => {
  it('SecretProp names exactly the catalogue’s sensitive keys', () => {
    const sensitive = CATALOGUE.filter((e) => e.sensitive).map((e) => [e.prop, e.name])
    assert.deepEqual(sensitive.sort(), Object.entries(SECRET_PROPS).sort())
  })

  it('read [redacted]; JSON.stringify, util.inspect and String() do not show them', () => {
    const c = resolveProducerConfig({ ...BASE, ...SECRETS, 'sasl.username': 'alice' })
    for (const prop of Object.keys(SECRET_PROPS) as SecretProp[]) assert.equal(c[prop], '[redacted]', prop)
    assert.equal(c.saslUsername, 'alice', 'a user name is not a secret')
    assertHidden(JSON.stringify(c), 'JSON.stringify')
    assertHidden(inspect(c, { depth: 10 }), 'util.inspect')
    assertHidden(inspect(c, { depth: 10, showHidden: true }), 'util.inspect with showHidden')
    assertHidden(String(c), 'String()')
    assertHidden(`${JSON.stringify({ ...c })}`, 'a spread copy')
    assert.match(JSON.stringify(c), /"saslPassword":"\[redacted\]"/)
  })

  it('secretValue() gives the value to the code that needs it; null when unset', () => {
    const c = resolveProducerConfig({ ...BASE, ...SECRETS })
    for (const [prop, key] of Object.entries(SECRET_PROPS) as [SecretProp, keyof typeof SECRETS][]) {
      assert.equal(secretValue(c, prop), SECRETS[key], prop)
    }
    const none = resolveProducerConfig(BASE)
    for (const prop of Object.keys(SECRET_PROPS) as SecretProp[]) {
      assert.equal(none[prop], null, prop)
      assert.equal(secretValue(none, prop), null, prop)
    }
  })

  it('the configuration stays frozen', () => {
    const c = resolveProducerConfig({ ...BASE, 'sasl.password': 'hunter2' })
    assert.ok(Object.isFrozen(c))
    assert.throws(() => {
      ;(c as { saslPassword: string | null }).saslPassword = 'x'
    }, TypeError)
    assert.equal(secretValue(c, 'saslPassword'), 'hunter2')
  })
})
