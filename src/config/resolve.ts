import type { CompressionType } from '../compression/index.js'
import {
  CATALOGUE,
  KEY_INDEX,
  type DeliveryCallback,
  type ErrorCallback,
  type Logger,
  type OAuthCallback,
  type StatsCallback,
  type TlsConnectionOptions,
} from './catalogue.js'
import type { StoreType } from '../network/tls/index.js'
import { ConfigError } from './errors.js'
import { REDACTED, parseBootstrap, parseValue, sameValue, show, suggestKey } from './parse-values.js'
import type { PartitionerSetting } from './partitioner-setting.js'
import type { ProducerConfig } from './producer-config.js'

export type SecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl'
export type SaslMechanism = 'GSSAPI' | 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER'

/** The value a secret's property of {@link ResolvedProducerConfig} holds when the secret is set. */
export type Redacted = typeof REDACTED

/**
 * The properties of {@link ResolvedProducerConfig} that hold secrets: the catalogue's `sensitive` keys
 * (ssl.key.pem, ssl.key.password, ssl.keystore.password, ssl.keystore.key, ssl.truststore.password,
 * sasl.password, sasl.jaas.config, sasl.oauthbearer.config) and the `tls` escape hatch, which may hold
 * keys. test/unit/config/secrets.test.ts checks that this list and the catalogue agree.
 */
export type SecretProp =
  | 'sslKeyPem'
  | 'sslKeyPassword'
  | 'sslKeystorePassword'
  | 'sslKeystoreKey'
  | 'sslTruststorePassword'
  | 'saslPassword'
  | 'saslJaasConfig'
  | 'saslOauthbearerConfig'
  | 'tls'

/** The secrets that are strings (every SecretProp but the `tls` object). */
export type SecretStringProp = Exclude<SecretProp, 'tls'>

export type { StoreType }

/**
 * The validated, normalised configuration the rest of the producer reads. Units are canonical (bytes,
 * milliseconds) whatever spelling the user chose; unset optional values are `null`. Secrets (the
 * `SecretProp` properties) read `'[redacted]'`, so that neither `producer.config`, nor
 * JSON.stringify or util.inspect of it, nor a log line built from it shows them; the code that needs a
 * secret reads it with `secretValue()` (internal, not exported from the package).
 */
export interface ResolvedProducerConfig {
  readonly bootstrapServers: readonly string[]
  readonly clientId: string
  readonly acks: -1 | 0 | 1
  readonly enableIdempotence: boolean
  /** Whether the user set enable.idempotence (or it was derived from the defaults). */
  readonly enableIdempotenceExplicit: boolean
  readonly retries: number
  readonly retryBackoffMs: number
  readonly retryBackoffMaxMs: number
  readonly deliveryTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly lingerMs: number
  readonly batchSize: number
  readonly batchNumMessages: number
  readonly compressionType: CompressionType
  /** null: the codec's default level. */
  readonly compressionLevel: number | null
  /** Bytes (queue.buffering.max.kbytes converted). */
  readonly bufferMemory: number
  /** 0: no count limit. */
  readonly queueBufferingMaxMessages: number
  readonly maxBlockMs: number
  readonly maxInFlight: number
  readonly messageMaxBytes: number
  readonly metadataMaxAgeMs: number
  /** -1: no periodic refresh. Defaults to metadataMaxAgeMs. */
  readonly topicMetadataRefreshIntervalMs: number
  readonly topicMetadataPropagationMaxMs: number
  readonly allowAutoCreateTopics: boolean
  /** metrics.enable, metrics.sample.window.ms, metrics.num.samples (docs/metrics.md). */
  readonly metricsEnable: boolean
  readonly metricsSampleWindowMs: number
  readonly metricsNumSamples: number
  readonly reconnectBackoffMs: number
  readonly reconnectBackoffMaxMs: number
  readonly socketConnectionSetupTimeoutMs: number
  readonly transactionalId: string | null
  readonly transactionTimeoutMs: number
  readonly statisticsIntervalMs: number
  readonly statsCb: StatsCallback | null
  readonly partitioner: PartitionerSetting
  readonly deliveryReportCb: DeliveryCallback | null
  readonly errorCb: ErrorCallback | null
  readonly debug: readonly string[]
  /** The `logger` option; null: stderr, and only for debug lines (docs/logging.md). */
  readonly logger: Logger | null
  readonly securityProtocol: SecurityProtocol
  readonly sslCaLocation: string | null
  readonly sslCaPem: string | null
  readonly sslCertificateLocation: string | null
  readonly sslCertificatePem: string | null
  readonly sslKeyLocation: string | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly sslKeyPem: Redacted | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly sslKeyPassword: Redacted | null
  readonly sslKeystoreLocation: string | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly sslKeystorePassword: Redacted | null
  readonly sslKeystoreType: StoreType | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly sslKeystoreKey: Redacted | null
  readonly sslKeystoreCertificateChain: string | null
  readonly sslTruststoreLocation: string | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly sslTruststorePassword: Redacted | null
  readonly sslTruststoreType: StoreType | null
  readonly sslTruststoreCertificates: string | null
  /** The escape hatch, a secret (it may hold keys): `'[redacted]'` when set, else null. */
  readonly tls: Redacted | null
  readonly sslCipherSuites: string | null
  readonly enableSslCertificateVerification: boolean
  readonly sslEndpointIdentificationAlgorithm: 'https' | 'none'
  readonly saslMechanism: SaslMechanism
  readonly saslUsername: string | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly saslPassword: Redacted | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly saslJaasConfig: Redacted | null
  /** A secret: `'[redacted]'` when set, else null. */
  readonly saslOauthbearerConfig: Redacted | null
  readonly oauthCb: OAuthCallback | null
  readonly saslKerberosServiceName: string
  readonly saslKerberosPrincipal: string | null
  readonly saslKerberosKeytab: string | null
  /**
   * Keys the user set whose feature is not implemented yet (see each key's status in
   * docs/configuration.md), e.g. `stats_cb` or `sasl.username` (accepted, without effect). The producer
   * warns once per process and key (warnNotImplemented, warnings.ts).
   */
  readonly notImplemented: readonly string[]
  /** Canonical names of the keys the user set (under any spelling). */
  readonly explicitKeys: ReadonlySet<string>
}

/** The shape cross-key rules work on before the result is frozen. */
export type MutableResolvedProducerConfig = {
  -readonly [K in keyof ResolvedProducerConfig]: ResolvedProducerConfig[K]
}

// ---------------------------------------------------------------------------------------------- resolve

/** Codec-specific level ranges (KIP-390); -1 was mapped to null before this. */
const LEVELS: Record<CompressionType, [number, number] | null> = {
  none: null,
  gzip: [0, 9],
  snappy: [0, 0],
  lz4: [0, 12],
  zstd: [1, 22],
}

/**
 * Validates and normalises a producer configuration. Accepts every canonical key and alias of the
 * catalogue (Java and librdkafka spellings), with Python-style values ('all', '100', 'true').
 * Throws {@link ConfigError} for an unknown key (with the closest known key), a wrong type, a value out of
 * range or not allowed, two spellings of one key with different values, and contradictory settings.
 */
export function resolveProducerConfig(
  input: ProducerConfig | Record<string, unknown>,
): ResolvedProducerConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('', 'The producer configuration must be an object of key/value pairs')
  }

  // canonical name → the spelling the user used and the parsed value
  const given = new Map<string, { key: string; value: unknown }>()
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    // undefined and null mean "not set": spreading optional values must not trip validation.
    if (raw === undefined || raw === null) continue
    const hit = KEY_INDEX.get(key)
    if (hit === undefined) {
      const suggestion = suggestKey(key)
      throw new ConfigError(
        key,
        `Unknown config key '${key}'.` + (suggestion !== undefined ? ` Did you mean '${suggestion}'?` : ''),
        suggestion !== undefined ? { suggestion } : {},
      )
    }
    const { entry, alias } = hit
    // Java turns hostname verification off with an empty ssl.endpoint.identification.algorithm.
    const value =
      entry.name === 'ssl.endpoint.identification.algorithm' && raw === ''
        ? 'none'
        : parseValue(key, entry, alias, raw)
    const earlier = given.get(entry.name)
    if (earlier !== undefined && !sameValue(earlier.value, value)) {
      throw new ConfigError(
        earlier.key,
        `Config keys '${earlier.key}' and '${key}' are two names for the same setting and were given ` +
          `different values (${show(entry, input[earlier.key as keyof typeof input])} and ${show(entry, raw)}): ` +
          `set only one of them`,
      )
    }
    given.set(entry.name, { key, value })
  }

  const values = new Map<string, unknown>()
  for (const entry of CATALOGUE) {
    if (given.has(entry.name)) values.set(entry.name, given.get(entry.name)!.value)
    else if (entry.required) {
      const aliases = entry.aliases.map((a) => `'${a.name}'`).join(' or ')
      throw new ConfigError(
        entry.name,
        `Config key '${entry.name}'${aliases ? ` (or ${aliases})` : ''} is required`,
      )
    } else {
      // Defaults go through the same parser, which normalises them (acks 'all' → -1) and checks the catalogue.
      values.set(
        entry.name,
        entry.default === null ? null : parseValue(entry.name, entry, null, entry.default),
      )
    }
  }
  const explicit = new Set(given.keys())
  const v = <T>(name: string): T => values.get(name) as T

  const compressionType = v<CompressionType>('compression.type')
  const level = v<number>('compression.level')
  const compressionLevel = level === -1 ? null : level
  const levelRange = LEVELS[compressionType]
  if (compressionLevel !== null && levelRange !== null) {
    if (compressionLevel < levelRange[0] || compressionLevel > levelRange[1]) {
      throw new ConfigError(
        given.get('compression.level')!.key,
        `Config key 'compression.level' is out of range for ${compressionType}: ${compressionLevel} given, ` +
          `expected -1 (codec default) or ${levelRange[0]} to ${levelRange[1]}`,
      )
    }
  }

  const retryBackoffMs = v<number>('retry.backoff.ms')
  const reconnectBackoffMs = v<number>('reconnect.backoff.ms')
  const metadataMaxAgeMs = v<number>('metadata.max.age.ms')
  const refresh = v<number | null>('topic.metadata.refresh.interval.ms')

  const resolved: MutableResolvedProducerConfig = {
    bootstrapServers: parseBootstrap(given.get('bootstrap.servers')!.key, v<string[]>('bootstrap.servers')),
    clientId: v('client.id'),
    acks: v('acks'),
    enableIdempotence: v('enable.idempotence'),
    enableIdempotenceExplicit: explicit.has('enable.idempotence'),
    retries: v('retries'),
    retryBackoffMs,
    // Like Java (KIP-580): a max below the base backoff is raised to the base, not rejected.
    retryBackoffMaxMs: Math.max(v<number>('retry.backoff.max.ms'), retryBackoffMs),
    deliveryTimeoutMs: v('delivery.timeout.ms'),
    requestTimeoutMs: v('request.timeout.ms'),
    lingerMs: v('linger.ms'),
    batchSize: v('batch.size'),
    batchNumMessages: v('batch.num.messages'),
    compressionType,
    compressionLevel,
    bufferMemory: v('buffer.memory'),
    queueBufferingMaxMessages: v('queue.buffering.max.messages'),
    maxBlockMs: v('max.block.ms'),
    maxInFlight: v('max.in.flight.requests.per.connection'),
    messageMaxBytes: v('message.max.bytes'),
    metadataMaxAgeMs,
    topicMetadataRefreshIntervalMs: refresh ?? metadataMaxAgeMs,
    topicMetadataPropagationMaxMs: v('topic.metadata.propagation.max.ms'),
    allowAutoCreateTopics: v('allow.auto.create.topics'),
    metricsEnable: v('metrics.enable'),
    metricsSampleWindowMs: v('metrics.sample.window.ms'),
    metricsNumSamples: v('metrics.num.samples'),
    reconnectBackoffMs,
    reconnectBackoffMaxMs: Math.max(v<number>('reconnect.backoff.max.ms'), reconnectBackoffMs),
    socketConnectionSetupTimeoutMs: v('socket.connection.setup.timeout.ms'),
    transactionalId: v('transactional.id'),
    transactionTimeoutMs: v('transaction.timeout.ms'),
    statisticsIntervalMs: v('statistics.interval.ms'),
    statsCb: v('stats_cb'),
    partitioner: v('partitioner'),
    deliveryReportCb: v('dr_msg_cb'),
    errorCb: v('error_cb'),
    debug: v('debug'),
    logger: v('logger'),
    securityProtocol: v('security.protocol'),
    sslCaLocation: v('ssl.ca.location'),
    sslCaPem: v('ssl.ca.pem'),
    sslCertificateLocation: v('ssl.certificate.location'),
    sslCertificatePem: v('ssl.certificate.pem'),
    sslKeyLocation: v('ssl.key.location'),
    sslKeyPem: v('ssl.key.pem'),
    sslKeyPassword: v('ssl.key.password'),
    sslKeystoreLocation: v('ssl.keystore.location'),
    sslKeystorePassword: v('ssl.keystore.password'),
    sslKeystoreType: v('ssl.keystore.type'),
    sslKeystoreKey: v('ssl.keystore.key'),
    sslKeystoreCertificateChain: v('ssl.keystore.certificate.chain'),
    sslTruststoreLocation: v('ssl.truststore.location'),
    sslTruststorePassword: v('ssl.truststore.password'),
    sslTruststoreType: v('ssl.truststore.type'),
    sslTruststoreCertificates: v('ssl.truststore.certificates'),
    tls: v('tls'),
    sslCipherSuites: v('ssl.cipher.suites'),
    enableSslCertificateVerification: v('enable.ssl.certificate.verification'),
    sslEndpointIdentificationAlgorithm: v('ssl.endpoint.identification.algorithm'),
    saslMechanism: v('sasl.mechanism'),
    saslUsername: v('sasl.username'),
    saslPassword: v('sasl.password'),
    saslJaasConfig: v('sasl.jaas.config'),
    saslOauthbearerConfig: v('sasl.oauthbearer.config'),
    oauthCb: v('oauth_cb'),
    saslKerberosServiceName: v('sasl.kerberos.service.name'),
    saslKerberosPrincipal: v('sasl.kerberos.principal'),
    saslKerberosKeytab: v('sasl.kerberos.keytab'),
    notImplemented: [],
    explicitKeys: explicit,
  }

  checkSecurityRules(resolved, given)
  checkTimeoutRules(resolved, given)
  checkIdempotenceRules(resolved, given)

  const notImplemented: string[] = []
  for (const [name, { key }] of given) {
    const entry = KEY_INDEX.get(name)!.entry
    if (entry.implemented !== true) notImplemented.push(key)
  }
  resolved.notImplemented = notImplemented

  const hidden = new Map<SecretProp, unknown>()
  for (const entry of CATALOGUE) {
    if (!entry.sensitive) continue
    const prop = entry.prop as SecretProp
    const value = resolved[prop] as unknown
    if (value === null) continue
    hidden.set(prop, value)
    resolved[prop] = REDACTED
  }
  const frozen = Object.freeze(resolved)
  secrets.set(frozen, hidden)
  return frozen
}

/**
 * The secrets of each resolved configuration, out of its properties: a WeakMap is not reachable from
 * the object, so no JSON.stringify, util.inspect (even with showHidden) or spread can reveal them.
 */
const secrets = new WeakMap<ResolvedProducerConfig, ReadonlyMap<SecretProp, unknown>>()

/**
 * The value of a secret setting (sasl.password, ...) of a configuration made by
 * {@link resolveProducerConfig}, or null when it is not set. Internal: for the code that needs it (SASL
 * and TLS, config/security.ts); not exported from the package. A copy of the configuration (a spread) has
 * no secrets.
 */
export function secretValue(config: ResolvedProducerConfig, prop: SecretStringProp): string | null {
  return (secrets.get(config)?.get(prop) as string | undefined) ?? null
}

/** The `tls` escape hatch of a configuration made by {@link resolveProducerConfig}; null when unset. */
export function tlsEscapeHatch(config: ResolvedProducerConfig): TlsConnectionOptions | null {
  return (secrets.get(config)?.get('tls') as TlsConnectionOptions | undefined) ?? null
}

/** Canonical name → the spelling the user used and its parsed value. */
export type GivenKeys = ReadonlyMap<string, { key: string; value: unknown }>

/**
 * SASL settings that cannot work are refused when the producer is created rather than at the first
 * connection: GSSAPI (Kerberos; Java's and librdkafka's default mechanism) is not implemented, and PLAIN
 * and SCRAM need a user name and a password (sasl.username/sasl.password or sasl.jaas.config). The
 * OAUTHBEARER rules are checkOAuthRules' (config/security.ts).
 */
function checkSecurityRules(resolved: MutableResolvedProducerConfig, given: GivenKeys): void {
  if (!resolved.securityProtocol.startsWith('sasl_')) return
  const mech = given.get('sasl.mechanism')?.key ?? 'sasl.mechanism'
  if (resolved.saslMechanism === 'GSSAPI') {
    throw new ConfigError(
      mech,
      `Config key '${mech}' is GSSAPI` +
        (given.has('sasl.mechanism') ? '' : ' (the default, as in Java and librdkafka)') +
        `, which this client does not implement: set it to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or ` +
        `OAUTHBEARER for security.protocol '${resolved.securityProtocol}'`,
    )
  }
}

/**
 * Java's rule (KIP-91): a record must be allowed to linger and then wait for one full request before it
 * times out, so delivery.timeout.ms >= linger.ms + request.timeout.ms. Set explicitly, a smaller value is
 * an error; left at its default, it is raised to the sum, as Java does.
 */
function checkTimeoutRules(resolved: MutableResolvedProducerConfig, given: GivenKeys): void {
  const floor = resolved.lingerMs + resolved.requestTimeoutMs
  if (resolved.deliveryTimeoutMs >= floor) return
  const d = given.get('delivery.timeout.ms')
  if (d === undefined) {
    resolved.deliveryTimeoutMs = Math.ceil(floor)
    return
  }
  const l = given.get('linger.ms')?.key ?? 'linger.ms'
  const r = given.get('request.timeout.ms')?.key ?? 'request.timeout.ms'
  throw new ConfigError(
    d.key,
    `Config key '${d.key}' (${resolved.deliveryTimeoutMs}) must be at least '${l}' + '${r}' ` +
      `(${resolved.lingerMs} + ${resolved.requestTimeoutMs} = ${floor}): a record must be allowed to linger ` +
      `and then wait for one request before it times out`,
  )
}

/**
 * IDEMPOTENCE / ACKS CROSS-RULES (KIP-98, KIP-679; Java's ProducerConfig
 * postProcessAndValidateIdempotenceConfigs, librdkafka's enable.idempotence notes).
 *
 * Idempotence needs acks=all (a duplicate can only be detected for a write every replica has),
 * max.in.flight <= 5 (the broker remembers the last 5 batches per producer) and retries > 0.
 * - enable.idempotence set to true explicitly and a conflicting key → ConfigError explaining the conflict.
 * - enable.idempotence not set and the user chose acks 0/1, max.in.flight > 5 or retries 0 → idempotence is
 *   turned off silently, as Java does, so that pre-3.0 configurations keep working.
 * - transactional.id requires idempotence: with it explicitly false, or turned off by the rule above,
 *   → ConfigError.
 */
export function checkIdempotenceRules(
  resolved: MutableResolvedProducerConfig,
  given: GivenKeys = new Map(),
): void {
  const keyOf = (name: string): string => given.get(name)?.key ?? name
  const conflicts: string[] = []
  if (resolved.acks !== -1) conflicts.push(`'${keyOf('acks')}' must be all (-1), not ${resolved.acks}`)
  if (resolved.maxInFlight > 5) {
    conflicts.push(
      `'${keyOf('max.in.flight.requests.per.connection')}' must be at most 5, not ${resolved.maxInFlight}`,
    )
  }
  if (resolved.retries <= 0) conflicts.push(`'${keyOf('retries')}' must be greater than 0`)

  if (resolved.enableIdempotence && conflicts.length > 0) {
    if (resolved.enableIdempotenceExplicit) {
      throw new ConfigError(
        keyOf('enable.idempotence'),
        `Config key 'enable.idempotence' is true, which requires: ${conflicts.join('; ')}. ` +
          `Change those settings, or set 'enable.idempotence' to false to accept possible duplicates`,
      )
    }
    resolved.enableIdempotence = false
  }

  if (resolved.transactionalId !== null && !resolved.enableIdempotence) {
    const why = resolved.enableIdempotenceExplicit
      ? `'enable.idempotence' is false`
      : `idempotence was turned off because ${conflicts.join('; ')}`
    throw new ConfigError(
      keyOf('transactional.id'),
      `Config key '${keyOf('transactional.id')}' requires idempotence, but ${why}`,
    )
  }
}
