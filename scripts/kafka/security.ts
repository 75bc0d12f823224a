// A secured broker for tests (`startKafka({ security: true })`, `npm run kafka -- start --secure`):
// SSL (mutual TLS), SASL_SSL and SASL_PLAINTEXT listeners next to the PLAINTEXT one the harness's own
// tools keep using, users with random passwords, and ACLs enforced by KRaft's StandardAuthorizer.
// cluster.ts merges the broker properties made here into each node's; certificates.ts makes the files.

import { randomBytes } from 'node:crypto'
import { atLeast, usesZooKeeper } from './jars.js'
import { type CertificateFiles, makeCertificates } from './certificates.js'

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER'

/** Every SASL listener enables all of these. */
export const SASL_MECHANISMS: readonly SaslMechanism[] = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
  'OAUTHBEARER',
]

export interface KafkaUser {
  readonly name: string
  /** Random per run; the same password for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  readonly password: string
}

/** The secured listeners, each "localhost:port,..." (one per node, like bootstrapServers). */
export interface SecurityListeners {
  /** SSL with `ssl.client.auth=required`: the client must present a certificate signed by the CA. */
  readonly ssl: string
  /** SASL over TLS (server authentication only), every mechanism of SASL_MECHANISMS. */
  readonly saslSsl: string
  /** SASL without TLS, every mechanism of SASL_MECHANISMS. */
  readonly saslPlaintext: string
}

/** The listener names of SecurityListeners. */
export type SecureListener = keyof SecurityListeners

/**
 * What a test needs to reach a secured cluster (`KafkaCluster.security`). Every file is PEM in the
 * cluster's temp dir (`dir`), made for this run and deleted with the cluster.
 *
 * The broker's certificate, signed by the CA at `caPath`, has the SAN DNS:localhost and nothing else, so
 * a client that dials 127.0.0.1 and checks the hostname fails: the listeners are advertised as
 * `localhost`. `users.admin` is a super user; `users.alice` may do only what ACLs allow
 * (`allowProduce`, acl.ts); so may `clientPrincipal`, the principal of the client certificate on the
 * SSL listener. SCRAM credentials exist for both users and both hashes. OAUTHBEARER uses Kafka's
 * unsecured JWT validator: tokens with `alg: none` are accepted, and their `sub` claim is the
 * principal (any name, no password: for tests only). The PLAINTEXT listener
 * (`KafkaCluster.bootstrapServers`) and the controller's are unauthenticated (`User:ANONYMOUS`), a super
 * user so that the harness's tools keep working.
 */
export interface KafkaSecurity {
  readonly listeners: SecurityListeners
  /** The CA that signed the broker, client and expired certificates. */
  readonly caPath: string
  readonly caPem: string
  /** An unrelated self-signed CA: a client trusting only it must reject the broker. */
  readonly untrustedCaPath: string
  /** The client certificate (CN=client) for mutual TLS. */
  readonly clientCertPath: string
  /** Its key, unencrypted PKCS#8. */
  readonly clientKeyPath: string
  /** The same key, encrypted PKCS#8 (PBES2, AES-256-CBC) with `clientKeyPassphrase`. */
  readonly clientKeyEncryptedPath: string
  readonly clientKeyPassphrase: string
  /** The encrypted client key and its certificate in one file: a Java client's `ssl.keystore.location`. */
  readonly clientKeystorePath: string
  /** Signed by the CA, SAN DNS:localhost, expired yesterday (for a server or a client). */
  readonly expiredCertPath: string
  readonly expiredKeyPath: string
  readonly users: { readonly admin: KafkaUser; readonly alice: KafkaUser }
  /** The principal the SSL listener gives the client certificate: `User:CN=client`. */
  readonly clientPrincipal: string
  /** `super.users`: `User:ANONYMOUS` (PLAINTEXT and controller listeners) and `User:admin`. */
  readonly superUsers: readonly string[]
  readonly mechanisms: readonly SaslMechanism[]
  /** The directory holding the files above. */
  readonly dir: string
}

/** One node's ports for the secured listeners. */
export interface SecurePorts {
  readonly ssl: number
  readonly saslSsl: number
  readonly saslPlaintext: number
}

/** What startKafka makes once per cluster before formatting: certificates and users. */
export interface SecurityMaterial {
  readonly certificates: CertificateFiles
  readonly users: { readonly admin: KafkaUser; readonly alice: KafkaUser }
}

const BIND_HOST = '127.0.0.1'
/** The name in the broker certificate's SAN, and the host every secured listener is advertised as. */
export const ADVERTISED_HOST = 'localhost'
const CLIENT_PRINCIPAL = 'User:CN=client'
const SUPER_USERS = ['User:ANONYMOUS', 'User:admin']

/**
 * Throws, before anything starts, for a version that cannot run the secured broker: it needs KRaft
 * (StandardAuthorizer) and SCRAM credentials written at format time (`StorageTool format --add-scram`,
 * KIP-900, Kafka 3.5).
 */
export function checkSecuritySupported(version: string): void {
  if (usesZooKeeper(version)) {
    throw new Error(
      `security needs a KRaft cluster, but Kafka ${version} runs in ZooKeeper mode here (before 3.3); ` +
        'the secured broker is made for KRaft (StandardAuthorizer, SCRAM users added at format time)',
    )
  }
  if (!atLeast(version, 3, 5)) {
    throw new Error(
      `security needs Kafka 3.5 or newer (SCRAM users added with StorageTool format --add-scram), not ${version}`,
    )
  }
}

function randomPassword(): string {
  // Hex: nothing that JAAS quoting or StorageTool's [name=...,password=...] syntax could misread.
  return randomBytes(16).toString('hex')
}

/** Certificates in `dir` and the users' random passwords. */
export async function makeSecurityMaterial(dir: string): Promise<SecurityMaterial> {
  return {
    certificates: await makeCertificates(dir),
    users: {
      admin: { name: 'admin', password: randomPassword() },
      alice: { name: 'alice', password: randomPassword() },
    },
  }
}

/** `StorageTool format` arguments creating both users' SCRAM-SHA-256 and SCRAM-SHA-512 credentials. */
export function scramFormatArgs(material: SecurityMaterial): string[] {
  const users = [material.users.admin, material.users.alice]
  return (['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const).flatMap((mechanism) =>
    users.flatMap((u) => ['--add-scram', `${mechanism}=[name=${u.name},password=${u.password}]`]),
  )
}

function jaas(loginModule: string, options: Record<string, string>): string {
  const opts = Object.entries(options).map(([k, v]) => ` ${k}="${v}"`)
  return `${loginModule} required${opts.join('')};`
}

const PLAIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule'
const SCRAM_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule'
const OAUTHBEARER_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule'

/** The JAAS configuration of each mechanism on one SASL listener of the broker. */
function saslListenerProps(listener: string, material: SecurityMaterial): Record<string, string> {
  const { admin, alice } = material.users
  const prefix = `listener.name.${listener.toLowerCase()}`
  return {
    // PLAIN checks the user_<name> passwords listed here.
    [`${prefix}.plain.sasl.jaas.config`]: jaas(PLAIN_MODULE, {
      [`user_${admin.name}`]: admin.password,
      [`user_${alice.name}`]: alice.password,
    }),
    // SCRAM checks the credentials in the cluster metadata (scramFormatArgs).
    [`${prefix}.scram-sha-256.sasl.jaas.config`]: jaas(SCRAM_MODULE, {}),
    [`${prefix}.scram-sha-512.sasl.jaas.config`]: jaas(SCRAM_MODULE, {}),
    // No sasl.server.callback.handler.class: the broker validates OAUTHBEARER tokens with the unsecured
    // JWT validator (OAuthBearerUnsecuredValidatorCallbackHandler). The login module needs a subject for
    // the broker's own (never used) client side.
    [`${prefix}.oauthbearer.sasl.jaas.config`]: jaas(OAUTHBEARER_MODULE, {
      unsecuredLoginStringClaim_sub: admin.name,
    }),
  }
}

/**
 * One node's broker properties for security, merged over those of cluster.ts (and under the caller's
 * `brokerProps`, which may override any): all five listeners, TLS material, SASL and the authorizer.
 * The PLAINTEXT and CONTROLLER listeners stay as cluster.ts has them (127.0.0.1, no authentication).
 */
export function securityBrokerProps(
  material: SecurityMaterial,
  plaintextPort: number,
  controllerPort: number,
  ports: SecurePorts,
): Record<string, string> {
  const certs = material.certificates
  const secured = (host: string): string =>
    `SSL://${host}:${ports.ssl},SASL_SSL://${host}:${ports.saslSsl},SASL_PLAINTEXT://${host}:${ports.saslPlaintext}`
  return {
    listeners: `PLAINTEXT://${BIND_HOST}:${plaintextPort},CONTROLLER://${BIND_HOST}:${controllerPort},${secured(BIND_HOST)}`,
    'advertised.listeners': `PLAINTEXT://${BIND_HOST}:${plaintextPort},${secured(ADVERTISED_HOST)}`,
    'listener.security.protocol.map':
      'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
    // The broker's certificate and the CA it checks client certificates against, for SSL and SASL_SSL.
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.brokerKeystorePath,
    'ssl.key.password': certs.brokerKeyPassword,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': certs.caPath,
    // Only on the SSL listener: SASL_SSL authenticates with SASL (KIP-684 ignores an unprefixed
    // ssl.client.auth there anyway). The principal is the certificate's subject, User:CN=client.
    'listener.name.ssl.ssl.client.auth': 'required',
    'sasl.enabled.mechanisms': SASL_MECHANISMS.join(','),
    ...saslListenerProps('SASL_SSL', material),
    ...saslListenerProps('SASL_PLAINTEXT', material),
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
    'super.users': SUPER_USERS.join(';'),
  }
}

/** The public description of a secured cluster whose nodes have `ports`. */
export function clusterSecurity(material: SecurityMaterial, ports: readonly SecurePorts[]): KafkaSecurity {
  const list = (pick: (p: SecurePorts) => number): string =>
    ports.map((p) => `${ADVERTISED_HOST}:${pick(p)}`).join(',')
  const c = material.certificates
  return {
    listeners: {
      ssl: list((p) => p.ssl),
      saslSsl: list((p) => p.saslSsl),
      saslPlaintext: list((p) => p.saslPlaintext),
    },
    caPath: c.caPath,
    caPem: c.caPem,
    untrustedCaPath: c.untrustedCaPath,
    clientCertPath: c.clientCertPath,
    clientKeyPath: c.clientKeyPath,
    clientKeyEncryptedPath: c.clientKeyEncryptedPath,
    clientKeyPassphrase: c.clientKeyPassphrase,
    clientKeystorePath: c.clientKeystorePath,
    expiredCertPath: c.expiredCertPath,
    expiredKeyPath: c.expiredKeyPath,
    users: material.users,
    clientPrincipal: CLIENT_PRINCIPAL,
    superUsers: SUPER_USERS,
    mechanisms: SASL_MECHANISMS,
    dir: c.dir,
  }
}

/** How a Java client authenticates on a SASL listener. */
export interface JavaSaslAuth {
  mechanism: SaslMechanism
  /** For OAUTHBEARER only the name counts (the token's `sub`). */
  user: KafkaUser
}

/**
 * Properties for a Java client (Kafka's console tools, `--command-config` or `--command-property`)
 * on one of the secured listeners: mutual TLS with the client certificate on `ssl`, else SASL with
 * `auth`. Hostname verification stays on (Java's default), so use the listener's `localhost`
 * address, as `security.listeners` gives it. Without `bootstrap.servers`: the tools take it apart.
 */
export function javaClientProperties(
  security: KafkaSecurity,
  listener: SecureListener,
  auth?: JavaSaslAuth,
): Record<string, string> {
  const trust = { 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': security.caPath }
  if (listener === 'ssl') {
    return {
      'security.protocol': 'SSL',
      ...trust,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': security.clientKeystorePath,
      'ssl.key.password': security.clientKeyPassphrase,
    }
  }
  if (auth === undefined)
    throw new Error(`javaClientProperties: the ${listener} listener needs a SASL mechanism and user`)
  const { mechanism, user } = auth
  const jaasConfig =
    mechanism === 'OAUTHBEARER'
      ? jaas(OAUTHBEARER_MODULE, { unsecuredLoginStringClaim_sub: user.name })
      : jaas(mechanism === 'PLAIN' ? PLAIN_MODULE : SCRAM_MODULE, {
          username: user.name,
          password: user.password,
        })
  return {
    'security.protocol': listener === 'saslSsl' ? 'SASL_SSL' : 'SASL_PLAINTEXT',
    ...(listener === 'saslSsl' ? trust : {}),
    'sasl.mechanism': mechanism,
    'sasl.jaas.config': jaasConfig,
  }
}
