import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../../src/errors/index.js'
import {
  Instrumentation,
  PRODUCER_EVENT_NAMES,
  type ProducerEventName,
  type RequestSentEvent,
} from '../../../src/observability/events.js'

const sent: RequestSentEvent = {
  nodeId: 1,
  apiKey: 3,
  apiName: 'Metadata',
  apiVersion: 13,
  bytes: 42,
  correlationId: 7,
}

describe('Instrumentation', () => {
  it('knows every event of the map, and none has a listener at first', () => {
    assert.deepEqual(PRODUCER_EVENT_NAMES, [
      'record.accepted',
      'record.delivered',
      'record.failed',
      'batch.built',
      'batch.sent',
      'batch.answered',
      'batch.retried',
      'request.sent',
      'request.answered',
      'request.failed',
      'connection.opened',
      'connection.closed',
      'connection.failed',
      'producer.connected',
      'producer.fatal',
      'producer.closed',
      'metadata.updated',
      'producer.id',
      'transaction.state',
    ])
    const hub = new Instrumentation()
    for (const name of PRODUCER_EVENT_NAMES) assert.equal(hub.has(name), false, name)
  })

  it('delivers a payload to the listeners of its event, in the order they were added', () => {
    const hub = new Instrumentation()
    const heard: string[] = []
    hub.on('request.sent', (e) => heard.push(`first ${e.correlationId}`))
    hub.on('request.sent', (e) => heard.push(`second ${e.bytes}`))
    hub.on('request.failed', () => heard.push('wrong event'))
    assert.equal(hub.has('request.sent'), true)
    assert.equal(hub.has('request.answered'), false)
    hub.emit('request.sent', sent)
    assert.deepEqual(heard, ['first 7', 'second 42'])
    // Emitting an event no one listens to is a no-op.
    hub.emit('connection.opened', { nodeId: 1, host: 'h', port: 1, setupMs: 0 })
    assert.deepEqual(heard, ['first 7', 'second 42'])
  })

  it('off() removes a listener; has() is false again once the last one is gone', () => {
    const hub = new Instrumentation()
    const heard: string[] = []
    const a = (): void => void heard.push('a')
    const b = (): void => void heard.push('b')
    hub.on('request.sent', a).on('request.sent', b).on('request.sent', a)
    hub.emit('request.sent', sent)
    assert.deepEqual(heard, ['a', 'b', 'a'])
    heard.length = 0
    hub.off('request.sent', a) // one registration of `a` at a time, like EventEmitter
    hub.emit('request.sent', sent)
    assert.deepEqual(heard, ['a', 'b'])
    hub.off('request.sent', a).off('request.sent', b)
    assert.equal(hub.has('request.sent'), false)
    hub.off('request.sent', b) // not there: nothing happens
    hub.off('request.failed', b)
    heard.length = 0
    hub.emit('request.sent', sent)
    assert.deepEqual(heard, [])
  })

  it("a gate follows its event's listeners, whenever it was taken", () => {
    const hub = new Instrumentation()
    const gate = hub.gate('record.accepted')
    assert.equal(gate.open, false)
    assert.equal(hub.gate('record.accepted'), gate, 'one gate per event')
    const a = (): void => undefined
    const b = (): void => undefined
    hub.on('record.accepted', a).on('record.accepted', b)
    assert.equal(gate.open, true)
    hub.off('record.accepted', a)
    assert.equal(gate.open, true, 'b still listens')
    hub.off('record.accepted', b)
    assert.equal(gate.open, false)
    assert.equal(hub.gate('request.sent').open, false, "another event's gate stays closed")
    hub.on('request.sent', a)
    // Taken while listened to: open from the start, and it agrees with has() from then on.
    const late = hub.gate('request.sent')
    assert.equal(late.open, true)
    hub.off('request.sent', a)
    assert.equal(late.open, hub.has('request.sent'))
    assert.equal(gate.open, false)
  })

  it('listeners added or removed during an emit take effect from the next one', () => {
    const hub = new Instrumentation()
    const heard: string[] = []
    const late = (): void => void heard.push('late')
    const second = (): void => void heard.push('second')
    hub.on('request.sent', () => {
      heard.push('first')
      hub.off('request.sent', second)
      hub.on('request.sent', late)
    })
    hub.on('request.sent', second)
    hub.emit('request.sent', sent)
    assert.deepEqual(heard, ['first', 'second'])
    heard.length = 0
    hub.emit('request.sent', sent)
    assert.deepEqual(heard, ['first', 'late'])
  })

  it('a listener that throws does not stop the others nor the emitter; onListenerError hears it', () => {
    const reported: [KafkaError, ProducerEventName][] = []
    const hub = new Instrumentation({ onListenerError: (err, event) => reported.push([err, event]) })
    const heard: string[] = []
    const boom = new Error('metrics backend down')
    hub.on('request.sent', () => {
      throw boom
    })
    hub.on('request.sent', () => heard.push('after'))
    assert.doesNotThrow(() => hub.emit('request.sent', sent))
    assert.deepEqual(heard, ['after'])
    assert.equal(reported.length, 1)
    const [err, event] = reported[0]!
    assert.equal(event, 'request.sent')
    assert.ok(err instanceof KafkaError)
    assert.equal(err.code, '_APPLICATION')
    assert.equal(err.cause, boom)
    assert.match(err.message, /a listener of 'request\.sent' threw: metrics backend down/)

    // Without onListenerError the exception is dropped; a throwing onListenerError is dropped too.
    const quiet = new Instrumentation()
    quiet.on('request.sent', () => {
      throw boom
    })
    assert.doesNotThrow(() => quiet.emit('request.sent', sent))
    const loud = new Instrumentation({
      onListenerError: () => {
        throw new Error('the reporter fails too')
      },
    })
    loud.on('request.sent', () => {
      throw boom
    })
    loud.on('request.sent', () => heard.push('still'))
    assert.doesNotThrow(() => loud.emit('request.sent', sent))
    assert.deepEqual(heard, ['after', 'still'])
  })

  it('refuses an unknown event name or a listener that is not a function', () => {
    const hub = new Instrumentation()
    assert.throws(() => hub.on('request.answerd' as ProducerEventName, () => undefined), {
      code: '_INVALID_ARG',
      message: /unknown instrumentation event 'request\.answerd'/,
    })
    assert.throws(() => hub.on('request.sent', 'nope' as unknown as () => void), { code: '_INVALID_ARG' })
    assert.throws(() => hub.gate('request.answerd' as ProducerEventName), { code: '_INVALID_ARG' })
    assert.equal(hub.has('request.answerd' as ProducerEventName), false)
  })
})
