import type { Metadata } from '../cluster/metadata.js'
import { KafkaError } from '../errors/index.js'
import type { Clock } from '../util/clock.js'
import { ClusterWaits, type ClusterWaitOptions } from './cluster-wait.js'
import { validateTopic } from './normalize.js'
import type { ConnectOptions, PartitionMetadata, PartitionsForOptions } from './options.js'

/**
 * A call's `timeoutMs`: `fallback` when not given, else a finite number >= 0 (`_INVALID_ARG`
 * otherwise). Shared by the readiness and the transactional calls.
 */
export function callTimeout(timeoutMs: number | undefined, fallback: number): number {
  if (timeoutMs === undefined) return fallback
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new KafkaError('_INVALID_ARG', `timeoutMs must be a finite number >= 0, not ${String(timeoutMs)}`)
  }
  return timeoutMs
}

export interface ReadinessOptions extends Omit<ClusterWaitOptions, 'clock' | 'metadata'> {
  clock: Clock
  metadata: ClusterWaitOptions['metadata'] & Pick<Metadata, 'refreshed'>
  /** The calls' default bound (request.timeout.ms). */
  requestTimeoutMs: number
  /** Whether connect() waits for the producer id: idempotent and not transactional (initTransactions() gets it). */
  connectWaitsForProducerId: boolean
}

/**
 * connect() and partitionsFor() (docs/producer.md, Readiness): what they wait for and how long; the
 * waiting itself is ClusterWaits', made on first use so that a producer that never calls them pays
 * nothing. The producer tells it when the cluster changed (check) and when to give up (failAll).
 */
export class ReadinessCalls {
  private waits: ClusterWaits | null = null

  constructor(private readonly opts: ReadinessOptions) {}

  /** The wait itself, not wrapped in another promise: a ready producer resolves connect() at once. */
  connect(options: ConnectOptions): Promise<unknown> {
    const topics = (options.topics ?? []).map(validateTopic)
    return this.cluster().wait({
      call: 'connect()',
      topics,
      producerId: this.opts.connectWaitsForProducerId,
      timeoutMs: callTimeout(options.timeoutMs, this.opts.requestTimeoutMs),
    })
  }

  async partitionsFor(topic: string, options: PartitionsForOptions): Promise<PartitionMetadata[]> {
    const name = validateTopic(topic)
    const [info] = await this.cluster().wait({
      call: 'partitionsFor()',
      topics: [name],
      producerId: false,
      timeoutMs: callTimeout(options.timeoutMs, this.opts.requestTimeoutMs),
    })
    return info!.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      available: p.leader >= 0,
    }))
  }

  /** The cluster or the producer id changed: waiting calls that are satisfied resolve. */
  check(): void {
    this.waits?.check()
  }

  /** Rejects every waiting call with `err` (close, an authentication failure before any metadata). */
  failAll(err: KafkaError): void {
    this.waits?.failAll(err)
  }

  private cluster(): ClusterWaits {
    return (this.waits ??= new ClusterWaits(this.opts))
  }
}
