import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MetadataApi } from '../../../src/protocol/messages/index.js'
import { Reader } from '../../../src/protocol/reader.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex')

describe('MetadataResponse v12 (flexible) from hand-written bytes', () => {
  it('decodes brokers, cluster, topics and partitions', () => {
    const topicId = '0102030405060708090a0b0c0d0e0f10'
    const buf = hex(`
      00000000                  // throttleTimeMs 0
      02                        // brokers: 1 (compact n+1)
        00000001                //   nodeId 1
        0a 6c6f63616c686f7374   //   host "localhost" (9+1)
        00002384                //   port 9092
        00                      //   rack null
        00                      //   tagged fields
      04 616263                 // clusterId "abc"
      00000001                  // controllerId 1
      02                        // topics: 1
        0000                    //   errorCode 0
        07 6576656e7473         //   name "events"
        ${topicId}              //   topicId
        00                      //   isInternal false
        02                      //   partitions: 1
          0000                  //     errorCode 0
          00000000              //     partitionIndex 0
          00000001              //     leaderId 1
          00000005              //     leaderEpoch 5
          02 00000001           //     replicaNodes [1]
          02 00000001           //     isrNodes [1]
          01                    //     offlineReplicas []
          00                    //     tagged fields
        80000000                //   topicAuthorizedOperations INT32_MIN (not requested)
        00                      //   tagged fields
      00                        // tagged fields
    `)
    const r = new Reader(buf)
    const res = MetadataApi.decodeResponse(r, 12)
    assert.equal(r.remaining, 0)
    assert.deepStrictEqual(res, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'abc',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'events',
          topicId: Buffer.from(topicId, 'hex'),
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 5,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: -2147483648,
        },
      ],
      clusterAuthorizedOperations: -2147483648, // not in v12 (8-10 only): the schema default
      errorCode: 0, // v13+ only: default
    })
  })
})
