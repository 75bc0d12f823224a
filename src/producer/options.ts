// Options of the Producer's calls, and what partitionsFor() returns (public types).

export interface SendOptions {
  /**
   * Cancels the call while the record is not in a batch yet (waiting for buffer space or for its
   * topic's metadata): send() then rejects with `_ABORTED` and the record is never written. Once
   * the record is in a batch, aborting changes nothing: the promise settles with its delivery outcome.
   */
  signal?: AbortSignal
}

export interface FlushOptions {
  /** How long to wait; default delivery.timeout.ms + request.timeout.ms. */
  timeoutMs?: number
  /** Ends the wait early, like the timeout: flush() resolves with the number of records still undelivered. */
  signal?: AbortSignal
}

export interface CloseOptions {
  /**
   * How long close() may flush before it fails what is left with `_DESTROY`; default
   * delivery.timeout.ms + request.timeout.ms. 0 fails everything undelivered at once.
   */
  timeoutMs?: number
}

export interface ConnectOptions {
  /** How long to wait before rejecting; default request.timeout.ms. */
  timeoutMs?: number
  /** Topics whose metadata must be known: each must exist (and be visible to this client). */
  topics?: readonly string[]
}

export interface PartitionsForOptions {
  /** How long to wait for the topic's metadata before rejecting; default request.timeout.ms. */
  timeoutMs?: number
}

/** One partition of a topic, as the producer's metadata has it. */
export interface PartitionMetadata {
  readonly partition: number
  /** The leader's node id, -1 when the partition has no (reachable) leader right now. */
  readonly leader: number
  /** Whether it has a leader: records for a partition without one wait (keyless records avoid it). */
  readonly available: boolean
}
