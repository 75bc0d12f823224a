import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { SpoolEntry } from '../../../src/reliable/envelope-types.js'
import { SPOOL_WARNING_CODE, Spool } from '../../../src/reliable/spool.js'
import { spoolEntry } from '../../helpers/spool-child.js'

const dir = mkdtempSync(join(tmpdir(), 'rk-spool-unit-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

/** A fresh spool path, a Spool on it that collects its warnings, and a close() for the end. */
function fresh(): { path: string; spool: Spool; warnings: string[] } {
  const path = join(dir, `spool-${++n}.jsonl`)
  const warnings: string[] = []
  return { path, spool: new Spool({ path, onWarning: (m) => warnings.push(m) }), warnings }
}

const entries = (count: number, prefix = 'e'): SpoolEntry[] =>
  Array.from({ length: count }, (_, i) => spoolEntry(`${prefix}${i}`))
const ids = (list: readonly SpoolEntry[]): string[] => list.map((e) => e.id)
const lineOf = (e: SpoolEntry): string => `${JSON.stringify(e)}\n`

describe('Spool: append and read', () => {
  it('round-trips entries, all 256 byte values inside a base64 envelope and awkward text included', async () => {
    const { path, spool, warnings } = fresh()
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const text = 'line\nbreak \u2028 \u0000 "quoted" \\ é 🙂 \ud800 lone surrogate'
    const big = Buffer.alloc(300_000, 0xab) // longer than a 64 KiB read chunk
    const written = [spoolEntry('bin', allBytes), spoolEntry('text', text), spoolEntry('big', big)]
    await spool.append(written.slice(0, 2))
    await spool.append(written.slice(2))
    const read = await spool.read()
    assert.deepEqual(read, written)
    assert.deepEqual(Buffer.from(read[0]!.envelope.original_value!, 'base64'), allBytes)
    assert.equal(read[1]!.envelope.original_value, text)
    const file = readFileSync(path)
    assert.equal(
      file.toString('utf8'),
      written.map(lineOf).join(''),
      'one JSON line per entry, \\n-terminated',
    )
    assert.equal(file.toString('utf8').split('\n').length, 4)
    assert.deepEqual(warnings, [])
    await spool.close()
  })

  it('a missing file is an empty spool, for read and replay', async () => {
    const { path, spool } = fresh()
    assert.deepEqual(await spool.read(), [])
    let sent = 0
    const result = await spool.replay(async () => void sent++)
    assert.deepEqual(result, { replayed: 0, failed: 0, remaining: 0, skipped: 0 })
    assert.equal(sent, 0)
    assert.equal(existsSync(path), false)
    await spool.close()
  })

  it('refuses an entry that is not a SpoolEntry or not JSON, writing nothing', async () => {
    const { path, spool } = fresh()
    const bad = { ...spoolEntry('x'), v: 2 } as unknown as SpoolEntry
    await assert.rejects(spool.append([spoolEntry('ok'), bad]), /entry 1 is not a SpoolEntry: v is 2/)
    const noTopic = { ...spoolEntry('y'), envelope: { ...spoolEntry('y').envelope, original_topic: 5 } }
    await assert.rejects(spool.append([noTopic as unknown as SpoolEntry]), /envelope.original_topic/)
    const withBigInt = { ...spoolEntry('z'), extra: 1n } as unknown as SpoolEntry
    await assert.rejects(spool.append([withBigInt]), TypeError)
    assert.equal(existsSync(path), false)
    await spool.append([]) // nothing to write: no file either
    assert.equal(existsSync(path), false)
  })

  it('skips a torn last line with a warning; the next append starts a line of its own', async () => {
    const { path, spool, warnings } = fresh()
    const [a, b, c] = entries(3)
    await spool.append([a!, b!, c!])
    // A crash in the middle of writing c: the file ends inside its line.
    const full = readFileSync(path)
    truncateSync(path, full.length - 40)
    assert.deepEqual(ids(await spool.read()), ['e0', 'e1'])
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]!, /skipped line 3 .*torn last line .*not valid JSON/)
    await spool.append([spoolEntry('d')])
    assert.deepEqual(ids(await spool.read()), ['e0', 'e1', 'd'])
    assert.match(warnings[1]!, /skipped line 3 .*: not valid JSON; left in the file/)
    // A replay moves the torn line, byte for byte, to <path>.corrupt.
    const sent: string[] = []
    const result = await spool.replay(async (e) => void sent.push(e.id))
    assert.deepEqual(result, { replayed: 3, failed: 0, remaining: 0, skipped: 1 })
    assert.deepEqual(sent, ['e0', 'e1', 'd'])
    assert.deepEqual(
      readFileSync(`${path}.corrupt`),
      Buffer.concat([
        full.subarray(0, full.length - 40).subarray(lineOf(a!).length + lineOf(b!).length),
        Buffer.from('\n'),
      ]),
    )
    assert.equal(readFileSync(path).length, 0)
    await spool.close()
  })

  it('reads a whole last entry whose newline never reached the disk, and appends after it', async () => {
    const { path, spool, warnings } = fresh()
    await spool.append(entries(2))
    truncateSync(path, readFileSync(path).length - 1)
    assert.deepEqual(ids(await spool.read()), ['e0', 'e1'])
    await spool.append([spoolEntry('e2')])
    assert.deepEqual(ids(await spool.read()), ['e0', 'e1', 'e2'])
    assert.deepEqual(warnings, [])
    await spool.close()
  })

  it('skips corrupt middle lines with a warning each, keeps them, and replay moves them to .corrupt', async () => {
    const { path, spool, warnings } = fresh()
    const badLines = [
      Buffer.from('{"v":1,"id":"half'),
      Buffer.from(JSON.stringify({ ...spoolEntry('v2'), v: 2 })),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), // not UTF-8
      Buffer.from('[1,2,3]'),
    ]
    const good = entries(3)
    const file = Buffer.concat([
      Buffer.from(lineOf(good[0]!)),
      ...badLines.flatMap((l) => [l, Buffer.from('\n')]),
      Buffer.from('\n   \n'), // blank lines: silently ignored
      Buffer.from(lineOf(good[1]!) + lineOf(good[2]!)),
    ])
    writeFileSync(path, file)
    assert.deepEqual(await spool.read(), good)
    assert.equal(warnings.length, 4)
    assert.match(warnings[0]!, /line 2 .*not valid JSON/)
    assert.match(warnings[1]!, /line 3 .*not a spool entry \(v is 2, not 1\)/)
    assert.match(warnings[2]!, /line 4 .*not valid UTF-8/)
    assert.match(warnings[3]!, /line 5 .*not a spool entry \(not a JSON object\)/)
    assert.deepEqual(readFileSync(path), file, 'read() changes nothing')
    const result = await spool.replay(async () => {})
    assert.deepEqual(result, { replayed: 3, failed: 0, remaining: 0, skipped: 4 })
    assert.deepEqual(
      readFileSync(`${path}.corrupt`),
      Buffer.concat(badLines.flatMap((l) => [l, Buffer.from('\n')])),
    )
    assert.equal(readFileSync(path).length, 0)
    await spool.close()
  })

  it('warns through process.emitWarning with our own type by default', async () => {
    const path = join(dir, `spool-${++n}.jsonl`)
    writeFileSync(path, 'garbage\n')
    const got = new Promise<Error & { code?: string }>((res) => process.once('warning', res))
    assert.deepEqual(await new Spool({ path }).read(), [])
    const w = await got
    assert.equal(w.name, 'ReliableKafkaWarning')
    assert.equal(w.code, SPOOL_WARNING_CODE)
  })

  it('serialises concurrent appends of two instances on one path (one queue per path)', async () => {
    const { path, spool } = fresh()
    const other = new Spool({ path: `${dir}/./${path.slice(dir.length + 1)}` })
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? spool : other).append(entries(5, `b${i}-`))),
    )
    const read = await spool.read()
    assert.equal(read.length, 200)
    assert.equal(new Set(ids(read)).size, 200)
    await spool.close()
    await other.close()
    assert.equal(existsSync(`${path}.lock`), false, 'the lock goes with the last instance')
  })
})

describe('Spool: replay', () => {
  it('removes exactly the acknowledged entries, byte for byte keeping the failed ones in order', async () => {
    const { path, spool } = fresh()
    const all = entries(20)
    await spool.append(all)
    const sent: string[] = []
    const failOdd = async (e: SpoolEntry): Promise<void> => {
      sent.push(e.id)
      if (Number(e.id.slice(1)) % 2 === 1) throw new Error('broker down')
    }
    const result = await spool.replay(failOdd, { batchSize: 3 })
    assert.deepEqual(result, { replayed: 10, failed: 10, remaining: 10, skipped: 0 })
    assert.deepEqual(sent, ids(all), 'each entry sent once, in file order')
    const odd = all.filter((_, i) => i % 2 === 1)
    assert.equal(readFileSync(path, 'utf8'), odd.map(lineOf).join(''))
    assert.equal(existsSync(`${path}.tmp`), false)
    await spool.close()
  })

  it('sends a batch concurrently, at most batchSize at a time', async () => {
    const { spool } = fresh()
    await spool.append(entries(10))
    let inFlight = 0
    let peak = 0
    const result = await spool.replay(
      async () => {
        peak = Math.max(peak, ++inFlight)
        await new Promise((r) => setTimeout(r, 5))
        inFlight--
      },
      { batchSize: 4 },
    )
    assert.equal(peak, 4)
    assert.equal(result.replayed, 10)
    await spool.close()
  })

  it('can be called twice: after a failed replay, and concurrently (the second waits)', async () => {
    const { spool } = fresh()
    await spool.append(entries(7))
    const failing = await spool.replay(async () => Promise.reject(new Error('down')), { batchSize: 2 })
    assert.deepEqual(failing, { replayed: 0, failed: 7, remaining: 7, skipped: 0 })
    const sent: string[] = []
    const send = async (e: SpoolEntry): Promise<void> => void sent.push(e.id)
    const [first, second] = await Promise.all([spool.replay(send, { batchSize: 2 }), spool.replay(send)])
    assert.deepEqual(first, { replayed: 7, failed: 0, remaining: 0, skipped: 0 })
    assert.deepEqual(second, { replayed: 0, failed: 0, remaining: 0, skipped: 0 })
    assert.deepEqual(sent, ids(entries(7)), 'no entry sent twice')
    await spool.close()
  })

  it('keeps entries appended during a replay, after a torn tail too, and leaves them for the next one', async () => {
    const { path, spool, warnings } = fresh()
    await spool.append(entries(6))
    truncateSync(path, readFileSync(path).length - 10) // e5 torn
    let appended: Promise<void> | null = null
    const sent: string[] = []
    const result = await spool.replay(
      async (e) => {
        sent.push(e.id)
        // In the middle of the first batch: appends go on while sends are pending.
        if (e.id === 'e0') appended = spool.append(entries(3, 'new'))
        if (e.id === 'e1') throw new Error('down')
        await appended
      },
      { batchSize: 2 },
    )
    assert.deepEqual(sent, ['e0', 'e1', 'e2', 'e3', 'e4'], 'only what was in the file when the replay began')
    assert.deepEqual(result, { replayed: 4, failed: 1, remaining: 4, skipped: 1 })
    assert.deepEqual(ids(await spool.read()), ['e1', 'new0', 'new1', 'new2'])
    assert.equal(warnings.filter((w) => /torn last line/.test(w)).length, 1)
    const again = await spool.replay(async () => {})
    assert.deepEqual(again, { replayed: 4, failed: 0, remaining: 0, skipped: 0 })
    await spool.close()
  })

  it('a send that throws synchronously is a failed send', async () => {
    const { spool } = fresh()
    await spool.append(entries(2))
    const result = await spool.replay(((e: SpoolEntry) => {
      if (e.id === 'e0') throw new Error('sync')
      return Promise.resolve()
    }) as (e: SpoolEntry) => Promise<void>)
    assert.deepEqual(result, { replayed: 1, failed: 1, remaining: 1, skipped: 0 })
    await assert.rejects(
      spool.replay(async () => {}, { batchSize: 0 }),
      RangeError,
    )
    await spool.close()
  })

  it('after a simulated crash between acknowledgements and the rewrite: duplicates, never a loss', async () => {
    const { path, spool } = fresh()
    const all = entries(10)
    await spool.append(all)
    // The spool as a crash during the second batch would leave it: the first batch's rewrite done,
    // the second batch acknowledged but not yet removed, a half-written temp file, a dead owner's lock.
    const crashed = join(dir, `crashed-${++n}.jsonl`)
    const sent: string[] = []
    await spool.replay(
      async (e) => {
        if (e.id === 'e4') writeFileSync(crashed, readFileSync(path))
        sent.push(e.id)
      },
      { batchSize: 4 },
    )
    writeFileSync(`${crashed}.tmp`, '{"v":1,"id":"partial rewrite')
    writeFileSync(`${crashed}.lock`, `${JSON.stringify({ pid: deadPid(), start: null })}\n`)
    const warnings: string[] = []
    const restarted = new Spool({ path: crashed, onWarning: (m) => warnings.push(m) })
    const resent: string[] = []
    const result = await restarted.replay(async (e) => void resent.push(e.id), { batchSize: 4 })
    assert.deepEqual(resent, ids(all.slice(4)), 'the second batch again, then the rest')
    assert.deepEqual(result, { replayed: 6, failed: 0, remaining: 0, skipped: 0 })
    // Acknowledged before the crash: the first two batches; the second one is sent again.
    const beforeCrash = sent.slice(0, 8)
    const union = new Set([...beforeCrash, ...resent])
    assert.equal(union.size, 10, 'nothing lost')
    assert.equal(beforeCrash.length + resent.length - union.size, 4, 'one batch of duplicates')
    assert.match(warnings.join('\n'), /taking over the lock of process \d+, which no longer runs/)
    await restarted.close()
    await spool.close()
  })
})

describe('Spool: one process at a time', () => {
  it('refuses to write a spool whose lock a running process holds; reading is allowed', async () => {
    const { path, spool } = fresh()
    writeFileSync(path, lineOf(spoolEntry('a')))
    writeFileSync(`${path}.lock`, `${JSON.stringify({ pid: process.ppid, start: null })}\n`)
    await assert.rejects(spool.append([spoolEntry('b')]), new RegExp(`in use by process ${process.ppid}`))
    await assert.rejects(
      spool.replay(async () => {}),
      /in use by process/,
    )
    assert.deepEqual(ids(await spool.read()), ['a'])
    rmSync(`${path}.lock`)
    await spool.append([spoolEntry('b')])
    assert.equal(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).pid, process.pid)
    await spool.close()
    assert.equal(existsSync(`${path}.lock`), false)
  })

  it('takes over an unreadable lock file (a crash while writing it)', async () => {
    const { path, spool, warnings } = fresh()
    writeFileSync(`${path}.lock`, '{"pi')
    await spool.append([spoolEntry('a')])
    assert.match(warnings[0]!, /taking over the lock of process \(unreadable lock file\)/)
    await spool.close()
  })
})

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  return child.pid!
}
