export {
  CATALOGUE,
  CATALOGUE_BY_NAME,
  CONFIG_GROUPS,
  KEY_INDEX,
  type ConfigAlias,
  type ConfigDefault,
  type ConfigEntry,
  type ConfigGroup,
  type ConfigType,
  type DeliveryCallback,
  type DeliveryReport,
  type ErrorCallback,
  type Logger,
  type OAuthBearerToken,
  type OAuthCallback,
  type StatsCallback,
  type TlsConnectionOptions,
} from './catalogue.js'
export { ConfigError } from './errors.js'
export { connectionSecurity, type ConnectionSecurity } from './security.js'
export {
  PARTITIONER_NAMES,
  type PartitionerFunction,
  type PartitionerName,
  type PartitionerSetting,
} from './partitioner-setting.js'
export { presets, type PresetName } from './presets.js'
export type { ProducerConfig } from './producer-config.js'
export { editDistance, suggestKey } from './parse-values.js'
export {
  checkIdempotenceRules,
  resolveProducerConfig,
  secretValue,
  tlsEscapeHatch,
  type GivenKeys,
  type MutableResolvedProducerConfig,
  type Redacted,
  type ResolvedProducerConfig,
  type SaslMechanism,
  type SecretProp,
  type SecretStringProp,
  type SecurityProtocol,
  type StoreType,
} from './resolve.js'
export { NOT_IMPLEMENTED_WARNING_CODE, WARNING_TYPE, warnNotImplemented } from './warnings.js'
