import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FrameReader } from '../../../src/network/frame-reader.js'

/** A size-prefixed frame whose body is `n` bytes counting up from `seed`. */
function frame(n: number, seed: number): { body: Buffer; wire: Buffer } {
  const body = Buffer.alloc(n)
  for (let i = 0; i < n; i++) body[i] = (seed + i) & 0xff
  const wire = Buffer.alloc(4 + n)
  wire.writeInt32BE(n, 0)
  body.copy(wire, 4)
  return { body, wire }
}

describe('FrameReader', () => {
  const frames = [frame(7, 1), frame(1, 100), frame(300, 7), frame(4, 200)]
  const stream = Buffer.concat(frames.map((f) => f.wire))
  const bodies = frames.map((f) => f.body)

  it('returns several frames that arrive in one chunk, in order', () => {
    const r = new FrameReader(1024)
    assert.deepEqual(r.push(stream), bodies)
    assert.deepEqual(r.push(Buffer.alloc(0)), [])
  })

  it('reassembles frames split into two chunks at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new FrameReader(1024)
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))]
      assert.deepEqual(got, bodies, `cut at ${cut}`)
    }
  })

  it('reassembles frames split into three chunks at every pair of boundaries (size prefix included)', () => {
    const small = Buffer.concat([frame(5, 1).wire, frame(3, 9).wire])
    for (let a = 0; a <= small.length; a++) {
      for (let b = a; b <= small.length; b++) {
        const r = new FrameReader(64)
        const got = [
          ...r.push(small.subarray(0, a)),
          ...r.push(small.subarray(a, b)),
          ...r.push(small.subarray(b)),
        ]
        assert.deepEqual(got, [frame(5, 1).body, frame(3, 9).body], `cuts at ${a}, ${b}`)
      }
    }
  })

  it('delivers one byte at a time, each frame exactly when its last byte arrives', () => {
    const r = new FrameReader(1024)
    const got: Buffer[] = []
    const completedAt: number[] = []
    for (let i = 0; i < stream.length; i++) {
      const out = r.push(stream.subarray(i, i + 1))
      for (const f of out) {
        got.push(f)
        completedAt.push(i + 1)
      }
    }
    assert.deepEqual(got, bodies)
    assert.deepEqual(completedAt, [11, 16, 320, 328])
  })

  it('copies nothing when a frame lies inside one chunk', () => {
    const r = new FrameReader(1024)
    const [first] = r.push(frames[0]!.wire)
    assert.equal(first!.buffer, frames[0]!.wire.buffer)
  })

  it('accepts a frame of exactly the limit and rejects one byte more', () => {
    assert.deepEqual(new FrameReader(300).push(frame(300, 0).wire), [frame(300, 0).body])
    const r = new FrameReader(299)
    assert.throws(() => r.push(frame(300, 0).wire), {
      name: 'RangeError',
      message: 'invalid response frame size 300 (limit 299)',
    })
  })

  it('rejects an oversize frame as soon as its size prefix is complete', () => {
    const r = new FrameReader(1000)
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE(0x7fffffff, 0)
    assert.deepEqual(r.push(prefix.subarray(0, 3)), [])
    assert.throws(() => r.push(prefix.subarray(3)), /invalid response frame size 2147483647 \(limit 1000\)/)
  })

  it('rejects a negative size', () => {
    const prefix = Buffer.from([0xff, 0xff, 0xff, 0xfe])
    assert.throws(() => new FrameReader(1000).push(prefix), /invalid response frame size -2/)
  })

  it('returns an empty frame for a size of 0, alone or followed by another frame', () => {
    assert.deepEqual(new FrameReader(10).push(Buffer.alloc(4)), [Buffer.alloc(0)])
    const both = Buffer.concat([Buffer.alloc(4), frame(2, 5).wire])
    assert.deepEqual(new FrameReader(10).push(both), [Buffer.alloc(0), frame(2, 5).body])
  })
})
