// Secrets in the resolved configuration: its properties read '[redacted]', however the object is
// shown, and secretValue() gives the code that needs one the value.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import {
  CATALOGUE,
  resolveProducerConfig,
  secretValue,
  tlsEscapeHatch,
  type SecretProp,
  type SecretStringProp,
} from '../../../src/config/index.js'

const BASE = { 'bootstrap.servers': 'kafka:9092' }

/** Every secret setting, each with its own value, so that a leak says which one leaked. */
const SECRETS = {
  'sasl.password': 'hunter2',
  'ssl.key.password': 'key-pass-0001',
  'ssl.keystore.password': 'store-pass-0002',
  'ssl.key.pem': '-----BEGIN PRIVATE KEY-----\nMIIsecret0003\n-----END PRIVATE KEY-----',
  'sasl.oauthbearer.config': 'principal=alice token=secret-token-0004',
  'ssl.keystore.key': '-----BEGIN PRIVATE KEY-----\nMIIsecret0005\n-----END PRIVATE KEY-----',
  'ssl.truststore.password': 'trust-pass-0006',
  'sasl.jaas.config':
    'org.apache.kafka.common.security.plain.PlainLoginModule required password="jaas-0007";',
}

/** Exactly the SecretProp names: a missing or extra one does not compile. */
const SECRET_PROPS = {
  sslKeyPem: 'ssl.key.pem',
  sslKeyPassword: 'ssl.key.password',
  sslKeystorePassword: 'ssl.keystore.password',
  saslPassword: 'sasl.password',
  saslOauthbearerConfig: 'sasl.oauthbearer.config',
  sslKeystoreKey: 'ssl.keystore.key',
  sslTruststorePassword: 'ssl.truststore.password',
  saslJaasConfig: 'sasl.jaas.config',
} satisfies Record<SecretStringProp, keyof typeof SECRETS>

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
    const expected: [SecretProp, string][] = [...Object.entries(SECRET_PROPS), ['tls', 'tls']] as [
      SecretProp,
      string,
    ][]
    assert.deepEqual(sensitive.sort(), expected.sort())
  })

  it('read [redacted]; JSON.stringify, util.inspect and String() do not show them', () => {
    const c = resolveProducerConfig({ ...BASE, ...SECRETS, 'sasl.username': 'alice' })
    for (const prop of Object.keys(SECRET_PROPS) as SecretStringProp[])
      assert.equal(c[prop], '[redacted]', prop)
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
    for (const [prop, key] of Object.entries(SECRET_PROPS) as [SecretStringProp, keyof typeof SECRETS][]) {
      assert.equal(secretValue(c, prop), SECRETS[key], prop)
    }
    const none = resolveProducerConfig(BASE)
    for (const prop of Object.keys(SECRET_PROPS) as SecretStringProp[]) {
      assert.equal(none[prop], null, prop)
      assert.equal(secretValue(none, prop), null, prop)
    }
    assert.equal(tlsEscapeHatch(none), null)
  })

  it('the tls escape hatch, which may hold a key, is hidden the same way', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIescapeHatch\n-----END PRIVATE KEY-----'
    const c = resolveProducerConfig({ ...BASE, tls: { key, passphrase: 'hatch-pass' } })
    assert.equal(c.tls, '[redacted]')
    for (const shown of [JSON.stringify(c), inspect(c, { depth: 10, showHidden: true })]) {
      assert.ok(!shown.includes('MIIescapeHatch') && !shown.includes('hatch-pass'), shown)
    }
    assert.deepEqual(tlsEscapeHatch(c), { key, passphrase: 'hatch-pass' })
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
