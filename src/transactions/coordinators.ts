import type { BrokerAddress, ConnectionPool } from '../cluster/connection-pool.js'
import type { Metadata } from '../cluster/metadata.js'
import { ErrorCode, KafkaError } from '../errors/index.js'
import type { Connection } from '../network/connection.js'
import { FindCoordinatorApi, type FindCoordinatorResponse } from '../protocol/index.js'

/** FindCoordinator's key types (KIP-98): a consumer group, or a transactional id. */
export const COORDINATOR_GROUP = 0
export const COORDINATOR_TRANSACTION = 1
export type CoordinatorKeyType = typeof COORDINATOR_GROUP | typeof COORDINATOR_TRANSACTION

/** FindCoordinator v4 batches keys (KIP-699); we always ask for one. v6 is the newest we know. */
const FIND_COORDINATOR_MAX_VERSION = 6

/** Coordinator errors after which the coordinator must be looked up again (it moved or is loading). */
export const COORDINATOR_MOVED = new Set<number>([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
])

export interface CoordinatorsDeps {
  pool: Pick<ConnectionPool, 'get' | 'ready'>
  metadata: Pick<Metadata, 'brokers' | 'refresh'>
}

/**
 * Finds and remembers the coordinator of a transactional id or consumer group (FindCoordinator to
 * any broker), and hands out a connection to it. One attempt per call: the caller owns retries and
 * backoff, and calls {@link invalidate} when the coordinator answered NOT_COORDINATOR or its
 * connection failed, so that the next call looks it up again (Java: lookupCoordinator).
 */
export class Coordinators {
  private readonly known = new Map<string, BrokerAddress>()
  private asked = 0

  constructor(private readonly deps: CoordinatorsDeps) {}

  /** The connection to the coordinator of `key`; rejects with a KafkaError (retriable or not). */
  async connection(keyType: CoordinatorKeyType, key: string): Promise<Connection> {
    const id = `${keyType}\u0000${key}`
    let address = this.known.get(id)
    if (!address) {
      address = await this.find(keyType, key)
      this.known.set(id, address)
    }
    try {
      return await this.deps.pool.get(address)
    } catch (err) {
      this.known.delete(id)
      throw err
    }
  }

  /** Forgets the coordinator of `key`: the next {@link connection} asks FindCoordinator again. */
  invalidate(keyType: CoordinatorKeyType, key: string): void {
    this.known.delete(`${keyType}\u0000${key}`)
  }

  /** The broker the coordinator of `key` was last found on, if known (tests, diagnostics). */
  cached(keyType: CoordinatorKeyType, key: string): BrokerAddress | undefined {
    return this.known.get(`${keyType}\u0000${key}`)
  }

  private async find(keyType: CoordinatorKeyType, key: string): Promise<BrokerAddress> {
    const { pool, metadata } = this.deps
    if (metadata.brokers.size === 0) await metadata.refresh()
    const brokers = [...metadata.brokers.values()]
    if (brokers.length === 0) {
      throw new KafkaError('_TRANSPORT', `no broker is known yet to ask for the coordinator of ${key}`, {
        retriable: true,
      })
    }
    // A broker we are connected to answers soonest; otherwise rotate, so that one dead broker is
    // not asked again and again.
    const broker = brokers.find((b) => pool.ready(b.nodeId)) ?? brokers[this.asked++ % brokers.length]!
    const conn = await pool.get(broker)
    const version = conn.versionFor(FindCoordinatorApi, FIND_COORDINATOR_MAX_VERSION)
    const res = await conn.request(
      FindCoordinatorApi,
      { key, keyType, coordinatorKeys: [key] },
      { maxVersion: FIND_COORDINATOR_MAX_VERSION },
    )
    return coordinatorOf(res, version, key)
  }
}

/**
 * The coordinator an answer names, validated: a broker's bytes decide which socket we open next, so
 * a node id below 0, an empty host or a port outside 1..65535 is an error, never an address.
 */
function coordinatorOf(res: FindCoordinatorResponse, version: number, key: string): BrokerAddress {
  const entry =
    version >= 4
      ? res.coordinators.find((c) => c.key === key)
      : { ...res, key, errorMessage: res.errorMessage }
  if (!entry) {
    throw new KafkaError('_BAD_MSG', `FindCoordinator answer does not name a coordinator for ${key}`, {
      retriable: true,
    })
  }
  if (entry.errorCode !== 0) {
    const err = KafkaError.fromKafkaCode(
      entry.errorCode,
      `FindCoordinator for ${key}${entry.errorMessage ? `: ${entry.errorMessage}` : ''}`,
    )
    // COORDINATOR_NOT_AVAILABLE while the transaction log is being created: retriable by the table.
    throw err
  }
  const { nodeId, host, port } = entry
  if (!(nodeId >= 0 && host.length > 0 && Number.isInteger(port) && port > 0 && port <= 0xffff)) {
    throw new KafkaError(
      '_BAD_MSG',
      `FindCoordinator for ${key} named an impossible coordinator (node ${nodeId} at ${JSON.stringify(host)}:${port})`,
      { retriable: true },
    )
  }
  return { nodeId, host, port }
}
