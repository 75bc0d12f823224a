import type { Metadata, TopicInfo } from '../cluster/metadata.js'
import { KafkaError } from '../errors/index.js'
import { BATCH_HEADER_SIZE, RecordBatchBuilder } from '../protocol/index.js'
import type { NormalizedRecord } from './normalize.js'
import { checkPartition, type Partitioner } from './partitioner.js'

/**
 * Where a record goes and what it weighs: its size as encoded in a batch (what it counts against
 * buffer.memory, refused when it could never fit in a request), and its partition (the explicit
 * one, else the partitioner's choice), checked against the topic's partition count so that a bad
 * partition fails that record alone.
 */
export class RecordPlacement {
  constructor(
    private readonly metadata: Pick<Metadata, 'topic'>,
    private readonly partitioner: Partitioner,
    private readonly maxRecordBytes: number,
  ) {}

  /** The bytes a record may take in its batch; rejects what could never fit in a request. */
  size(r: NormalizedRecord): number {
    const bytes = RecordBatchBuilder.recordSizeBound(r.keyLength, r.valueLength, r.headers)
    if (bytes + BATCH_HEADER_SIZE > this.maxRecordBytes) {
      throw new KafkaError(
        'MESSAGE_TOO_LARGE',
        `record of ${bytes + BATCH_HEADER_SIZE} bytes (batched) exceeds message.max.bytes=${this.maxRecordBytes}`,
        { kafkaCode: 10, retriable: false },
      )
    }
    return bytes
  }

  /** The partition when the topic's metadata is at hand (so a bad one throws at the call), else -1. */
  partitionIfKnown(r: NormalizedRecord, bytes: number): number {
    const info = this.metadata.topic(r.topic)
    return info ? this.partitionIn(r, bytes, info) : -1
  }

  /** The record's partition in `info`: explicit, or the partitioner's; checked. */
  partitionIn(r: NormalizedRecord, bytes: number, info: TopicInfo): number {
    const n = info.partitions.length
    if (r.partition >= 0) return checkPartition(r.partition, n, r.topic)
    return checkPartition(this.partitioner.partition(r.topic, r.key, bytes, n, info.available), n, r.topic)
  }
}
