// Proves the secured broker of the harness (`startKafka({ security: true })`) with no code of ours
// speaking Kafka: Kafka's own console producer writes over SSL (mutual TLS), SASL_SSL and
// SASL_PLAINTEXT with each mechanism and reads back over PLAINTEXT; node:tls and a hand-encoded SASL
// probe show the certificates, the mechanisms and the session lifetime the broker grants; ACLs allow
// and deny. One broker for the whole file.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { allowProduce, listAcls } from '../../scripts/kafka/acl.js'
import { type SecureKafkaCluster, startKafka } from '../../scripts/kafka/cluster.js'
import { propsText } from '../../scripts/kafka/processes.js'
import { probeSecureListener } from '../../scripts/kafka/secure-probe.js'
import { type JavaSaslAuth, javaClientProperties, type SecureListener } from '../../scripts/kafka/security.js'
import { consoleConsumeRecords, consoleProduce, runKafkaTool } from '../../scripts/kafka/tools.js'

const REAUTH_MS = 45_000

let cluster: SecureKafkaCluster

before(async () => {
  cluster = await startKafka({
    security: true,
    brokerProps: { 'connections.max.reauth.ms': String(REAUTH_MS) },
  })
})

after(async () => {
  await cluster?.stop()
})

function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':')
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) }
}

async function createTopic(topic: string): Promise<void> {
  await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    cluster.bootstrapServers,
    '--create',
    '--topic',
    topic,
    '--partitions',
    '1',
    '--replication-factor',
    '1',
  ])
}

/** Writes the Java client properties for `listener` to a file, as a user of the harness would. */
async function clientConfig(listener: SecureListener, auth?: JavaSaslAuth): Promise<string> {
  const name = `client-${listener}-${auth?.mechanism ?? 'mtls'}-${randomBytes(3).toString('hex')}.properties`
  const path = join(cluster.security.dir, name)
  await writeFile(path, propsText(javaClientProperties(cluster.security, listener, auth)))
  return path
}

/** Produces `lines` with ConsoleProducer over `listener`, then reads the topic back over PLAINTEXT. */
async function produceAndReadBack(
  listener: SecureListener,
  auth: JavaSaslAuth | undefined,
  topic: string,
  lines: string[],
): Promise<void> {
  await createTopic(topic)
  await consoleProduce({
    bootstrapServers: cluster.security.listeners[listener],
    topic,
    lines,
    configFile: await clientConfig(listener, auth),
  })
  const records = await consoleConsumeRecords({
    bootstrapServers: cluster.bootstrapServers,
    topic,
    isolationLevel: 'read_uncommitted',
    maxMessages: lines.length,
  })
  assert.deepEqual(
    records.map((r) => r.value),
    lines,
  )
}

test('the security field describes the run: localhost listeners, files, users with random passwords', () => {
  const s = cluster.security
  for (const address of Object.values(s.listeners)) assert.match(address, /^localhost:\d+$/)
  assert.equal(new Set(Object.values(s.listeners)).size, 3)
  assert.match(cluster.bootstrapServers, /^127\.0\.0\.1:\d+$/, 'PLAINTEXT unchanged')
  assert.equal(readFileSync(s.caPath, 'utf8'), s.caPem)
  assert.match(readFileSync(s.clientKeyEncryptedPath, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/)
  assert.match(readFileSync(s.clientKeyPath, 'utf8'), /BEGIN PRIVATE KEY/)
  assert.equal(s.clientPrincipal, 'User:CN=client')
  assert.deepEqual(s.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'])
  assert.match(s.users.admin.password, /^[0-9a-f]{32}$/)
  assert.notEqual(s.users.admin.password, s.users.alice.password)
})

test('TLS: the broker certificate names localhost only, and the SSL listener requires a client certificate', async () => {
  const s = cluster.security
  const { host, port } = hostPort(s.listeners.ssl)
  const ca = readFileSync(s.caPath)
  const cert = readFileSync(s.clientCertPath)
  const key = readFileSync(s.clientKeyPath)

  // Mutual TLS with the encrypted key: Metadata answers, and the listener advertises localhost.
  const r = await probeSecureListener({
    host,
    port,
    tls: { ca, cert, key: readFileSync(s.clientKeyEncryptedPath), passphrase: s.clientKeyPassphrase },
  })
  assert.deepEqual(r.metadata.brokers, [{ nodeId: 1, host: 'localhost', port }])

  await assert.rejects(
    probeSecureListener({ host: '127.0.0.1', port, tls: { ca, cert, key } }),
    (err: NodeJS.ErrnoException) => err.code === 'ERR_TLS_CERT_ALTNAME_INVALID',
  )
  await assert.rejects(
    probeSecureListener({ host, port, tls: { ca: readFileSync(s.untrustedCaPath), cert, key } }),
    (err: NodeJS.ErrnoException) => err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  )
  // The broker refuses the connection with a TLS alert: no certificate, or an expired one.
  const alert = (code: RegExp) => (err: NodeJS.ErrnoException) => code.test(err.code ?? '')
  await assert.rejects(
    probeSecureListener({ host, port, tls: { ca } }),
    alert(/^ERR_SSL_.*_ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED)$/),
  )
  await assert.rejects(
    probeSecureListener({
      host,
      port,
      tls: { ca, cert: readFileSync(s.expiredCertPath), key: readFileSync(s.expiredKeyPath) },
    }),
    alert(/^ERR_SSL_.*_ALERT_CERTIFICATE_(UNKNOWN|EXPIRED)$/),
  )
})

test('SASL listeners enable every mechanism; PLAIN checks passwords; connections.max.reauth.ms is granted', async () => {
  const s = cluster.security
  const { alice } = s.users
  const ssl = hostPort(s.listeners.saslSsl)
  const plaintext = hostPort(s.listeners.saslPlaintext)
  const ca = readFileSync(s.caPath)
  for (const r of [
    await probeSecureListener({
      ...ssl,
      tls: { ca },
      plain: { username: alice.name, password: alice.password },
    }),
    await probeSecureListener({ ...plaintext, plain: { username: alice.name, password: alice.password } }),
  ]) {
    assert.deepEqual([...(r.mechanisms ?? [])].sort(), [...s.mechanisms].sort())
    assert.equal(r.sessionLifetimeMs, REAUTH_MS)
    assert.equal(r.metadata.brokers[0]?.host, 'localhost')
  }
  await assert.rejects(
    probeSecureListener({ ...plaintext, plain: { username: alice.name, password: 'wrong' } }),
    /SaslAuthenticate error 58/,
  )
})

test('SSL with mutual TLS: ConsoleProducer as User:CN=client writes, PLAINTEXT reads back', async () => {
  const topic = uniqueTopic('secure-ssl')
  await allowProduce(cluster, cluster.security.clientPrincipal, topic)
  await produceAndReadBack('ssl', undefined, topic, ['mtls-1', 'mtls-2'])
})

test('SASL_SSL with SCRAM-SHA-512 as alice (literal ACL), SCRAM-SHA-256 as admin (super user, no ACL)', async () => {
  const { alice, admin } = cluster.security.users
  const topic = uniqueTopic('secure-scram512')
  await allowProduce(cluster, 'User:alice', topic)
  await produceAndReadBack('saslSsl', { mechanism: 'SCRAM-SHA-512', user: alice }, topic, ['scram-512'])
  await produceAndReadBack(
    'saslSsl',
    { mechanism: 'SCRAM-SHA-256', user: admin },
    uniqueTopic('secure-admin'),
    ['scram-256'],
  )
})

test('SASL_PLAINTEXT with PLAIN and OAUTHBEARER as alice (prefixed ACL)', async () => {
  const prefix = uniqueTopic('secure-alice')
  await allowProduce(cluster, 'User:alice', prefix, { patternType: 'prefixed' })
  const acls = await listAcls(cluster, 'User:alice')
  assert.match(acls, new RegExp(`name=${prefix}, patternType=PREFIXED`))
  const { alice } = cluster.security.users
  await produceAndReadBack('saslPlaintext', { mechanism: 'PLAIN', user: alice }, `${prefix}-plain`, ['plain'])
  // Unsecured JWT: the token's sub claim is the principal.
  await produceAndReadBack('saslPlaintext', { mechanism: 'OAUTHBEARER', user: alice }, `${prefix}-oauth`, [
    'oauthbearer',
  ])
})

test('alice is denied a topic she has no ACL for, and nothing is written', async () => {
  const topic = uniqueTopic('secure-denied')
  await createTopic(topic)
  await assert.rejects(
    consoleProduce({
      bootstrapServers: cluster.security.listeners.saslSsl,
      topic,
      lines: ['must not arrive'],
      configFile: await clientConfig('saslSsl', {
        mechanism: 'SCRAM-SHA-512',
        user: cluster.security.users.alice,
      }),
    }),
    /TopicAuthorizationException/,
  )
  const offsets = await runKafkaTool('org.apache.kafka.tools.GetOffsetShell', [
    '--bootstrap-server',
    cluster.bootstrapServers,
    '--topic',
    topic,
  ])
  assert.equal(offsets.trim(), `${topic}:0:0`)
})

test('security is refused where it cannot work, before anything starts', async () => {
  await assert.rejects(startKafka({ version: '2.8.2', security: true }), /security needs a KRaft cluster/)
  await assert.rejects(startKafka({ version: '3.4.1', security: true }), /security needs Kafka 3\.5 or newer/)
})
