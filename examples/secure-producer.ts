// A producer on a secured cluster: SASL_SSL with SCRAM-SHA-512 (the usual self-hosted and Amazon MSK
// setup), SSL with a client certificate (Aiven), and OAUTHBEARER with a token callback (Amazon MSK IAM,
// any OIDC provider); then what a wrong password looks like. docs/security.md has each provider's keys.
//
//   npx tsc -p tsconfig.json && node dist/examples/secure-producer.js
//
// Without arguments it starts a local secured broker (the project's harness: certificates made now,
// users with random passwords) and stops it at the end. Against your own cluster, set
// KAFKA_BOOTSTRAP_SERVERS (a SASL_SSL listener), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and, for a
// private CA, KAFKA_CA_LOCATION; the mTLS and OAUTHBEARER parts need the harness and are skipped.
import { startKafka, type SecureKafkaCluster } from '../scripts/kafka/cluster.js'
import { allowProduce } from '../scripts/kafka/acl.js'
import { Admin, KafkaError, Producer, type OAuthBearerToken, type ProducerConfig } from '../src/index.js'

const TOPIC = 'secure-orders'

/** Sends three records and closes; prints where they went or why they did not. */
async function produceThree(label: string, config: ProducerConfig): Promise<void> {
  const producer = new Producer({ ...config, 'client.id': `secure-example-${label}` })
  try {
    for (let i = 0; i < 3; i++) {
      const r = await producer.send({ topic: TOPIC, key: `order-${i}`, value: JSON.stringify({ i, label }) })
      console.log(`${label}: order-${i} → partition ${r.partition}, offset ${r.offset}`)
    }
  } catch (err) {
    // Security failures are not retriable: a wrong password stays wrong. The message says which
    // failure it was (SASL_AUTHENTICATION_FAILED, _SSL with "not trusted" or "does not match host", …)
    // and never contains the password or token.
    if (err instanceof KafkaError) console.log(`${label}: ${err.code}: ${err.message}`)
    else throw err
  } finally {
    await producer.close()
  }
}

/**
 * OAUTHBEARER: the callback returns a token and its expiry; it is called again before 80 % of the
 * token's life has passed. This one makes an unsecured JWT (alg none), which only a test broker
 * accepts; in production return your identity provider's token (see docs/security.md for MSK IAM).
 */
function testToken(): OAuthBearerToken {
  const now = Date.now()
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const claims = { sub: 'admin', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 3600 }
  return { token: `${b64({ alg: 'none' })}.${b64(claims)}.`, expiresAtMs: now + 3_600_000 }
}

async function main(): Promise<void> {
  let cluster: SecureKafkaCluster | null = null
  const own = process.env['KAFKA_BOOTSTRAP_SERVERS']
  try {
    if (!own) {
      console.log('Starting a local secured Kafka broker (SSL, SASL_SSL, SASL_PLAINTEXT listeners)…')
      cluster = await startKafka({ security: true })
      const admin = new Admin({ bootstrapServers: cluster.bootstrapServers })
      await admin.createTopics([{ name: TOPIC, numPartitions: 3 }])
      await admin.close()
      await allowProduce(cluster, cluster.security.clientPrincipal, TOPIC)
    }
    const s = cluster?.security
    const username = s?.users.admin.name ?? process.env['KAFKA_SASL_USERNAME'] ?? ''
    const password = s?.users.admin.password ?? process.env['KAFKA_SASL_PASSWORD'] ?? ''
    const ca = s?.caPath ?? process.env['KAFKA_CA_LOCATION']

    // 1. SASL_SSL + SCRAM-SHA-512: TLS verifies the broker (against ssl.ca.location, or the system's
    //    CAs when unset), SCRAM proves the password without sending it and checks the broker knew it.
    const scram: ProducerConfig = {
      'bootstrap.servers': s?.listeners.saslSsl ?? own!,
      'security.protocol': 'SASL_SSL',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': username,
      'sasl.password': password,
      ...(ca ? { 'ssl.ca.location': ca } : {}),
    }
    await produceThree('sasl_ssl/scram-sha-512', scram)

    if (s) {
      // 2. SSL with a client certificate (mutual TLS): the certificate is the identity.
      await produceThree('ssl/client-certificate', {
        'bootstrap.servers': s.listeners.ssl,
        'security.protocol': 'ssl',
        'ssl.ca.location': s.caPath,
        'ssl.certificate.location': s.clientCertPath,
        'ssl.key.location': s.clientKeyEncryptedPath,
        'ssl.key.password': s.clientKeyPassphrase,
      })

      // 3. OAUTHBEARER with a token callback (sync or async).
      await produceThree('sasl_ssl/oauthbearer', {
        'bootstrap.servers': s.listeners.saslSsl,
        'security.protocol': 'SASL_SSL',
        'ssl.ca.location': s.caPath,
        'sasl.mechanism': 'OAUTHBEARER',
        oauth_cb: async () => testToken(),
      })
    }

    // 4. A wrong password fails within seconds with SASL_AUTHENTICATION_FAILED (not after
    //    delivery.timeout.ms), and the producer's configuration never shows the secret.
    const wrong = new Producer({ ...scram, 'sasl.password': 'not-the-password' })
    console.log(`producer.config shows sasl.password as ${wrong.config.saslPassword}`)
    await wrong.close()
    await produceThree('wrong-password', { ...scram, 'sasl.password': 'not-the-password' })
  } finally {
    await cluster?.stop()
  }
}

await main()
