import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BROKER_ERRORS, LOCAL_ERRORS } from '../../../src/errors/error-table.js'
import { ErrorCode, KafkaError, allErrorInfos, errorInfo } from '../../../src/errors/index.js'

describe('error table', () => {
  it('has unique codes and names, covering -1..133 without gaps', () => {
    const codes = BROKER_ERRORS.map(([c]) => c)
    assert.equal(new Set(codes).size, codes.length)
    const names = [...BROKER_ERRORS.map(([, n]) => n), ...LOCAL_ERRORS.map(([n]) => n)]
    assert.equal(new Set(names).size, names.length)
    for (let c = -1; c <= 133; c++) assert.ok(codes.includes(c), `code ${c}`)
    assert.equal(allErrorInfos().length, names.length)
  })

  it('ErrorCode names every broker code of the table', () => {
    assert.equal(ErrorCode.NONE, 0)
    assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6)
    assert.equal(ErrorCode.MESSAGE_TOO_LARGE, 10)
    for (const [code, name] of BROKER_ERRORS)
      assert.equal(ErrorCode[name as keyof typeof ErrorCode], code, name)
    assert.equal(Object.keys(ErrorCode).length, BROKER_ERRORS.length)
    assert.ok(Object.isFrozen(ErrorCode))
  })

  it('local codes start with _ and broker names do not', () => {
    for (const [n] of LOCAL_ERRORS) assert.match(n, /^_[A-Z_]+$/)
    for (const [, n] of BROKER_ERRORS) assert.match(n, /^[A-Z][A-Z_0-9]+$/)
  })

  it('every entry has a one-line description', () => {
    for (const info of allErrorInfos())
      assert.ok(info.description.length > 0 && !info.description.includes('\n'), info.name)
  })

  it('classifies retriable like the Java client', () => {
    for (const n of [
      'NOT_LEADER_OR_FOLLOWER',
      'LEADER_NOT_AVAILABLE',
      'REQUEST_TIMED_OUT',
      'NOT_ENOUGH_REPLICAS',
      'UNKNOWN_TOPIC_OR_PARTITION',
      'CORRUPT_MESSAGE',
      'NETWORK_EXCEPTION',
      'CONCURRENT_TRANSACTIONS',
      'NOT_COORDINATOR',
    ]) {
      assert.equal(errorInfo(n)?.retriable, true, n)
    }
    for (const n of [
      'MESSAGE_TOO_LARGE',
      'TOPIC_AUTHORIZATION_FAILED',
      'INVALID_PRODUCER_EPOCH',
      'PRODUCER_FENCED',
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
      'UNKNOWN_PRODUCER_ID',
      'TRANSACTION_ABORTABLE',
      'UNKNOWN_SERVER_ERROR',
    ]) {
      assert.equal(errorInfo(n)?.retriable, false, n)
    }
  })
})

describe('KafkaError', () => {
  it('takes its flags from the table', () => {
    const e = new KafkaError('NOT_LEADER_OR_FOLLOWER')
    assert.equal(e.name, 'KafkaError')
    assert.equal(e.code, 'NOT_LEADER_OR_FOLLOWER')
    assert.equal(e.kafkaCode, 6)
    assert.equal(e.retriable, true)
    assert.equal(e.fatal, false)
    assert.equal(e.txnRequiresAbort, false)
    assert.ok(e instanceof Error)
    assert.ok(e.message.length > 0)
  })

  it('options override the table', () => {
    const cause = new Error('socket')
    const e = new KafkaError('_TRANSPORT', 'lost', {
      retriable: false,
      fatal: true,
      txnRequiresAbort: true,
      cause,
    })
    assert.equal(e.retriable, false)
    assert.equal(e.fatal, true)
    assert.equal(e.txnRequiresAbort, true)
    assert.equal(e.cause, cause)
    assert.equal(e.kafkaCode, undefined)
    assert.equal(e.message, 'lost')
  })

  it('fromKafkaCode maps numbers, keeps broker messages, and maps unknown numbers to UNKNOWN_SERVER_ERROR', () => {
    assert.equal(KafkaError.fromKafkaCode(10).code, 'MESSAGE_TOO_LARGE')
    assert.equal(KafkaError.fromKafkaCode(10, 'too big').message, 'too big')
    assert.equal(KafkaError.fromKafkaCode(10, null).message, errorInfo(10)?.description)
    const unknown = KafkaError.fromKafkaCode(9999)
    assert.equal(unknown.code, 'UNKNOWN_SERVER_ERROR')
    assert.equal(unknown.kafkaCode, 9999)
    assert.equal(unknown.retriable, false)
  })

  it('wrap returns a KafkaError unchanged and wraps anything else with the given code', () => {
    const original = new KafkaError('NOT_LEADER_OR_FOLLOWER')
    assert.equal(KafkaError.wrap(original, '_TRANSPORT'), original)

    const socket = new Error('ECONNRESET')
    const transport = KafkaError.wrap(socket, '_TRANSPORT')
    assert.equal(transport.code, '_TRANSPORT')
    assert.equal(transport.message, 'Error: ECONNRESET')
    assert.equal(transport.retriable, true, 'flags come from the table for the code')
    assert.equal(transport.cause, socket)

    const thrown = KafkaError.wrap('a string')
    assert.equal(thrown.code, '_APPLICATION', 'the default code is for application code that threw')
    assert.equal(thrown.message, 'a string')
    assert.equal(thrown.retriable, false)

    const described = KafkaError.wrap(socket, '_TRANSPORT', 'broker:9092: ECONNRESET')
    assert.equal(described.message, 'broker:9092: ECONNRESET')
    assert.equal(described.cause, socket)
  })

  it('errorInfo finds by number and by name', () => {
    assert.equal(errorInfo(0)?.name, 'NONE')
    assert.equal(errorInfo('NONE')?.kafkaCode, 0)
    assert.equal(errorInfo('_QUEUE_FULL')?.kafkaCode, undefined)
    assert.equal(errorInfo(12345), undefined)
  })
})

describe('fatal and abortable come from the table', () => {
  it('PRODUCER_FENCED and _FATAL are fatal; TRANSACTION_ABORTABLE requires an abort; others neither', () => {
    assert.equal(KafkaError.fromKafkaCode(90).fatal, true)
    assert.equal(new KafkaError('_FATAL').fatal, true)
    assert.equal(KafkaError.fromKafkaCode(53).fatal, true)
    const abortable = new KafkaError('TRANSACTION_ABORTABLE')
    assert.equal(abortable.txnRequiresAbort, true)
    assert.equal(abortable.fatal, false)
    const leader = KafkaError.fromKafkaCode(6)
    assert.deepEqual([leader.fatal, leader.txnRequiresAbort, leader.retriable], [false, false, true])
    assert.equal(
      new KafkaError('PRODUCER_FENCED', 'x', { fatal: false }).fatal,
      false,
      'context may override',
    )
  })
})
