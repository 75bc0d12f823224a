// The protocol layer's public surface for the network, cluster and producer layers.
export type { AnyApiDefinition, ApiDefinition, RequestOf, ResponseOf } from './api.js'
export { crc32c } from './crc32c.js'
// Kept for imports written before the errors moved to src/errors/; new code imports them from there.
export { KafkaError, allErrorInfos, errorInfo } from '../errors/index.js'
export type { ErrorInfo, KafkaErrorOptions } from '../errors/index.js'
export {
  decodeRequestFrame,
  decodeRequestHeader,
  decodeResponseFrame,
  decodeResponseHeader,
  encodeRequestFrame,
  encodeResponseFrame,
  isFlexible,
  readCorrelationId,
  responseHeaderVersion,
} from './header.js'
export type { DecodedRequest, RequestHeader } from './header.js'
export * from './messages/index.js'
export { Reader } from './reader.js'
export { BATCH_HEADER_SIZE, RecordBatchBuilder, decodeRecordBatches } from './record-batch.js'
export { BatchBufferPool, POOLED_BUFFER_MIN_BYTES } from './batch-buffer-pool.js'
export type { BuildOptions, DecodedBatch, DecodedRecord, RecordHeader } from './record-batch.js'
export { byteLengthOf, toBuffer, utf8Scratch, writeRecordBytes, type RecordBytes } from './record-bytes.js'
export { negotiateVersion } from './versions.js'
export type { NegotiableApi, VersionRange } from './versions.js'
export { REF_THRESHOLD, Writer, sizeOfUvarint, sizeOfVarint, sizeOfVarlong } from './writer.js'
