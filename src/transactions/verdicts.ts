import { ErrorCode, KafkaError } from '../errors/index.js'
import { COORDINATOR_MOVED } from './coordinators.js'

/**
 * What an error code in a coordinator's answer means for the transactional producer, per request,
 * as Java's TransactionManager handlers decide it:
 *
 * - `retry`: ask again after the retry backoff (the coordinator is loading, a partition is unknown
 *   for a moment).
 * - `retrySoon`: CONCURRENT_TRANSACTIONS: the coordinator is still writing the markers of the
 *   previous transaction, which takes milliseconds; waiting the whole retry.backoff.ms (100 ms) is
 *   what costs kafkajs and @platformatic/kafka 300 ms to 1 s per transaction. Java retries
 *   AddPartitionsToTxn after 20 ms in this case.
 * - `refind`: the coordinator moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE): look it up again,
 *   then retry.
 * - `abortable`: the transaction cannot commit; abortTransaction() leads on.
 * - `fatal`: the producer cannot go on (fenced by a newer instance, not authorized).
 */
export type Verdict = 'retry' | 'retrySoon' | 'refind' | 'abortable' | 'fatal'

/** Which request asked: the same code means different things to different requests. */
export type CoordinatorRequest =
  | 'InitProducerId'
  | 'AddPartitionsToTxn'
  | 'AddOffsetsToTxn'
  | 'TxnOffsetCommit'
  | 'EndTxn(commit)'
  | 'EndTxn(abort)'

/** Another instance with the same transactional.id took over (KIP-98 fencing, KIP-588's name for it). */
const FENCED = new Set<number>([ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.PRODUCER_FENCED])

/** Authorization failures that end the producer: it may not use its transactional id. */
const NOT_AUTHORIZED_FOR_ID = new Set<number>([
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
])

/** Errors of the records' side (what was added), which only fail this transaction. */
const ABORTABLE_BY_REQUEST: Readonly<Record<CoordinatorRequest, ReadonlySet<number>>> = {
  InitProducerId: new Set(),
  AddPartitionsToTxn: new Set([
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    ErrorCode.OPERATION_NOT_ATTEMPTED,
    ErrorCode.TRANSACTION_ABORTABLE,
    ErrorCode.INVALID_RECORD,
  ]),
  AddOffsetsToTxn: new Set([ErrorCode.GROUP_AUTHORIZATION_FAILED, ErrorCode.TRANSACTION_ABORTABLE]),
  // KIP-447: the consumer's generation is gone (it lost its partitions in a rebalance), so these
  // offsets must not be committed; nor may a group or topic we are not authorized for.
  TxnOffsetCommit: new Set([
    ErrorCode.UNKNOWN_MEMBER_ID,
    ErrorCode.ILLEGAL_GENERATION,
    ErrorCode.FENCED_INSTANCE_ID,
    ErrorCode.REBALANCE_IN_PROGRESS,
    ErrorCode.GROUP_AUTHORIZATION_FAILED,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    ErrorCode.TRANSACTION_ABORTABLE,
    ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
    ErrorCode.OFFSET_METADATA_TOO_LARGE,
  ]),
  // KIP-890: the coordinator aborted the transaction itself (e.g. it timed out).
  'EndTxn(commit)': new Set([
    ErrorCode.TRANSACTION_ABORTABLE,
    ErrorCode.UNKNOWN_PRODUCER_ID,
    ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ]),
  'EndTxn(abort)': new Set(),
}

/** Errors that are retried as they are, whatever asked. */
const RETRY = new Set<number>([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
])

export function verdictFor(request: CoordinatorRequest, code: number): Verdict {
  if (code === ErrorCode.CONCURRENT_TRANSACTIONS) return 'retrySoon'
  if (COORDINATOR_MOVED.has(code)) return 'refind'
  if (RETRY.has(code)) return 'retry'
  if (FENCED.has(code) || NOT_AUTHORIZED_FOR_ID.has(code)) return 'fatal'
  if (ABORTABLE_BY_REQUEST[request].has(code)) return 'abortable'
  // Anything else (INVALID_TXN_STATE, INVALID_TRANSACTION_TIMEOUT, an unknown code) means the
  // client and the coordinator disagree about the transaction: Java gives up on the producer too.
  return 'fatal'
}

/**
 * The error to report for `code` in the answer to `request`: the broker's name, and a message
 * saying which request and what to do. Fenced errors become PRODUCER_FENCED-style fatal errors
 * whatever their number (older brokers say INVALID_PRODUCER_EPOCH).
 */
export function errorFor(
  request: CoordinatorRequest,
  code: number,
  verdict: Verdict,
  transactionalId: string,
  detail?: string,
): KafkaError {
  const base = KafkaError.fromKafkaCode(code)
  let advice = ''
  if (FENCED.has(code)) {
    advice =
      `: another producer with transactional.id ${JSON.stringify(transactionalId)} has started ` +
      `(initTransactions) and fenced this one; close this producer`
  } else if (code === ErrorCode.INVALID_TRANSACTION_TIMEOUT) {
    advice =
      ": transaction.timeout.ms is larger than the broker's transaction.max.timeout.ms (15 minutes by " +
      'default); lower transaction.timeout.ms or raise transaction.max.timeout.ms on the brokers'
  } else if (verdict === 'abortable') {
    advice = ': the transaction must be aborted (abortTransaction()), then the work can be retried'
  } else if (verdict === 'fatal') {
    advice = ': the producer cannot continue; close it and create a new one'
  }
  return new KafkaError(
    base.code,
    `${request} failed with ${base.code}${detail ? ` (${detail})` : ''}${advice}`,
    {
      kafkaCode: code,
      retriable: verdict === 'retry' || verdict === 'retrySoon' || verdict === 'refind',
      fatal: verdict === 'fatal',
      txnRequiresAbort: verdict === 'abortable',
    },
  )
}
