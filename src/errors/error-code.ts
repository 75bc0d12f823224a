// Broker error numbers by name, built from the error table once at load, so that code comparing a
// response's errorCode says which error it means instead of a bare number and a comment.
import { BROKER_ERRORS, type BrokerErrorName } from './error-table.js'

/**
 * The protocol number of each broker error: `ErrorCode.NOT_LEADER_OR_FOLLOWER` is 6. A name the table
 * does not have does not compile. `0` where it only means "no error" may stay a literal.
 */
export const ErrorCode: { readonly [name in BrokerErrorName]: number } = Object.freeze(
  Object.fromEntries(BROKER_ERRORS.map(([code, name]) => [name, code])) as Record<BrokerErrorName, number>,
)
