import type { KafkaError } from '../errors/index.js'
import type { Instrumentation } from '../observability/events.js'

/**
 * The producer's lifecycle events on the instrumentation hub: producer.connected (the first
 * Metadata answer), producer.fatal and producer.closed, each at most once per producer, and
 * nothing computed when no one listens.
 */
export class LifecycleEvents {
  private connectedAnnounced = false

  constructor(
    private readonly events: Instrumentation,
    private readonly clientId: string,
  ) {}

  /** The cluster answered: producer.connected, the first time. */
  connected(brokers: () => number): void {
    if (this.connectedAnnounced) return
    this.connectedAnnounced = true
    if (this.events.has('producer.connected')) {
      this.events.emit('producer.connected', { clientId: this.clientId, brokers: brokers() })
    }
  }

  fatal(error: KafkaError): void {
    if (this.events.has('producer.fatal'))
      this.events.emit('producer.fatal', { clientId: this.clientId, error })
  }

  /** close() is done; `failed`: the records it failed with `_DESTROY`. */
  closed(failed: number): void {
    if (this.events.has('producer.closed'))
      this.events.emit('producer.closed', { clientId: this.clientId, failed })
  }
}
