export { TRANSACTION_TRANSITIONS, type TransactionState } from './states.js'
export {
  CONCURRENT_TRANSACTIONS_BACKOFF_MS,
  TransactionManager,
  type ConsumerGroupMetadata,
  type ProducerIdentity,
  type TransactionGeneration,
  type TransactionManagerDeps,
  type TransactionOffset,
} from './transaction-manager.js'
