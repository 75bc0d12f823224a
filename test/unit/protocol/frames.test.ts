import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  readCorrelationId,
} from '../../../src/protocol/header.js'
import {
  ApiVersionsApi,
  ProduceApi,
  apiByKey,
  type ProduceRequest,
} from '../../../src/protocol/messages/index.js'
import { REF_THRESHOLD } from '../../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex')

const produce = (records: Buffer): ProduceRequest => ({
  transactionalId: null,
  acks: -1,
  timeoutMs: 30000,
  topicData: [{ name: 't', topicId: Buffer.alloc(16), partitionData: [{ index: 0, records }] }],
})

describe('request frames (golden bytes)', () => {
  it('Produce v9 (flexible: request header v2, compact encodings, tagged-field sections)', () => {
    const frame = Buffer.concat(encodeRequestFrame(ProduceApi, 9, 1, 'c', produce(hex('010203'))))
    const expected = hex(`
      00000022        // size 34
      0000 0009       // apiKey 0 (Produce), apiVersion 9
      00000001        // correlationId 1
      0001 63         // clientId "c": int16 length even in header v2
      00              // header tagged fields: none
      00              // transactionalId null (compact: 0)
      ffff            // acks -1
      00007530        // timeoutMs 30000
      02              // topicData: compact array, 1 element (n+1)
      02 74           //   name "t" (compact string, length+1)
      02              //   partitionData: 1 element
      00000000        //     index 0
      04 010203       //     records: compact bytes, length 3 (+1)
      00              //     partition tagged fields
      00              //   topic tagged fields
      00              // request tagged fields
    `)
    assert.equal(frame.toString('hex'), expected.toString('hex'))
  })

  it('Produce v3 (non-flexible: request header v1, int16/int32 lengths)', () => {
    const frame = Buffer.concat(encodeRequestFrame(ProduceApi, 3, 1, 'c', produce(hex('010203'))))
    const expected = hex(`
      00000029        // size 41
      0000 0003       // apiKey 0, apiVersion 3
      00000001        // correlationId 1
      0001 63         // clientId "c"
      ffff            // transactionalId null (int16 -1)
      ffff            // acks -1
      00007530        // timeoutMs 30000
      00000001        // topicData: 1 element
      0001 74         //   name "t"
      00000001        //   partitionData: 1 element
      00000000        //     index 0
      00000003 010203 //     records: int32 length 3
    `)
    assert.equal(frame.toString('hex'), expected.toString('hex'))
  })

  it('keeps a large record batch as its own chunk and decodes back like a broker', () => {
    const records = Buffer.alloc(REF_THRESHOLD * 2, 1)
    const chunks = encodeRequestFrame(ProduceApi, 9, 77, 'client', produce(records))
    assert.ok(chunks.includes(records))
    const frame = Buffer.concat(chunks)
    assert.equal(frame.readInt32BE(0), frame.length - 4)
    const decoded = decodeRequestFrame(frame.subarray(4), apiByKey)
    assert.equal(decoded.apiKey, 0)
    assert.equal(decoded.apiVersion, 9)
    assert.equal(decoded.correlationId, 77)
    assert.equal(decoded.clientId, 'client')
    assert.deepEqual(decoded.body, produce(records))
  })

  it('response frames: header v1 for flexible versions, v0 for ApiVersions always', () => {
    const res = { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 13 }], throttleTimeMs: 0 }
    const frame = Buffer.concat(encodeResponseFrame(ApiVersionsApi, 3, 5, res)).subarray(4)
    // ApiVersions v3 is flexible but its response header stays v0: no tagged byte after the id.
    assert.equal(frame.subarray(0, 6).toString('hex'), '00000005' + '0000')
    assert.equal(readCorrelationId(frame), 5)
    const { correlationId, body } = decodeResponseFrame(frame, ApiVersionsApi, 3)
    assert.equal(correlationId, 5)
    assert.deepEqual(body.apiKeys, res.apiKeys)

    const produceRes = { responses: [], throttleTimeMs: 0 }
    const pframe = Buffer.concat(encodeResponseFrame(ProduceApi, 9, 6, produceRes)).subarray(4)
    assert.equal(pframe.subarray(0, 5).toString('hex'), '00000006' + '00')
    assert.equal(decodeResponseFrame(pframe, ProduceApi, 9).correlationId, 6)
  })

  it('refuses versions outside the API range', () => {
    assert.throws(() => encodeRequestFrame(ProduceApi, 2, 1, null, produce(Buffer.alloc(0))), /outside/)
  })
})
