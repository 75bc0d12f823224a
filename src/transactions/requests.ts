import { KafkaError } from '../errors/index.js'
import { ErrorCode } from '../errors/index.js'
import type { Connection } from '../network/connection.js'
import { backoffMs } from '../util/backoff.js'
import type { Clock } from '../util/clock.js'
import type { RandomSource } from '../util/random.js'
import type { CoordinatorKeyType, Coordinators } from './coordinators.js'
import { errorFor, verdictFor, type CoordinatorRequest, type Verdict } from './verdicts.js'

/** First wait after CONCURRENT_TRANSACTIONS (see Verdict 'retrySoon'); doubles up to retry.backoff.ms. */
export const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 20

/** Thrown inside a coordinator loop whose caller no longer wants the answer. */
export class Cancelled extends Error {}

export interface CoordinatorRequestsDeps {
  coordinators: Coordinators
  transactionalId: string
  clock: Clock
  random: RandomSource
  retryBackoffMs: number
  retryBackoffMaxMs: number
  /** The producer is closing: loops end with `_DESTROY`. */
  isClosed: () => boolean
}

/** Sends one coordinator request until the coordinator's answer decides it (see run()). */
export class CoordinatorRequests {
  constructor(private readonly deps: CoordinatorRequestsDeps) {}

  /**
   * One coordinator request until it succeeds: judge each answer's error code, retry after a
   * backoff, look the coordinator up again when it moved or its connection failed. Rejects with
   * the error for an abortable or fatal answer, with `_DESTROY` once closed, and with
   * {@link Cancelled} once `cancelled()` says the answer is no longer wanted.
   */
  async run<Res>(
    request: CoordinatorRequest,
    keyType: CoordinatorKeyType,
    key: string,
    send: (conn: Connection) => Promise<Res>,
    errorCode: (res: Res) => number,
    cancelled: () => boolean,
  ): Promise<Res> {
    const { clock, random, retryBackoffMs, retryBackoffMaxMs, coordinators } = this.deps
    for (let attempt = 1; ; attempt++) {
      if (this.deps.isClosed()) throw new KafkaError('_DESTROY', `producer closed during ${request}`)
      if (cancelled()) throw new Cancelled()
      let verdict: Verdict
      try {
        const conn = await coordinators.connection(keyType, key)
        const res = await send(conn)
        const code = errorCode(res)
        if (code === 0) return res
        verdict = verdictFor(request, code)
        if (verdict === 'abortable' || verdict === 'fatal') {
          throw errorFor(request, code, verdict, this.deps.transactionalId)
        }
      } catch (err) {
        if (err instanceof Cancelled) throw err
        const e = KafkaError.wrap(err, '_TRANSPORT')
        if (e.fatal || e.txnRequiresAbort || !e.retriable) throw e
        // A lost connection or a timeout: the coordinator may have moved with it.
        verdict = 'refind'
      }
      if (verdict === 'refind') coordinators.invalidate(keyType, key)
      const wait =
        verdict === 'retrySoon'
          ? backoffMs(attempt, CONCURRENT_TRANSACTIONS_BACKOFF_MS, retryBackoffMs, random)
          : backoffMs(attempt, retryBackoffMs, retryBackoffMaxMs, random)
      await new Promise<void>((resolve) => clock.setTimeout(resolve, wait))
    }
  }
}

/** Waits for `run` at most `timeoutMs`; on timeout rejects `_TIMED_OUT` (retriable) and leaves `run` going. */
export function waitBounded(
  clock: Clock,
  run: Promise<void>,
  timeoutMs: number,
  call: string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(
        new KafkaError(
          '_TIMED_OUT',
          `${call} did not complete within ${timeoutMs} ms (the coordinator did not answer in time); ` +
            `call it again to keep waiting`,
          { retriable: true },
        ),
      )
    }, timeoutMs)
    run.then(
      () => {
        clock.clearTimeout(timer)
        resolve()
      },
      (err: unknown) => {
        clock.clearTimeout(timer)
        reject(err instanceof Cancelled ? new KafkaError('_STATE', `${call} was superseded`) : err)
      },
    )
  })
}

/**
 * The code that decides a per-partition answer: a request-level one first, then the first partition
 * error that is not OPERATION_NOT_ATTEMPTED (which only says another partition's error stopped this
 * one: the cause decides whether to retry), or 0.
 */
export function firstError(codes: readonly number[], top = 0): number {
  if (top !== 0) return top
  let notAttempted = 0
  for (const c of codes) {
    if (c === ErrorCode.OPERATION_NOT_ATTEMPTED) notAttempted = c
    else if (c !== 0) return c
  }
  return notAttempted
}
