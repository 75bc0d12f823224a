/**
 * The states of a transactional producer, as Java's TransactionManager has them (KIP-98, with
 * KIP-360's epoch bump and KIP-890's second generation). One table says which changes are legal;
 * anything else is a bug in the client and throws, so a wrong interleaving fails loudly in tests
 * instead of sending a request the coordinator would refuse.
 *
 * - `uninitialized`: no producer id yet; initTransactions() has not run (or failed retriably).
 * - `initializing`: InitProducerId is out (also KIP-360's bump after an abort).
 * - `ready`: a producer id and epoch; no transaction is open.
 * - `inTransaction`: beginTransaction() was called; records and offsets may be added.
 * - `committing` / `aborting`: commitTransaction() / abortTransaction() runs: records are flushed
 *   (or purged), then EndTxn. Both may be waited for again after a timeout.
 * - `abortableError`: a record or request of the open transaction failed; only
 *   abortTransaction() leads on (Java's ABORTABLE_ERROR).
 * - `fatalError`: the producer is fenced or not authorized; every later call throws the error.
 */
export type TransactionState =
  | 'uninitialized'
  | 'initializing'
  | 'ready'
  | 'inTransaction'
  | 'committing'
  | 'aborting'
  | 'abortableError'
  | 'fatalError'

/** The legal changes of state; {@link assertTransition} enforces them. */
export const TRANSACTION_TRANSITIONS: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  // initTransactions(); a fatal answer (e.g. not authorized).
  uninitialized: ['initializing', 'fatalError'],
  // An id arrived; a retriable failure left nothing behind (initTransactions() may be called again).
  initializing: ['ready', 'uninitialized', 'fatalError'],
  ready: ['inTransaction', 'fatalError'],
  // A record or partition failed: the transaction can only be aborted.
  inTransaction: ['committing', 'aborting', 'abortableError', 'fatalError'],
  // EndTxn(commit) succeeded; a record failed while flushing (Java allows the same).
  committing: ['ready', 'abortableError', 'fatalError'],
  // EndTxn(abort) succeeded (then KIP-360's bump if a sequence broke: initializing).
  aborting: ['ready', 'initializing', 'fatalError'],
  abortableError: ['aborting', 'fatalError'],
  fatalError: [],
}

export function assertTransition(from: TransactionState, to: TransactionState): void {
  if (!TRANSACTION_TRANSITIONS[from].includes(to)) {
    throw new Error(`transaction manager: illegal state change ${from} → ${to}`)
  }
}
