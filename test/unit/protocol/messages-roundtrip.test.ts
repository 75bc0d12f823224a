// Every generated API, request and response, at every version: a sample message with every
// in-version field set is encoded, decoded, and compared. The sample comes from decoding with a
// reader that invents a value for each read, so it covers exactly the fields of that version.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ALL_APIS,
  ApiVersionsApi,
  ProduceApi,
  type ProduceResponse,
} from '../../../src/protocol/messages/index.js'
import { Reader } from '../../../src/protocol/reader.js'
import { Writer } from '../../../src/protocol/writer.js'

class SampleReader extends Reader {
  constructor() {
    super(Buffer.alloc(0))
  }
  override int8(): number {
    return 3
  }
  override int16(): number {
    return 300
  }
  override uint16(): number {
    return 65000
  }
  override int32(): number {
    return 70000
  }
  override int64(): bigint {
    return 1234567890123n
  }
  override float64(): number {
    return 1.5
  }
  override bool(): boolean {
    return true
  }
  override uuid(): Buffer {
    return Buffer.alloc(16, 0xab)
  }
  override uvarint(): number {
    return 0 // tagged-field counts: none (tagged fields keep their defaults)
  }
  override string(): string {
    return 'str'
  }
  override nullableString(): string {
    return 'nstr'
  }
  override compactString(): string {
    return 'cstr'
  }
  override compactNullableString(): string {
    return 'cnstr'
  }
  override bytes(): Buffer {
    return Buffer.from('bytes')
  }
  override nullableBytes(): Buffer {
    return Buffer.from('nbytes')
  }
  override compactBytes(): Buffer {
    return Buffer.from('cbytes')
  }
  override compactNullableBytes(): Buffer {
    return Buffer.from('cnbytes')
  }
  override arrayLength(): number {
    return 1
  }
  override compactArrayLength(): number {
    return 2
  }
  override skip(): void {}
}

describe('generated codecs round-trip', () => {
  it('covers every API in the definitions', () => {
    assert.ok(ALL_APIS.length >= 20, `${ALL_APIS.length} APIs`)
    assert.equal(new Set(ALL_APIS.map((a) => a.apiKey)).size, ALL_APIS.length)
  })

  for (const api of ALL_APIS) {
    it(`${api.name} (apiKey ${api.apiKey}) versions ${api.minVersion}-${api.maxVersion}`, () => {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        for (const dir of ['Request', 'Response'] as const) {
          const sample =
            dir === 'Request'
              ? api.decodeRequest(new SampleReader(), v)
              : api.decodeResponse(new SampleReader(), v)
          const w = new Writer(32)
          if (dir === 'Request') api.encodeRequest(w, v, sample)
          else api.encodeResponse(w, v, sample)
          const r = new Reader(w.finish())
          const back = dir === 'Request' ? api.decodeRequest(r, v) : api.decodeResponse(r, v)
          assert.deepStrictEqual(back, sample, `${api.name}${dir} v${v}`)
          assert.equal(r.remaining, 0, `${api.name}${dir} v${v} left bytes`)
        }
      }
    })
  }
})

describe('tagged fields', () => {
  const response = (): ProduceResponse => ({
    responses: [
      {
        name: 't',
        topicId: Buffer.alloc(16),
        partitionResponses: [
          {
            index: 0,
            errorCode: 6,
            baseOffset: -1n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: 2, leaderEpoch: 9 },
          },
        ],
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [{ nodeId: 2, host: 'b2', port: 9092, rack: null }],
  })

  it('round-trip when set (ProduceResponse v10 CurrentLeader / NodeEndpoints, KIP-951)', () => {
    const w = new Writer()
    ProduceApi.encodeResponse(w, 10, response())
    assert.deepStrictEqual(ProduceApi.decodeResponse(new Reader(w.finish()), 10), response())
  })

  it('are omitted when equal to their default, and decode to the default', () => {
    const msg = response()
    msg.nodeEndpoints = []
    msg.responses[0]!.partitionResponses[0]!.currentLeader = { leaderId: -1, leaderEpoch: -1 }
    const withDefaults = new Writer()
    ProduceApi.encodeResponse(withDefaults, 10, msg)
    const without = response()
    delete without.nodeEndpoints
    delete without.responses[0]!.partitionResponses[0]!.currentLeader
    const absent = new Writer()
    ProduceApi.encodeResponse(absent, 10, without)
    const a = withDefaults.finish()
    assert.deepEqual(a, absent.finish())
    assert.deepStrictEqual(ProduceApi.decodeResponse(new Reader(a), 10), msg)
  })

  it('are not written in versions before their taggedVersions', () => {
    const w9 = new Writer()
    ProduceApi.encodeResponse(w9, 9, response())
    const back = ProduceApi.decodeResponse(new Reader(w9.finish()), 9)
    assert.deepStrictEqual(back.nodeEndpoints, [])
    assert.deepStrictEqual(back.responses[0]?.partitionResponses[0]?.currentLeader, {
      leaderId: -1,
      leaderEpoch: -1,
    })
  })

  it('unknown tags are skipped', () => {
    // ProduceResponse v10: responses = [] (compact 01), throttle 0, then 1 tagged field: tag 7, 2 bytes.
    const buf = Buffer.from('01' + '00000000' + '01' + '07' + '02' + 'ffff', 'hex')
    const r = new Reader(buf)
    assert.deepStrictEqual(ProduceApi.decodeResponse(r, 10), {
      responses: [],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    })
    assert.equal(r.remaining, 0)
  })

  it('ApiVersionsResponse v3 features (tags 0-3)', () => {
    const msg = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 25 }],
      finalizedFeaturesEpoch: 42n,
      finalizedFeatures: [{ name: 'metadata.version', maxVersionLevel: 25, minVersionLevel: 25 }],
      zkMigrationReady: true,
    }
    const w = new Writer()
    ApiVersionsApi.encodeResponse(w, 3, msg)
    assert.deepStrictEqual(ApiVersionsApi.decodeResponse(new Reader(w.finish()), 3), msg)
  })
})
