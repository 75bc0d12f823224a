// Test helpers for the instrumentation seam (src/observability/events.ts).

import {
  Instrumentation,
  type ProducerEventName,
  type ProducerEvents,
} from '../../src/observability/events.js'
import { ManualClock } from '../../src/util/clock.js'

/** One event as a listener heard it. */
export type HeardEvent = {
  [K in ProducerEventName]: { name: K; payload: ProducerEvents[K] }
}[ProducerEventName]

/**
 * A hub that notes every emit() made while no one listens to that event: an emit site that built
 * its payload without asking has() first. Tests assert `unguarded` stays empty.
 */
export class GuardedInstrumentation extends Instrumentation {
  readonly unguarded: ProducerEventName[] = []

  override emit<K extends ProducerEventName>(name: K, payload: ProducerEvents[K]): void {
    if (!this.has(name)) this.unguarded.push(name)
    super.emit(name, payload)
  }
}

/** Subscribes to `names` on `hub`; the returned array fills with what they hear, in order. */
export function listen(hub: Instrumentation, ...names: ProducerEventName[]): HeardEvent[] {
  const heard: HeardEvent[] = []
  for (const name of names) hub.on(name, (payload) => heard.push({ name, payload } as HeardEvent))
  return heard
}

/** The payloads of the events called `name`, in order. */
export function payloads<K extends ProducerEventName>(heard: HeardEvent[], name: K): ProducerEvents[K][] {
  return heard.filter((e) => e.name === name).map((e) => e.payload as ProducerEvents[K])
}

/** A manual clock that counts how often the time is read. */
export class CountingClock extends ManualClock {
  reads = 0

  override now(): number {
    this.reads++
    return super.now()
  }
}
