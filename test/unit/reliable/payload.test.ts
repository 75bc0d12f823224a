// What ReliableProducer.send() turns into record bytes, and what it refuses.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { headerPairs, keyBytes, toJson, valueBytes } from '../../../src/reliable/payload.js'

describe('payload', () => {
  it('JSON as JSON.stringify writes it, for what JSON carries faithfully', () => {
    const date = new Date(0)
    assert.equal(
      toJson({ a: 1, s: 'é', n: null, d: date, nested: [{ x: true }] }),
      JSON.stringify({ a: 1, s: 'é', n: null, d: date, nested: [{ x: true }] }),
    )
    assert.equal(toJson({ optional: undefined, kept: 1 }), '{"kept":1}', 'an undefined property is left out')
    assert.equal(toJson('s'), '"s"')
  })

  it('refuses what JSON would drop or rewrite, naming where', () => {
    const thrower = {
      toJSON: () => {
        throw new Error('no JSON for me')
      },
    }
    for (const [v, message] of [
      [undefined, /undefined/],
      [{ f: () => 1 }, /a function at key "f"/],
      [[Symbol('s')], /a symbol at key "0"/],
      [{ n: Infinity }, /Infinity at key "n"/],
      [{ big: 1n }, /BigInt/],
      [thrower, /no JSON for me/],
    ] as [unknown, RegExp][]) {
      assert.throws(() => toJson(v), { code: '_INVALID_ARG', message })
    }
  })

  it('bytes as given (a Uint8Array viewed, not copied), null as null', () => {
    const u = new Uint8Array([1, 2, 3]).subarray(1)
    const b = valueBytes(u)!
    assert.deepEqual(b, Buffer.from([2, 3]))
    assert.equal(b.buffer, u.buffer)
    assert.equal(valueBytes(null), null)
    assert.equal(keyBytes(undefined), null)
    assert.deepEqual(
      valueBytes({ a: 1 }, (v) => `custom:${JSON.stringify(v)}`),
      Buffer.from('custom:{"a":1}'),
    )
    assert.throws(() => valueBytes({}, () => 5 as never), {
      code: '_INVALID_ARG',
      message: /returned number/,
    })
  })

  it('headers in wire order, an array value repeating its key', () => {
    assert.deepEqual(headerPairs({ a: ['1', null], b: Buffer.from([0xff]) }), [
      ['a', Buffer.from('1')],
      ['a', null],
      ['b', Buffer.from([0xff])],
    ])
    assert.deepEqual(headerPairs(undefined), [])
    assert.throws(() => headerPairs('h' as never), { code: '_INVALID_ARG' })
  })
})
