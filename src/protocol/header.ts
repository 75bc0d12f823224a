// Request/response framing (https://kafka.apache.org/protocol#protocol_messages):
//   frame = int32 size, then header, then body.
//   RequestHeader v1: apiKey int16, apiVersion int16, correlationId int32, clientId int16-length
//   nullable string. v2 (when the API version is flexible, KIP-482) adds a tagged-field section;
//   ClientId keeps the int16 length even in v2 for compatibility with old brokers.
//   ResponseHeader v0: correlationId int32; v1 (flexible) adds tagged fields. ApiVersionsResponse
//   always uses v0 so a client can parse it before knowing the broker's versions (KIP-511).
import type { AnyApiDefinition, ApiDefinition } from './api.js'
import { KafkaError } from '../errors/index.js'
import { Reader } from './reader.js'
import { Writer } from './writer.js'

const API_VERSIONS_KEY = 18

type ApiInfo = Pick<AnyApiDefinition, 'apiKey' | 'flexibleMinVersion'>

export function isFlexible(api: ApiInfo, version: number): boolean {
  return version >= api.flexibleMinVersion
}

/** Response header version for an API version: 1 when flexible, except ApiVersions (always 0). */
export function responseHeaderVersion(api: ApiInfo, version: number): 0 | 1 {
  return api.apiKey !== API_VERSIONS_KEY && isFlexible(api, version) ? 1 : 0
}

/** Encodes size prefix + request header + body; large record batches stay separate chunks (no copy). */
export function encodeRequestFrame<Req>(
  api: ApiDefinition<Req, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  msg: Req,
): Buffer[] {
  checkVersion(api, version)
  const w = new Writer(512)
  const size = w.reserve(4)
  w.int16(api.apiKey).int16(version).int32(correlationId).nullableString(clientId)
  if (isFlexible(api, version)) w.emptyTaggedFields()
  api.encodeRequest(w, version, msg)
  w.patchInt32(size, w.offset - 4)
  return w.finishChunks()
}

/** Encodes size prefix + response header + body (for a mock broker). */
export function encodeResponseFrame<Res>(
  api: ApiDefinition<unknown, Res>,
  version: number,
  correlationId: number,
  msg: Res,
): Buffer[] {
  const w = new Writer(512)
  const size = w.reserve(4)
  w.int32(correlationId)
  if (responseHeaderVersion(api, version) === 1) w.emptyTaggedFields()
  api.encodeResponse(w, version, msg)
  w.patchInt32(size, w.offset - 4)
  return w.finishChunks()
}

/** The correlation id of a response frame (`frame` = bytes after the int32 size prefix). */
export function readCorrelationId(frame: Buffer): number {
  if (frame.length < 4)
    throw new KafkaError('_BAD_MSG', `Response frame of ${frame.length} bytes has no header`)
  return frame.readInt32BE(0)
}

/** Reads the response header, leaving `r` at the body. */
export function decodeResponseHeader(r: Reader, api: ApiInfo, version: number): { correlationId: number } {
  const correlationId = r.int32()
  if (responseHeaderVersion(api, version) === 1) r.skipTaggedFields()
  return { correlationId }
}

/** Decodes a whole response frame (without the size prefix): header, then body. */
export function decodeResponseFrame<Res>(
  frame: Buffer,
  api: ApiDefinition<unknown, Res>,
  version: number,
): { correlationId: number; body: Res } {
  const r = new Reader(frame)
  const { correlationId } = decodeResponseHeader(r, api, version)
  const body = api.decodeResponse(r, version)
  return { correlationId, body }
}

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

/**
 * Reads a request header. The header version depends on the API's flexible versions, so the
 * caller supplies the lookup from apiKey to definition (undefined = unknown API: _BAD_MSG).
 */
export function decodeRequestHeader(
  r: Reader,
  lookup: (apiKey: number) => AnyApiDefinition | undefined,
): RequestHeader {
  const apiKey = r.int16()
  const apiVersion = r.int16()
  const correlationId = r.int32()
  const clientId = r.nullableString()
  const api = lookup(apiKey)
  if (api === undefined) throw new KafkaError('_BAD_MSG', `Request for unknown apiKey ${apiKey}`)
  if (isFlexible(api, apiVersion)) r.skipTaggedFields()
  return { apiKey, apiVersion, correlationId, clientId }
}

export interface DecodedRequest extends RequestHeader {
  api: AnyApiDefinition
  body: unknown
}

/** Decodes a request frame (without the size prefix) the way a broker would. */
export function decodeRequestFrame(
  frame: Buffer,
  lookup: (apiKey: number) => AnyApiDefinition | undefined,
): DecodedRequest {
  const r = new Reader(frame)
  const header = decodeRequestHeader(r, lookup)
  const api = lookup(header.apiKey)!
  checkVersion(api, header.apiVersion)
  const body = api.decodeRequest(r, header.apiVersion)
  return { ...header, api, body }
}

function checkVersion(
  api: Pick<AnyApiDefinition, 'name' | 'minVersion' | 'maxVersion'>,
  version: number,
): void {
  if (!Number.isInteger(version) || version < api.minVersion || version > api.maxVersion) {
    throw new KafkaError(
      '_UNSUPPORTED_FEATURE',
      `${api.name} version ${version} is outside the supported range ${api.minVersion}-${api.maxVersion}`,
    )
  }
}
