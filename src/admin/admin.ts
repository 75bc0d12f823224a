import { parseHostPort } from '../cluster/address.js'
import { ConnectionPool } from '../cluster/connection-pool.js'
import { connectionSecurity, resolveProducerConfig, type ProducerConfig } from '../config/index.js'
import { Metadata } from '../cluster/metadata.js'
import type { Connection } from '../network/connection.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import { CreateTopicsApi, DeleteTopicsApi, ListOffsetsApi } from '../protocol/index.js'
import { systemClock, type Clock } from '../util/clock.js'
import { systemRandom } from '../util/random.js'

export interface AdminOptions {
  /** Comma-separated host:port list, as for the producer. */
  bootstrapServers: string
  clientId?: string
  requestTimeoutMs?: number
  clock?: Clock
  /**
   * How to reach a secured cluster: the producer's keys for it (`security.protocol`, `ssl.*`,
   * `sasl.*`, `oauth_cb`, `tls`), as in the producer's configuration. Default: plaintext.
   */
  security?: Omit<ProducerConfig, 'bootstrap.servers' | 'metadata.broker.list'>
}

export interface NewTopic {
  name: string
  numPartitions?: number
  replicationFactor?: number
  /** Topic configs such as `{ 'min.insync.replicas': '2' }`. */
  configs?: Record<string, string>
}

/**
 * A small admin client: create and delete topics, wait until a topic is usable. Enough for
 * tests, examples and `npm start`; a full admin API is out of scope for a producer library.
 */
export class Admin {
  private readonly pool: ConnectionPool
  private readonly metadata: Metadata
  private readonly clock: Clock
  private readonly requestTimeoutMs: number

  constructor(opts: AdminOptions) {
    this.clock = opts.clock ?? systemClock
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000
    // The producer's own validation: default port 9092, PLAINTEXT:// prefixes, IPv6 brackets; and
    // the producer's TLS and SASL from the same keys.
    const config = resolveProducerConfig({ ...opts.security, 'bootstrap.servers': opts.bootstrapServers })
    const security = connectionSecurity(config, this.clock)
    this.pool = new ConnectionPool({
      clientId: opts.clientId ?? 'reliable-kafka-admin',
      requestTimeoutMs: this.requestTimeoutMs,
      connectTimeoutMs: 10_000,
      reconnectBackoffMs: 50,
      reconnectBackoffMaxMs: 1000,
      clock: this.clock,
      random: systemRandom,
      ...(security.transport ? { transport: security.transport } : {}),
      ...(security.authenticate ? { authenticate: security.authenticate } : {}),
    })
    this.metadata = new Metadata(
      {
        bootstrap: config.bootstrapServers.map(parseHostPort),
        metadataMaxAgeMs: 300_000,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 1000,
        allowAutoTopicCreation: false,
        clock: this.clock,
        random: systemRandom,
        onUpdate: () => {},
      },
      this.pool,
    )
  }

  /** Any connected broker: in KRaft mode brokers forward admin requests to the controller. */
  private async anyBroker(deadline: number): Promise<Connection> {
    let lastErr: unknown = null
    while (this.clock.now() < deadline) {
      await this.metadata.refresh()
      for (const b of this.metadata.brokers.values()) {
        try {
          return await this.pool.get(b)
        } catch (err) {
          lastErr = err
        }
      }
      await sleep(100)
    }
    throw new KafkaError(
      '_TIMED_OUT',
      `no broker reachable for an admin request${lastErr ? `: ${String(lastErr)}` : ''}`,
    )
  }

  /**
   * Creates topics and waits until every partition has a leader. `ifNotExists` (default true)
   * treats TOPIC_ALREADY_EXISTS as success.
   */
  async createTopics(
    topics: NewTopic[],
    opts: { timeoutMs?: number; ifNotExists?: boolean } = {},
  ): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000
    const deadline = this.clock.now() + timeoutMs
    const conn = await this.anyBroker(deadline)
    const res = await conn.request(CreateTopicsApi, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs,
      validateOnly: false,
    })
    for (const t of res.topics) {
      if (t.errorCode === 0 || (t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && opts.ifNotExists !== false))
        continue
      throw KafkaError.fromKafkaCode(t.errorCode, `create topic ${t.name}: ${t.errorMessage ?? ''}`)
    }
    await this.waitForTopics(
      topics.map((t) => t.name),
      deadline,
    )
  }

  /**
   * Waits until each topic is in the metadata with a leader for every partition, and each leader
   * actually serves its partitions. The second step matters: metadata names a leader a moment
   * before that broker has created the partition, and a Produce in that moment fails; with acks=0
   * the broker can only answer by closing the connection, and the records are silently lost.
   */
  async waitForTopics(names: string[], deadline: number): Promise<void> {
    for (const n of names) this.metadata.addTopic(n)
    for (;;) {
      await this.metadata.refresh()
      const ready = names.every((n) => {
        const t = this.metadata.topic(n)
        return t && t.partitions.length > 0 && t.available.length === t.partitions.length
      })
      if (ready && (await this.leadersServe(names))) return
      if (this.clock.now() >= deadline) {
        throw new KafkaError('_TIMED_OUT', `topics not ready in time: ${names.join(', ')}`)
      }
      await sleep(100)
    }
  }

  /** Asks each leader for the end offsets of its partitions: true when every one answers without error. */
  private async leadersServe(names: string[]): Promise<boolean> {
    const byLeader = new Map<number, Map<string, number[]>>()
    for (const n of names) {
      for (const p of this.metadata.topic(n)!.partitions) {
        let topics = byLeader.get(p.leader)
        if (!topics) byLeader.set(p.leader, (topics = new Map()))
        let parts = topics.get(n)
        if (!parts) topics.set(n, (parts = []))
        parts.push(p.partition)
      }
    }
    for (const [leader, topics] of byLeader) {
      const broker = this.metadata.broker(leader)
      if (!broker) return false
      try {
        const conn = await this.pool.get(broker)
        const res = await conn.request(ListOffsetsApi, {
          replicaId: -1,
          isolationLevel: 0,
          timeoutMs: this.requestTimeoutMs,
          topics: [...topics].map(([name, partitions]) => ({
            name,
            partitions: partitions.map((partitionIndex) => ({
              partitionIndex,
              currentLeaderEpoch: -1,
              timestamp: -1n, // latest
              maxNumOffsets: 1,
            })),
          })),
        })
        if (res.topics.some((t) => t.partitions.some((p) => p.errorCode !== 0))) return false
      } catch {
        return false
      }
    }
    return true
  }

  /** Partition count and leaders of a topic, or undefined when it does not exist. */
  async describeTopic(
    name: string,
  ): Promise<{ partitions: { partition: number; leader: number }[] } | undefined> {
    this.metadata.addTopic(name)
    await this.metadata.refresh()
    const t = this.metadata.topic(name)
    return t
      ? { partitions: t.partitions.map((p) => ({ partition: p.partition, leader: p.leader })) }
      : undefined
  }

  async deleteTopics(names: string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000
    const conn = await this.anyBroker(this.clock.now() + timeoutMs)
    const res = await conn.request(DeleteTopicsApi, {
      topicNames: names,
      topics: names.map((name) => ({ name, topicId: Buffer.alloc(16) })),
      timeoutMs,
    })
    for (const t of res.responses) {
      if (t.errorCode === 0 || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) continue
      throw KafkaError.fromKafkaCode(t.errorCode, `delete topic ${t.name ?? ''}: ${t.errorMessage ?? ''}`)
    }
  }

  async close(): Promise<void> {
    this.metadata.close()
    this.pool.close()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
