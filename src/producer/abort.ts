import { KafkaError } from '../errors/index.js'

/**
 * AbortSignal support for send() and flush(): the `_ABORTED` error, and one 'abort' listener per
 * signal however many calls watch it.
 */

/** The error of an operation cancelled through `signal`: `_ABORTED`, with `signal.reason` as `cause`. */
export function abortError(signal: AbortSignal, message: string): KafkaError {
  return new KafkaError('_ABORTED', message, { cause: signal.reason })
}

/** `signal` as given, or `_INVALID_ARG` for something that is not an AbortSignal. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined
  const s = signal as Partial<AbortSignal> | null
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.aborted !== 'boolean' ||
    typeof s.addEventListener !== 'function' ||
    typeof s.removeEventListener !== 'function'
  ) {
    throw new KafkaError('_INVALID_ARG', 'options.signal must be an AbortSignal')
  }
  return signal as AbortSignal
}

interface Watch {
  readonly listener: () => void
  readonly entries: Set<() => void>
}

const watches = new WeakMap<AbortSignal, Watch>()

/**
 * Calls `fn` once when `signal` (not aborted yet) aborts, unless the returned function is called
 * first (when the operation ended another way, possibly while another watcher's `fn` runs). One
 * signal shared by thousands of calls (a shutdown controller) gets a single 'abort' listener,
 * removed when the last call stops watching: no MaxListenersExceededWarning, and nothing of ours
 * stays reachable from a long-lived signal.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let watch = watches.get(signal)
  if (watch === undefined) {
    const entries = new Set<() => void>()
    const listener = (): void => {
      watches.delete(signal)
      for (const entry of [...entries]) {
        // An earlier one may have ended this operation (a buffer waiter granted space): skip it.
        if (entries.delete(entry)) entry()
      }
    }
    watch = { listener, entries }
    watches.set(signal, watch)
    signal.addEventListener('abort', listener, { once: true })
  }
  const w = watch
  // A wrapper of its own, so the same `fn` can watch twice and each stop removes one.
  const entry = (): void => fn()
  w.entries.add(entry)
  return () => {
    if (!w.entries.delete(entry) || w.entries.size > 0) return
    if (watches.get(signal) === w) watches.delete(signal)
    signal.removeEventListener('abort', w.listener)
  }
}
