// The instrumentation seam: a small typed event hub that the network, the connection pool and the
// producer emit into, and that statistics and metrics subscribe to. It costs nothing while no one
// listens: every emit site asks `has(name)` (one property read) before it computes a payload.
//
//   if (events?.has('request.answered')) events.emit('request.answered', { ... })
//
// Listeners run synchronously at the emit site, in the middle of the connection's or the producer's
// work: keep them short (count, add to a histogram) and do not call back into the producer from them.
// A listener that throws does not disturb the code that emitted: the error is caught, passed to
// `onListenerError` if one was given, and otherwise ignored; the other listeners still run.
import { KafkaError } from '../errors/index.js'

// Records. The producer emits these (src/producer/); every accepted record ends with exactly one
// record.delivered or record.failed, the same as its delivery report.

/** `record.accepted`: produce() or send() accepted a record (it counts against buffer.memory now). */
export interface RecordAcceptedEvent {
  readonly topic: string
  /** The partition chosen, or -1 when it is not chosen yet (the topic's metadata is not known). */
  readonly partition: number
  /** The record's size as encoded in its batch: what it counts against buffer.memory. */
  readonly bytes: number
}

/** `record.delivered`: the record's delivery report says success. */
export interface RecordDeliveredEvent {
  readonly topic: string
  readonly partition: number
  /** As in the delivery report: -1 with acks=0 or for a batch the broker acknowledged as a duplicate. */
  readonly offset: number
  /** From acceptance to the delivery report, by the producer's clock; absent when not measured. */
  readonly latencyMs?: number
}

/** `record.failed`: the record's delivery report carries an error. */
export interface RecordFailedEvent {
  readonly topic: string
  /** -1 when the record failed before a partition was chosen. */
  readonly partition: number
  readonly error: KafkaError
}

// Batches. The producer emits these; a batch is the unit of a Produce request's partition data.

/** `batch.built`: a batch's wire bytes were built (once per batch: a retry resends the same bytes). */
export interface BatchBuiltEvent {
  readonly topic: string
  readonly partition: number
  /** Records in the batch. */
  readonly records: number
  /** Size of the records before compression. */
  readonly bytes: number
  /** Size of the RecordBatch as sent: header included, compressed. */
  readonly wireBytes: number
  /** Sum of the records' key and value lengths (librdkafka's txbytes); absent when not measured. */
  readonly keyValueBytes?: number
  /** The codec's name as in compression.type: 'none', 'gzip', 'snappy', 'lz4' or 'zstd'. */
  readonly codec: string
  /** From the batch's creation to its build, when it is drained for its first send (Java's queueTimeMs). */
  readonly queueTimeMs?: number
  /** The largest record's size in the batch, as counted against buffer.memory (Java's maxRecordSize). */
  readonly maxRecordBytes?: number
}

/** `batch.sent`: a batch went out in a Produce request (handed to the connection). */
export interface BatchSentEvent {
  readonly nodeId: number
  readonly topic: string
  readonly partition: number
  readonly records: number
  readonly wireBytes: number
  /** 1 for the first send, 2 for the first retry, ... */
  readonly attempt: number
}

/** `batch.answered`: the broker's Produce answer for the batch's partition arrived. */
export interface BatchAnsweredEvent {
  readonly nodeId: number
  readonly topic: string
  readonly partition: number
  readonly records: number
  /** The partition's error code in the answer: 0 for success. */
  readonly errorCode: number
  /** From sending the Produce request to its answer. */
  readonly latencyMs: number
}

/** `batch.retried`: a send of the batch failed and the batch goes back to be sent again. */
export interface BatchRetriedEvent {
  readonly topic: string
  readonly partition: number
  readonly records: number
  /** Why the attempt failed (a broker error, a lost connection, a timeout). */
  readonly error: KafkaError
  /** The attempt that failed, as in its `batch.sent`: the retry will be `attempt + 1`. */
  readonly attempt: number
}

// Requests. Emitted by network/connection.ts for every request on a connection, the ApiVersions
// handshake and the authentication step included. A request that expects an answer ends with exactly
// one request.answered or request.failed after its request.sent; a request without an answer (Produce
// with acks=0) emits request.failed only if the connection is lost before it is written.

/** `request.sent`: a request frame was written to the connection's socket. */
export interface RequestSentEvent {
  /** The broker's node id; negative for a bootstrap address whose id is not known yet. */
  readonly nodeId: number
  readonly apiKey: number
  readonly apiName: string
  readonly apiVersion: number
  /** Size of the request frame, its 4-byte size prefix included. */
  readonly bytes: number
  readonly correlationId: number
}

/** `request.answered`: the answer to a request arrived and was decoded. */
export interface RequestAnsweredEvent {
  readonly nodeId: number
  readonly apiKey: number
  readonly apiName: string
  readonly correlationId: number
  /** Size of the response frame, its 4-byte size prefix included. */
  readonly bytes: number
  /**
   * From writing the request to reading its answer, by the connection's clock. Measured only for
   * requests sent while someone listened to this event: a request already in flight when the first
   * listener subscribes emits no request.answered.
   */
  readonly rttMs: number
  /** How long the broker asks the client to wait because of a quota (KIP-219), when the answer says. */
  readonly throttleTimeMs?: number
}

/** `request.failed`: a request sent will get no answer: it timed out or its connection was lost. */
export interface RequestFailedEvent {
  readonly nodeId: number
  readonly apiKey: number
  readonly apiName: string
  readonly correlationId: number
  readonly error: KafkaError
}

// Connections. Emitted by cluster/connection-pool.ts. A connection attempt ends with exactly one
// connection.opened or connection.failed; every connection.opened is followed by one connection.closed.

/** `connection.opened`: a connection is ready: TCP connected, ApiVersions and authentication done. */
export interface ConnectionOpenedEvent {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  /** From starting the attempt to the connection being ready. */
  readonly setupMs: number
}

/** `connection.closed`: an opened connection closed. */
export interface ConnectionClosedEvent {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  /**
   * The error that closed it (from the broker, the network, a request timeout; `_DESTROY` when the
   * producer closed), or null when the pool dropped it on purpose (the broker moved to a new address).
   */
  readonly error: KafkaError | null
}

/** `connection.failed`: a connection attempt failed (refused, setup timeout, handshake, authentication). */
export interface ConnectionFailedEvent {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  readonly error: KafkaError
}

// The producer's lifecycle. Emitted by producer/producer.ts, each at most once per producer; the
// payloads name the producer by its client.id, as a hub may be shared.

/** `producer.connected`: the cluster answered the producer's first Metadata request (bootstrap is done). */
export interface ProducerConnectedEvent {
  readonly clientId: string
  /** How many brokers the answer named. */
  readonly brokers: number
}

/** `producer.fatal`: an error the producer cannot recover from stopped it (the one `producer.fatal` holds). */
export interface ProducerFatalEvent {
  readonly clientId: string
  readonly error: KafkaError
}

/** `producer.closed`: close() is done: every accepted record has its report, the connections are closed. */
export interface ProducerClosedEvent {
  readonly clientId: string
  /** Records close() failed with `_DESTROY` because they were still undelivered when its flush ended. */
  readonly failed: number
}

// The cluster and the producer id. Emitted so that debug logging (the `metadata`, `topic` and `eos`
// contexts, src/observability/logging/) has something to subscribe to; each at the one place its
// state changes, and only when someone listens.

/** A broker as a Metadata answer names it. */
export interface MetadataBroker {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

/** A topic as a Metadata answer left it. */
export interface MetadataTopic {
  readonly topic: string
  /** Partitions known (0 for a topic the answer refused). */
  readonly partitions: number
  /** Partitions with a reachable leader. */
  readonly available: number
  /** The topic's error in the answer (e.g. `UNKNOWN_TOPIC_OR_PARTITION`), or null. */
  readonly error: string | null
}

/** `metadata.updated`: a Metadata answer was applied (cluster/metadata.ts). */
export interface MetadataUpdatedEvent {
  /** The broker that answered. */
  readonly nodeId: number
  /** The brokers the cluster knows now. */
  readonly brokers: readonly MetadataBroker[]
  /** The topics the answer was about. */
  readonly topics: readonly MetadataTopic[]
}

/** `producer.id`: the idempotent producer's id changed state: obtained, epoch bumped, lost, fatal. */
export interface ProducerIdEvent {
  readonly clientId: string
  /** 'ready', 'bumpPending', 'uninitialized', 'fatal', ... (producer-id-manager.ts), or 'assigned'. */
  readonly state: string
  /** The producer id now held (KIP-98), or null when none. */
  readonly producerId: bigint | null
  /** Its epoch (bumped after a broken sequence, KIP-360), or null. */
  readonly epoch: number | null
}

/** `transaction.state`: the transactional producer moved to a new state (docs/transactions.md). */
export interface TransactionStateEvent {
  readonly clientId: string
  readonly transactionalId: string
  /** The new state, as `producer.transactionState` reads. */
  readonly state: string
}

/** Every event of the producer and the payload it carries. */
export interface ProducerEvents {
  'record.accepted': RecordAcceptedEvent
  'record.delivered': RecordDeliveredEvent
  'record.failed': RecordFailedEvent
  'batch.built': BatchBuiltEvent
  'batch.sent': BatchSentEvent
  'batch.answered': BatchAnsweredEvent
  'batch.retried': BatchRetriedEvent
  'request.sent': RequestSentEvent
  'request.answered': RequestAnsweredEvent
  'request.failed': RequestFailedEvent
  'connection.opened': ConnectionOpenedEvent
  'connection.closed': ConnectionClosedEvent
  'connection.failed': ConnectionFailedEvent
  'producer.connected': ProducerConnectedEvent
  'producer.fatal': ProducerFatalEvent
  'producer.closed': ProducerClosedEvent
  'metadata.updated': MetadataUpdatedEvent
  'producer.id': ProducerIdEvent
  'transaction.state': TransactionStateEvent
}

export type ProducerEventName = keyof ProducerEvents

export type ProducerEventListener<K extends ProducerEventName> = (payload: ProducerEvents[K]) => void

/** Every event name, in the order of {@link ProducerEvents}. */
export const PRODUCER_EVENT_NAMES: readonly ProducerEventName[] = Object.keys({
  'record.accepted': true,
  'record.delivered': true,
  'record.failed': true,
  'batch.built': true,
  'batch.sent': true,
  'batch.answered': true,
  'batch.retried': true,
  'request.sent': true,
  'request.answered': true,
  'request.failed': true,
  'connection.opened': true,
  'connection.closed': true,
  'connection.failed': true,
  'producer.connected': true,
  'producer.fatal': true,
  'producer.closed': true,
  'metadata.updated': true,
  'producer.id': true,
  'transaction.state': true,
} satisfies Record<ProducerEventName, true>) as ProducerEventName[]

const KNOWN: ReadonlySet<string> = new Set(PRODUCER_EVENT_NAMES)

function checkKnown(name: string): void {
  if (!KNOWN.has(name)) {
    throw new KafkaError('_INVALID_ARG', `unknown instrumentation event '${String(name)}'`)
  }
}

export interface InstrumentationOptions {
  /**
   * Hears what a listener threw, with the event it was listening to: a KafkaError as it is, anything
   * else as `_APPLICATION` with the exception as `cause`. Without it the exception is ignored. What
   * this function throws is ignored too.
   */
  onListenerError?: (err: KafkaError, event: ProducerEventName) => void
}

type Listeners = { [K in ProducerEventName]: readonly ProducerEventListener<K>[] | undefined }

/**
 * Whether anyone listens to one event, as a field that stays current: what an emit site that runs
 * once per record reads instead of {@link Instrumentation.has} (see {@link Instrumentation.gate}).
 */
export interface EventGate {
  readonly open: boolean
}

/** One class for every gate, so that reading `open` is the same monomorphic load at every site. */
class Gate implements EventGate {
  open = false
}

/**
 * The event hub. One per producer (or per admin client); the same hub may be shared by several, and
 * the payloads say which broker (`nodeId`) an event is about, not which producer.
 */
export class Instrumentation {
  /** Per event: its listeners, or undefined when there are none (what `has` reads). Copied on change. */
  private readonly listeners: Listeners
  private readonly onListenerError: InstrumentationOptions['onListenerError']
  /** The gates handed out, kept current by on() and off(). */
  private readonly gates = new Map<ProducerEventName, Gate>()

  constructor(opts: InstrumentationOptions = {}) {
    this.onListenerError = opts.onListenerError
    // Every name present from the start, so the object keeps one shape and `has` stays a plain read.
    const listeners = {} as Record<string, undefined>
    for (const name of PRODUCER_EVENT_NAMES) listeners[name] = undefined
    this.listeners = listeners as unknown as Listeners
  }

  /** Whether anyone listens to `name`: emit sites ask before they build a payload. */
  has(name: ProducerEventName): boolean {
    return this.listeners[name] !== undefined
  }

  /**
   * `name`'s gate: open while `name` has a listener. `has(name)` reads a property named at run
   * time, which V8 cannot reduce to a fixed load when one `has` serves every event; at produce()'s
   * one call per record that check was 5-10 % of the call (issue 14). A gate is one field of a small
   * object that the emit site holds. Throws `_INVALID_ARG` for an unknown name.
   */
  gate(name: ProducerEventName): EventGate {
    checkKnown(name)
    let g = this.gates.get(name)
    if (g === undefined) {
      g = new Gate()
      g.open = this.listeners[name] !== undefined
      this.gates.set(name, g)
    }
    return g
  }

  /** Adds `listener` to `name` (twice if added twice). Throws `_INVALID_ARG` for an unknown name. */
  on<K extends ProducerEventName>(name: K, listener: ProducerEventListener<K>): this {
    checkKnown(name)
    if (typeof listener !== 'function') {
      throw new KafkaError('_INVALID_ARG', `the listener for '${name}' must be a function`)
    }
    const current = this.listeners[name] as readonly ProducerEventListener<K>[] | undefined
    ;(this.listeners as Record<string, unknown>)[name] = current ? [...current, listener] : [listener]
    const g = this.gates.get(name)
    if (g !== undefined) g.open = true
    return this
  }

  /** Removes `listener` from `name` (its last registration); nothing happens if it is not there. */
  off<K extends ProducerEventName>(name: K, listener: ProducerEventListener<K>): this {
    const current = this.listeners[name] as readonly ProducerEventListener<K>[] | undefined
    if (!current) return this
    const i = current.lastIndexOf(listener)
    if (i === -1) return this
    const next = current.filter((_, j) => j !== i)
    ;(this.listeners as Record<string, unknown>)[name] = next.length > 0 ? next : undefined
    const g = this.gates.get(name)
    if (g !== undefined) g.open = next.length > 0
    return this
  }

  /**
   * Calls every listener of `name` with `payload`, in the order they were added. Listeners added or
   * removed by a listener take effect from the next emit. A listener's exception is caught (see
   * {@link InstrumentationOptions.onListenerError}).
   */
  emit<K extends ProducerEventName>(name: K, payload: ProducerEvents[K]): void {
    const list = this.listeners[name] as readonly ProducerEventListener<K>[] | undefined
    if (list === undefined) return
    for (const listener of list) {
      try {
        listener(payload)
      } catch (err) {
        this.listenerFailed(name, err)
      }
    }
  }

  private listenerFailed(name: ProducerEventName, err: unknown): void {
    if (!this.onListenerError) return
    try {
      this.onListenerError(
        KafkaError.wrap(
          err,
          '_APPLICATION',
          `a listener of '${name}' threw: ${(err as Error)?.message ?? String(err)}`,
        ),
        name,
      )
    } catch {
      // Reporting must not break the emit site either.
    }
  }
}
