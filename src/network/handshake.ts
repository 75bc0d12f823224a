import { ErrorCode, KafkaError } from '../errors/index.js'
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  type VersionRange,
} from '../protocol/index.js'

/** What the handshake learnt: the version range per API key and the cluster's finalized features. */
export interface NegotiatedVersions {
  readonly versions: Map<number, VersionRange>
  /**
   * Feature name → finalized (cluster-wide) level, from ApiVersions v3+ (KIP-584), e.g.
   * `transaction.version` 2 for KIP-890's transactions. Empty for older brokers and versions.
   */
  readonly finalizedFeatures: ReadonlyMap<string, number>
}

/**
 * The finalized features of an ApiVersions answer. A level is a broker-given int16: only levels
 * >= 0 are kept, so a hostile or broken answer can never make a feature look enabled below 0.
 */
function finalizedFeatures(res: ApiVersionsResponse): ReadonlyMap<string, number> {
  const out = new Map<string, number>()
  for (const f of res.finalizedFeatures ?? []) {
    if (f.maxVersionLevel >= 0) out.set(f.name, f.maxVersionLevel)
  }
  return out
}

/** What the client says about itself in ApiVersions v3+ (KIP-511). */
export const HELLO: ApiVersionsRequest = {
  clientSoftwareName: 'reliable-kafka',
  clientSoftwareVersion: '0.1.0',
}

/**
 * ApiVersions (KIP-35, KIP-511): we send our newest version; a broker that does not know it answers
 * with UNSUPPORTED_VERSION in a v0 body listing its own ApiVersions range, and we retry once with the
 * newest version both sides know. A broker that rejects the version may also answer in v0 layout,
 * which the newer decoder cannot read (`_BAD_MSG` while the connection is still being set up): then
 * v0 explicitly. Returns the broker's version range per API key.
 *
 * `send(version)` sends ApiVersions at `version` on the connection; `settingUp()` says whether the
 * connection is still being set up (a closed one is not retried).
 */
export async function negotiateApiVersions(
  send: (version: number) => Promise<ApiVersionsResponse>,
  address: string,
  settingUp: () => boolean,
): Promise<NegotiatedVersions> {
  let version = ApiVersionsApi.maxVersion
  for (let attempt = 0; attempt < 2; attempt++) {
    let res: ApiVersionsResponse
    try {
      res = await send(version)
    } catch (err) {
      if (attempt === 0 && err instanceof KafkaError && err.code === '_BAD_MSG' && settingUp()) {
        version = 0
        continue
      }
      throw err
    }
    if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      const own = res.apiKeys.find((k) => k.apiKey === ApiVersionsApi.apiKey)
      version = own ? Math.min(own.maxVersion, ApiVersionsApi.maxVersion) : 0
      continue
    }
    if (res.errorCode !== 0) throw KafkaError.fromKafkaCode(res.errorCode, `ApiVersions from ${address}`)
    return {
      versions: new Map(
        res.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]),
      ),
      finalizedFeatures: finalizedFeatures(res),
    }
  }
  throw new KafkaError('_UNSUPPORTED_FEATURE', `${address}: could not agree on an ApiVersions version`)
}
