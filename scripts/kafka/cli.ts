// `npm run kafka -- start [--nodes 3] [--version 3.9.1] [--feature transaction.version=1] [--secure]`: a local Kafka in the foreground until Ctrl-C.
// `npm run kafka -- fetch`: only download the jars (e.g. to warm a CI cache).

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startKafka } from './cluster.js'
import {
  cacheRoot,
  COMPAT_KAFKA_VERSIONS,
  DEFAULT_KAFKA_VERSION,
  ensureKafkaJars,
  usesZooKeeper,
} from './jars.js'
import { propsText } from './processes.js'
import {
  javaClientProperties,
  type JavaSaslAuth,
  type KafkaSecurity,
  type SecureListener,
} from './security.js'

const USAGE = `usage: node dist/scripts/kafka/cli.js <command> [options]

commands:
  start   start a cluster on 127.0.0.1 and keep it running until Ctrl-C / SIGTERM: KRaft, or
          before Kafka 3.3 brokers with one ZooKeeper node
  fetch   download the Kafka jars into the cache and exit

options:
  --nodes <1|3>          cluster size for start (default 1)
  --version <v>          Kafka version (default ${DEFAULT_KAFKA_VERSION}; tested: ${COMPAT_KAFKA_VERSIONS.join(', ')})
  --kafka-version <v>    the same
  --prop <key=value>     broker property, repeatable (e.g. --prop auto.create.topics.enable=false)
  --feature <name=level> finalized feature level the storage is formatted with, repeatable, KRaft
                         from Kafka 3.9 (e.g. --feature transaction.version=1: classic transactions)
  --secure               also SSL (mutual TLS), SASL_SSL and SASL_PLAINTEXT listeners on localhost,
                         users admin and alice, ACLs enforced (KRaft from Kafka 3.5); prints the
                         passwords and writes a client properties file per listener. E.g. with
                         --prop connections.max.reauth.ms=10000 for re-authentication (KIP-368)
  -h, --help`

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: '1' },
      version: { type: 'string' },
      'kafka-version': { type: 'string' },
      prop: { type: 'string', multiple: true, default: [] },
      feature: { type: 'string', multiple: true, default: [] },
      secure: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const command = positionals[0]
  if (values.help || command === undefined) {
    console.log(USAGE)
    return values.help ? 0 : 2
  }
  const version = values.version ?? values['kafka-version'] ?? DEFAULT_KAFKA_VERSION

  if (command === 'fetch') {
    const started = Date.now()
    const libs = await ensureKafkaJars(version)
    console.log(`Kafka ${version} jars in ${libs} (${Date.now() - started} ms; cache root ${cacheRoot()})`)
    return 0
  }
  if (command !== 'start') {
    console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
    return 2
  }

  const nodes = values.nodes === '1' ? 1 : values.nodes === '3' ? 3 : null
  if (nodes === null) {
    console.error(`--nodes must be 1 or 3, not ${values.nodes}`)
    return 2
  }
  const brokerProps: Record<string, string> = {}
  for (const p of values.prop) {
    const eq = p.indexOf('=')
    if (eq <= 0) {
      console.error(`--prop expects key=value, got ${JSON.stringify(p)}`)
      return 2
    }
    brokerProps[p.slice(0, eq)] = p.slice(eq + 1)
  }
  const features: Record<string, number> = {}
  for (const f of values.feature) {
    const m = /^([^=]+)=(\d+)$/.exec(f)
    if (!m) {
      console.error(`--feature expects name=level with a whole-number level, got ${JSON.stringify(f)}`)
      return 2
    }
    features[m[1]!] = Number(m[2])
  }

  const started = Date.now()
  const cluster = await startKafka({ nodes, version, brokerProps, features, security: values.secure })
  const mode = usesZooKeeper(version)
    ? `ZooKeeper mode, zookeeper.connect=${cluster.zookeeperConnect}`
    : 'KRaft'
  const secured = cluster.security ? ', secured' : ''
  console.log(`Kafka ${version} (${mode}), ${nodes} node(s)${secured}, ready in ${Date.now() - started} ms`)
  const featureList = Object.entries(features).map(([name, level]) => `${name}=${level}`)
  if (featureList.length > 0) console.log(`features: ${featureList.join(', ')}`)
  console.log(`logs: ${cluster.logDir}`)
  console.log(`bootstrap.servers=${cluster.bootstrapServers}`)
  if (cluster.security) await printSecurity(cluster.security)
  console.log('Press Ctrl-C to stop.')

  // Our own listeners make cluster.ts leave the shutdown to us (graceful), keeping its SIGKILL fallback.
  return new Promise<number>((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        console.error('second signal: killing the brokers')
        process.exit(1) // the 'exit' handler in cluster.ts SIGKILLs the JVMs
      }
      stopping = true
      console.error(`\n${signal}: stopping Kafka...`)
      cluster.stop().then(
        () => resolve(0),
        (err: unknown) => {
          console.error(err)
          resolve(1)
        },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

/** What a human needs to connect to the secured listeners, and a Java client config for each. */
async function printSecurity(security: KafkaSecurity): Promise<void> {
  const { admin, alice } = security.users
  const configs: [SecureListener, string, JavaSaslAuth | undefined, string][] = [
    ['ssl', 'SSL', undefined, 'mutual TLS as User:CN=client'],
    ['saslSsl', 'SASL_SSL', { mechanism: 'SCRAM-SHA-512', user: admin }, 'SCRAM-SHA-512 as admin'],
    ['saslPlaintext', 'SASL_PLAINTEXT', { mechanism: 'PLAIN', user: admin }, 'PLAIN as admin'],
  ]
  console.log('(PLAINTEXT: no authentication, User:ANONYMOUS, a super user)')
  for (const [listener, name, auth, how] of configs) {
    const file = join(security.dir, `client-${name.toLowerCase().replace('_', '-')}.properties`)
    await writeFile(file, propsText(javaClientProperties(security, listener, auth)))
    console.log(`${name.padEnd(14)} ${security.listeners[listener]}  --command-config ${file} (${how})`)
  }
  console.log(`SASL mechanisms: ${security.mechanisms.join(', ')} (OAUTHBEARER: unsecured JWT, sub = user)`)
  console.log(`users: admin / ${admin.password} (super user), alice / ${alice.password} (ACLs only)`)
  console.log(`CA: ${security.caPath}`)
  console.log(`client certificate: ${security.clientCertPath}, key: ${security.clientKeyPath}`)
  console.log(
    `encrypted client key: ${security.clientKeyEncryptedPath}, passphrase ${security.clientKeyPassphrase}`,
  )
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  },
)
