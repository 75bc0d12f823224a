// A self-contained readiness probe: one hand-encoded Metadata request over a raw socket.
// It deliberately shares no code with src/ so a bug in the client under test cannot make the harness
// report a broken broker as ready (or a ready broker as broken).

import { Socket } from 'node:net'

export interface ProbeBroker {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

export interface ProbeResult {
  readonly brokers: readonly ProbeBroker[]
  readonly clusterId: string | null
  readonly controllerId: number
}

const API_KEY_METADATA = 3
// Kafka 4.0 removed Metadata v0-v3 (KIP-896); v4 is the oldest version every 4.x broker still accepts,
// and it is the newest one that is not yet "flexible" (no tagged fields), so it stays trivial to encode.
// Brokers before 0.11 know only v0-v2: for them (hand tests of old versions), v1.
export type ProbeVersion = 1 | 4
const CLIENT_ID = 'reliable-kafka-probe'

/** A whole Metadata request frame (size prefix included) asking for no topics. */
export function encodeMetadataRequest(correlationId: number, version: ProbeVersion): Buffer {
  const clientId = Buffer.from(CLIENT_ID, 'utf8')
  // header v1: api_key, api_version, correlation_id, client_id; body: topics (empty array = no topic
  // metadata, which keeps the answer small), and from v4 allow_auto_topic_creation = false.
  const bodyLen = 2 + 2 + 4 + 2 + clientId.length + 4 + (version >= 4 ? 1 : 0)
  const buf = Buffer.alloc(4 + bodyLen)
  let o = buf.writeInt32BE(bodyLen, 0)
  o = buf.writeInt16BE(API_KEY_METADATA, o)
  o = buf.writeInt16BE(version, o)
  o = buf.writeInt32BE(correlationId, o)
  o = buf.writeInt16BE(clientId.length, o)
  o += clientId.copy(buf, o)
  o = buf.writeInt32BE(0, o)
  if (version >= 4) buf.writeInt8(0, o)
  return buf
}

/** Decodes a Metadata v4 response body (without the 4-byte size prefix). Exported for unit tests. */
export function decodeMetadataV4(body: Buffer, expectedCorrelationId: number): ProbeResult {
  return decodeMetadata(body, expectedCorrelationId, 4)
}

/**
 * Decodes a Metadata v1 or v4 response body (without the 4-byte size prefix): v4 adds throttle_time_ms
 * before the brokers and cluster_id after them (v1 has none: null).
 */
export function decodeMetadata(
  body: Buffer,
  expectedCorrelationId: number,
  version: ProbeVersion,
): ProbeResult {
  let o = 0
  const int32 = (): number => {
    const v = body.readInt32BE(o)
    o += 4
    return v
  }
  const nullableString = (): string | null => {
    const len = body.readInt16BE(o)
    o += 2
    if (len < 0) return null
    const s = body.toString('utf8', o, o + len)
    o += len
    return s
  }
  const correlationId = int32()
  if (correlationId !== expectedCorrelationId) {
    throw new Error(`probe: correlation id ${correlationId}, expected ${expectedCorrelationId}`)
  }
  if (version >= 4) int32() // throttle_time_ms
  const count = int32()
  if (count < 0 || count > 10_000) throw new Error(`probe: implausible broker count ${count}`)
  const brokers: ProbeBroker[] = []
  for (let i = 0; i < count; i++) {
    const nodeId = int32()
    const host = nullableString() ?? ''
    const port = int32()
    nullableString() // rack
    brokers.push({ nodeId, host, port })
  }
  const clusterId = version >= 4 ? nullableString() : null
  const controllerId = int32()
  return { brokers, clusterId, controllerId }
}

/**
 * Sends one Metadata request (v4; v1 for brokers before 0.11) to host:port and resolves with the brokers
 * the node reports. Rejects on connection errors, a closed connection or after `timeoutMs`.
 */
export function probeMetadata(
  host: string,
  port: number,
  timeoutMs = 2000,
  version: ProbeVersion = 4,
): Promise<ProbeResult> {
  const correlationId = 1 + Math.floor(Math.random() * 0x7ffffffe)
  return new Promise<ProbeResult>((resolve, reject) => {
    const socket = new Socket()
    let received = Buffer.alloc(0)
    let settled = false
    const finish = (err: Error | null, result?: ProbeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else if (result) resolve(result)
    }
    const timer = setTimeout(
      () => finish(new Error(`probe: no Metadata answer from ${host}:${port} in ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.on('error', (err) => finish(err))
    socket.on('close', () => finish(new Error(`probe: ${host}:${port} closed the connection`)))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4) return
      const size = received.readInt32BE(0)
      if (received.length < 4 + size) return
      try {
        finish(null, decodeMetadata(received.subarray(4, 4 + size), correlationId, version))
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)))
      }
    })
    socket.connect({ host, port }, () => socket.write(encodeMetadataRequest(correlationId, version)))
  })
}
