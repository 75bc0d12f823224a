// Turns librdkafka's `debug` contexts into log lines by subscribing to the instrumentation hub: an
// event no enabled context needs gets no listener, so its emit sites compute nothing (events.ts).
import type { Instrumentation, ProducerEventName, ProducerEvents, RequestSentEvent } from '../events.js'
import { CONTEXT_EVENTS, type DebugContext } from './contexts.js'
import { FORMATTERS, topicLines } from './format.js'
import type { LogSink } from './logger.js'

/** ApiVersions: what the `feature` context logs (which API versions a broker speaks). */
const API_VERSIONS = 18
/** SaslHandshake and SaslAuthenticate: what the `security` context logs (never their payloads). */
const SASL_APIS: ReadonlySet<number> = new Set([17, 36])

type RequestEvent = Pick<RequestSentEvent, 'apiKey'>

/**
 * Subscribes `sink` to the events `contexts` need; returns the function that unsubscribes. Request
 * events log under `protocol` always, and under `feature` or `security` only for their own APIs.
 */
export function attachDebugLog(
  events: Instrumentation,
  sink: LogSink,
  contexts: ReadonlySet<DebugContext>,
): () => void {
  const names = new Set<ProducerEventName>()
  for (const c of contexts) for (const name of CONTEXT_EVENTS[c]) names.add(name)
  const protocol = contexts.has('protocol')
  const wantsRequest = (e: RequestEvent, answered: boolean): boolean =>
    protocol ||
    (contexts.has('security') && SASL_APIS.has(e.apiKey)) ||
    (answered && contexts.has('feature') && e.apiKey === API_VERSIONS)
  const brokerContexts = contexts.has('broker') || contexts.has('security')

  const detach: (() => void)[] = []
  const on = <K extends ProducerEventName>(name: K, listener: (e: ProducerEvents[K]) => void): void => {
    events.on(name, listener)
    detach.push(() => events.off(name, listener))
  }
  const line = <K extends ProducerEventName>(name: K, e: ProducerEvents[K]): void => {
    const l = FORMATTERS[name](e)
    sink.write('debug', l.facility, l.text)
  }

  for (const name of names) {
    switch (name) {
      case 'request.sent':
      case 'request.failed':
        on(name, (e) => wantsRequest(e, false) && line(name, e))
        break
      case 'request.answered':
        on(name, (e) => wantsRequest(e, true) && line(name, e))
        break
      case 'connection.failed':
        // `security` alone wants it too: a refused SASL or TLS handshake ends as connection.failed.
        if (brokerContexts) on(name, (e) => line(name, e))
        break
      case 'metadata.updated':
        on(name, (e) => {
          if (contexts.has('metadata')) line(name, e)
          if (contexts.has('topic')) for (const t of topicLines(e)) sink.write('debug', t.facility, t.text)
        })
        break
      default:
        on(name, (e: ProducerEvents[typeof name]) => line(name, e))
    }
  }
  return () => {
    for (const d of detach.splice(0)) d()
  }
}
