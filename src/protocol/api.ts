// The shape every generated message module exports (one per Kafka API). Both directions are
// encoded and decoded so tests and an in-process mock broker share the client's codec.
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

export interface ApiDefinition<Req, Res> {
  readonly apiKey: number
  /** API name as in Kafka's message definitions, without the Request/Response suffix ('Produce'). */
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  /** First version using the compact encoding and tagged fields (KIP-482); Infinity when none. */
  readonly flexibleMinVersion: number
  encodeRequest(w: Writer, version: number, msg: Req): void
  decodeRequest(r: Reader, version: number): Req
  encodeResponse(w: Writer, version: number, msg: Res): void
  decodeResponse(r: Reader, version: number): Res
}

/** Any API, for registries keyed by apiKey. */
export type AnyApiDefinition = ApiDefinition<unknown, unknown>

/** The request type of an ApiDefinition. */
export type RequestOf<A> = A extends ApiDefinition<infer Req, unknown> ? Req : never
/** The response type of an ApiDefinition. */
export type ResponseOf<A> = A extends ApiDefinition<unknown, infer Res> ? Res : never
