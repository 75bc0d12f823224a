import { parseHostPort } from '../cluster/address.js'
import { ConnectionPool, type BrokerAddress, type ConnectionFactory } from '../cluster/connection-pool.js'
import { Metadata } from '../cluster/metadata.js'
import { getCodec } from '../compression/index.js'
import { BatchBufferPool } from '../protocol/index.js'
import { connectionSecurity, type ResolvedProducerConfig } from '../config/index.js'
import type { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'
import type { TransportFactory } from '../network/transport.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import { Accumulator } from './accumulator.js'
import { IdempotenceState } from './idempotence.js'
import { Sender, asyncCompressionMinBytes, type BatchDone } from './sender.js'
import { TransactionalGate } from './transactional-gate.js'
import { TransactionManager, type TransactionState } from '../transactions/index.js'

/**
 * Small factories, one per part of a producer, so that the Producer's constructor reads as a list
 * of parts and each part's configuration is in one place. They map resolved configuration keys to
 * the options each part takes; nothing else.
 */

/**
 * Seams for deterministic tests and for transports such as a fault proxy; not needed in production.
 * Internal: not exported from the package (src/index.ts), so it may change in any release; the
 * Producer constructor still takes it as its optional second argument, for the tests.
 */
export interface ProducerDependencies {
  clock?: Clock
  random?: RandomSource
  transport?: TransportFactory
  connectionFactory?: ConnectionFactory
  /** A hub of one's own for the producer's events (default: the producer makes one). */
  instrumentation?: Instrumentation
  /**
   * The machine's cores (default os.availableParallelism()): with two or fewer, small lz4 batches
   * are compressed inline rather than on the thread pool (compressor.ts).
   */
  cores?: number
}

/** What the parts tell the producer. */
export interface ProducerHooks {
  /** A connection was lost: the sender should look at its batches again. */
  onDisconnect: () => void
  /** SASL or TLS refused a connection (see ConnectionPoolOptions.onAuthenticationFailure). */
  onAuthenticationFailure: (broker: BrokerAddress, err: KafkaError, first: boolean) => void
  /** Metadata changed: leaders to re-check, records waiting for their topic to move on. */
  onMetadata: () => void
  /** An error no single record owns (error_cb). */
  onError: (err: KafkaError) => void
  /** The producer can no longer continue. */
  onFatal: (err: KafkaError) => void
  /** A batch has its outcome: its records get their reports. */
  onBatchDone: BatchDone
  /** The idempotent producer's id changed state (got one, lost it, fatal). */
  onProducerIdChange?: () => void
}

export function createPool(
  c: ResolvedProducerConfig,
  clock: Clock,
  random: RandomSource,
  deps: ProducerDependencies,
  events: Instrumentation,
  hooks: Pick<ProducerHooks, 'onDisconnect' | 'onAuthenticationFailure'>,
): ConnectionPool {
  // Reads the TLS files and checks the SASL settings now: a mistake fails the constructor.
  const security = connectionSecurity(c, clock)
  const transport = deps.transport ?? security.transport
  return new ConnectionPool(
    {
      clientId: c.clientId,
      requestTimeoutMs: c.requestTimeoutMs,
      connectTimeoutMs: c.socketConnectionSetupTimeoutMs,
      reconnectBackoffMs: c.reconnectBackoffMs,
      reconnectBackoffMaxMs: c.reconnectBackoffMaxMs,
      clock,
      random,
      ...(transport ? { transport } : {}),
      ...(security.authenticate ? { authenticate: security.authenticate } : {}),
      instrumentation: events,
      onDisconnect: hooks.onDisconnect,
      onAuthenticationFailure: hooks.onAuthenticationFailure,
    },
    deps.connectionFactory,
  )
}

export function createMetadata(
  c: ResolvedProducerConfig,
  clock: Clock,
  random: RandomSource,
  pool: ConnectionPool,
  hooks: Pick<ProducerHooks, 'onMetadata' | 'onError'> & { events?: Instrumentation },
): Metadata {
  const events = hooks.events
  return new Metadata(
    {
      bootstrap: c.bootstrapServers.map(parseHostPort),
      metadataMaxAgeMs: c.metadataMaxAgeMs,
      retryBackoffMs: c.retryBackoffMs,
      retryBackoffMaxMs: c.retryBackoffMaxMs,
      allowAutoTopicCreation: c.allowAutoCreateTopics,
      clock,
      random,
      onUpdate: hooks.onMetadata,
      onError: hooks.onError,
      ...(events ? { instrumentation: events } : {}),
    },
    pool,
  )
}

/** `buffered`: the bytes the producer holds for records now (BufferLimits), for the buffer pool's bound. */
export function createAccumulator(
  c: ResolvedProducerConfig,
  clock: Clock,
  buffered: () => number,
): Accumulator {
  return new Accumulator({
    batchSize: c.batchSize,
    batchNumMessages: c.batchNumMessages,
    lingerMs: c.lingerMs,
    deliveryTimeoutMs: c.deliveryTimeoutMs,
    clock,
    compressed: c.compressionType !== 'none',
    maxBatchBytes: c.messageMaxBytes,
    // Idle large buffers and the records buffered share buffer.memory, as in Java. A new pooled buffer
    // is up to 64 KiB larger than its batch needs (an eighth of the smallest pooled size), which
    // buffer.memory does not count: without that eighth, a full buffer dropped a delivered batch's
    // buffer, and the next batch missed the pool, for one batch in ten in W7.
    bufferPool: new BatchBufferPool(Math.floor(c.bufferMemory * 1.125), buffered),
  })
}

/** The sender with its codec and, when enable.idempotence is on, the producer's sequence state. */
export function createSender(
  c: ResolvedProducerConfig,
  clock: Clock,
  random: RandomSource,
  cores: number,
  parts: { accumulator: Accumulator; metadata: Metadata; pool: ConnectionPool },
  idempotence: IdempotenceState | null,
  events: Instrumentation,
  hooks: Pick<ProducerHooks, 'onFatal' | 'onBatchDone' | 'onProducerIdChange'>,
  transaction: TransactionalGate | null = null,
): Sender {
  return new Sender(
    {
      acks: c.acks,
      requestTimeoutMs: c.requestTimeoutMs,
      retries: c.retries,
      retryBackoffMs: c.retryBackoffMs,
      retryBackoffMaxMs: c.retryBackoffMaxMs,
      maxInFlight: c.maxInFlight,
      maxRequestBytes: c.messageMaxBytes,
      codec: getCodec(c.compressionType, c.compressionLevel),
      asyncCompressionMinBytes: asyncCompressionMinBytes(c.compressionType, cores),
      clock,
      random,
      idempotence,
      transactionTimeoutMs: c.transactionTimeoutMs,
      onFatal: hooks.onFatal,
      instrumentation: events,
      onProducerIdChange: (state) => {
        if (events.has('producer.id')) {
          const id = idempotence?.producerId ?? null
          events.emit('producer.id', {
            clientId: c.clientId,
            state,
            producerId: id?.producerId ?? null,
            epoch: id?.epoch ?? null,
          })
        }
        hooks.onProducerIdChange?.()
      },
      transaction,
    },
    parts.accumulator,
    parts.metadata,
    parts.pool,
    hooks.onBatchDone,
  )
}

export function createIdempotence(c: ResolvedProducerConfig): IdempotenceState | null {
  return c.enableIdempotence ? new IdempotenceState() : null
}

/**
 * The transaction manager of a producer with transactional.id (null without), and the gate the
 * sender consults. The manager owns the producer id: it stamps it into `idempotence`.
 */
export function createTransactions(
  c: ResolvedProducerConfig,
  clock: Clock,
  random: RandomSource,
  parts: { metadata: Metadata; pool: ConnectionPool },
  idempotence: IdempotenceState | null,
  hooks: { wakeup: () => void; onFatal: (err: KafkaError) => void; events?: Instrumentation },
): { manager: TransactionManager; gate: TransactionalGate } | null {
  if (c.transactionalId === null || idempotence === null) return null
  const transactionalId = c.transactionalId
  const events = hooks.events
  const manager = new TransactionManager({
    transactionalId: c.transactionalId,
    transactionTimeoutMs: c.transactionTimeoutMs,
    pool: parts.pool,
    metadata: parts.metadata,
    clock,
    random,
    retryBackoffMs: c.retryBackoffMs,
    retryBackoffMaxMs: c.retryBackoffMaxMs,
    setProducerId: (id) => {
      idempotence.setProducerId(id)
      if (events?.has('producer.id')) {
        events.emit('producer.id', {
          clientId: c.clientId,
          state: 'assigned',
          producerId: id.producerId,
          epoch: id.epoch,
        })
      }
    },
    ...(events
      ? {
          onStateChange: (state: TransactionState) => {
            if (events.has('transaction.state'))
              events.emit('transaction.state', { clientId: c.clientId, transactionalId, state })
          },
        }
      : {}),
    producerId: () => idempotence.producerId,
    needsEpochBump: () => idempotence.needsBump,
    wakeup: hooks.wakeup,
    onFatal: hooks.onFatal,
  })
  return { manager, gate: new TransactionalGate(manager, idempotence, c.transactionalId) }
}
