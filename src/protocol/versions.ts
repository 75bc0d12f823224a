// The one place a protocol version is chosen: the highest version both sides support, from our
// range intersected with the broker's ApiVersions response (KIP-35), optionally capped.
import { KafkaError } from '../errors/index.js'

export interface VersionRange {
  readonly minVersion: number
  readonly maxVersion: number
}

export interface NegotiableApi extends VersionRange {
  readonly apiKey: number
  readonly name: string
}

/**
 * @param broker apiKey -> the broker's supported range (from ApiVersionsResponse.apiKeys)
 * @param cap highest version the caller wants (e.g. to stay below a version whose semantics it does not use)
 * @throws KafkaError('_UNSUPPORTED_FEATURE') when the ranges do not overlap or the broker lacks the API
 */
export function negotiateVersion(
  api: NegotiableApi,
  broker: ReadonlyMap<number, VersionRange>,
  cap?: number,
): number {
  const ours = `${api.minVersion}-${cap === undefined ? api.maxVersion : Math.min(cap, api.maxVersion)}`
  const theirs = broker.get(api.apiKey)
  if (theirs === undefined) {
    throw new KafkaError(
      '_UNSUPPORTED_FEATURE',
      `The broker does not support ${api.name} (apiKey ${api.apiKey}); this client supports versions ${ours}`,
    )
  }
  const high = Math.min(api.maxVersion, theirs.maxVersion, cap ?? Infinity)
  const low = Math.max(api.minVersion, theirs.minVersion)
  if (high < low) {
    throw new KafkaError(
      '_UNSUPPORTED_FEATURE',
      `No common version for ${api.name} (apiKey ${api.apiKey}): this client supports ${ours}, ` +
        `the broker supports ${theirs.minVersion}-${theirs.maxVersion}`,
    )
  }
  return high
}
