// The spool's crash guarantees, with real processes killed by SIGKILL (test/helpers/spool-child.ts):
//
// - in the middle of appending: every entry whose append returned is readable, at most one torn
//   line (the one being written) is skipped, and the next append after it is fine;
// - in the middle of a replay (a fake send recording ids to a file): a restarted replay finishes,
//   nothing is lost, and duplicates (allowed: at-least-once) are at most one batch per kill;
// - the same with a real broker: 50,000 entries replayed to a topic with the Producer's send(),
//   SIGKILLed, replayed again, read back with kcat and counted.
// The first two need no broker; the figures are printed.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { kcatConsume, skipWithoutKcat } from '../../scripts/kafka/tools.js'
import type { SpoolEntry } from '../../src/reliable/envelope-types.js'
import { Spool } from '../../src/reliable/spool.js'
import { sharedBootstrapServers } from '../helpers/kafka.js'
import { spoolEntry } from '../helpers/spool-child.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const CHILD = fileURLToPath(new URL('../helpers/spool-child.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'rk-spool-crash-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A child running spool-child.js, with its stdout collected. */
function child(args: string[]): { proc: ChildProcess; out: () => string; exited: Promise<unknown> } {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  // 'exit' comes after the child was reaped, so its pid no longer runs when a lock is checked.
  const exited = once(proc, 'exit')
  return { proc, out: () => out, exited }
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000, pollMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await (pollMs === 0 ? new Promise((r) => setImmediate(r)) : sleep(pollMs))
  }
}

/** The largest n of the child's "acked n" lines (complete lines only), -1 for none. */
function lastAcked(out: string): number {
  const all = [...out.matchAll(/^acked (\d+)$/gm)].map((m) => Number(m[1]))
  return all.length === 0 ? -1 : Math.max(...all)
}

const seqOf = (e: SpoolEntry): number => Number(e.id.slice(1))

test('SIGKILL in the middle of appending: every returned append readable, at most one torn line', async () => {
  const path = join(dir, 'append.jsonl')
  const ROUNDS = 12
  let next = 0 // the sequence number the next child starts with
  let tornTotal = 0
  let markers = 0
  for (let round = 0; round < ROUNDS; round++) {
    // Even rounds: values of 3 MB (an append writes up to 32 MB), killed as soon as the file grows
    // again, so while a write is under way; odd rounds: 150 kB values, killed after a random delay.
    const midWrite = round % 2 === 0
    const valueBytes = midWrite ? 3_000_000 : 150_000
    const c = child(['append', path, String(next), String(valueBytes)])
    await until(() => lastAcked(c.out()) >= next, 'the first append')
    if (midWrite) {
      const size = statSync(path).size
      await until(() => statSync(path).size > size, 'the next write', 60_000, 0)
    } else await sleep(Math.floor(Math.random() * 300))
    c.proc.kill('SIGKILL')
    await c.exited
    const acked = lastAcked(c.out())

    const warnings: string[] = []
    const spool = new Spool({ path, onWarning: (m) => warnings.push(m) })
    const read = await spool.read()
    const skipped = warnings.filter((w) => /skipped line/.test(w))
    const torn = skipped.filter((w) => /torn last line/.test(w))
    // Old torn lines are terminated by now (the next append wrote a '\n' first): skipped again, not torn.
    assert.equal(skipped.length - torn.length, tornTotal, `round ${round}: only earlier torn lines`)
    assert.ok(torn.length <= 1, `round ${round}: at most one torn line, got ${torn.length}`)
    tornTotal += torn.length
    // Nothing lost: the entries are e0, e1, ... without a gap (markers aside), up to at least `acked`.
    const seqs = read.filter((e) => e.id.startsWith('e')).map(seqOf)
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i),
    )
    const highest = seqs.length - 1
    assert.ok(
      highest >= acked,
      `round ${round}: e${acked} was acknowledged but the last readable is e${highest}`,
    )
    for (const e of read.filter((x) => x.id.startsWith('e')).slice(-3)) {
      const bytes = Buffer.from(e.envelope.original_value!, 'base64')
      assert.equal(bytes.length, e.envelope.original_value_bytes)
    }
    // The next append after a torn line is whole and readable.
    await spool.append([spoolEntry(`m${round}`)])
    markers++
    const after = await spool.read()
    assert.equal(after.length, read.length + 1)
    assert.equal(after.at(-1)!.id, `m${round}`)
    assert.equal(after.filter((e) => e.id.startsWith('m')).length, markers)
    await spool.close()
    console.log(
      `append round ${round}: value ${valueBytes} B, ${midWrite ? 'killed as the file grew' : 'killed after a random delay'}, acknowledged up to e${acked}, readable up to ` +
        `e${highest} (${highest - acked} written but unacknowledged), torn line: ${torn.length === 1 ? 'yes' : 'no'}`,
    )
    next = highest + 1
  }
  // A replay moves every torn line to .corrupt and leaves nothing behind.
  const spool = new Spool({ path, onWarning: () => undefined })
  const result = await spool.replay(async () => {})
  await spool.close()
  assert.equal(result.skipped, tornTotal)
  assert.equal(result.replayed, next + markers)
  assert.equal(result.remaining, 0)
  console.log(
    `append crashes: ${ROUNDS} SIGKILLs, ${next} entries written, ${tornTotal} torn lines skipped, 0 lost; ` +
      `replay: ${JSON.stringify(result)}`,
  )
})

test('SIGKILL in the middle of a replay: a restarted replay finishes, duplicates reported, 0 lost', async () => {
  const path = join(dir, 'replay.jsonl')
  const sentFile = join(dir, 'replay-sent.txt')
  const N = 20_000
  const writer = new Spool({ path })
  for (let i = 0; i < N; i += 1000) {
    await writer.append(Array.from({ length: 1000 }, (_, j) => spoolEntry(`e${i + j}`)))
  }
  await writer.close()
  const kills: { batchSize: number; sentBefore: number; sentAtKill: number; left: number }[] = []
  for (const [batchSize, fraction] of [
    [500, 0.15],
    [100, 0.3],
    [1000, 0.5],
    [250, 0.75],
  ] as const) {
    const sentBefore = existsSync(sentFile) ? lines(sentFile).length : 0
    const c = child(['replay', path, sentFile, String(batchSize)])
    // Killed once the sent file grew by a share of the spool: mid-batch, or mid-rewrite.
    const target = Math.floor(N * fraction) * 7
    await until(() => existsSync(sentFile) && statSync(sentFile).size >= target, 'sends')
    c.proc.kill('SIGKILL')
    await c.exited
    assert.equal(c.out(), '', 'killed before the replay ended')
    const left = (await new Spool({ path }).read()).length
    kills.push({ batchSize, sentBefore, sentAtKill: lines(sentFile).length, left })
  }
  const final = child(['replay', path, sentFile, '500'])
  await final.exited
  const result = JSON.parse(final.out()) as { replayed: number; remaining: number; skipped: number }
  assert.equal(result.remaining, 0)
  assert.equal(result.skipped, 0, 'a replay never leaves a torn line: its rewrite is atomic')
  assert.equal(existsSync(`${path}.corrupt`), false)

  const sent = lines(sentFile)
  const counts = new Map<string, number>()
  for (const id of sent) counts.set(id, (counts.get(id) ?? 0) + 1)
  const lost = Array.from({ length: N }, (_, i) => `e${i}`).filter((id) => !counts.has(id))
  const duplicates = sent.length - counts.size
  for (const [i, k] of kills.entries()) {
    console.log(
      `replay kill ${i + 1}: batchSize ${k.batchSize}, sends before ${k.sentBefore}, at the kill ` +
        `${k.sentAtKill}, entries left in the spool ${k.left}`,
    )
  }
  console.log(
    `replay crashes: ${N} entries, ${kills.length} SIGKILLs, ${sent.length} sends, ${counts.size} distinct, ` +
      `duplicates ${duplicates}, lost ${lost.length}; final replay ${JSON.stringify(result)}`,
  )
  assert.deepEqual(lost, [])
  assert.equal(counts.size, N)
  // At-least-once with a rewrite after every batch: a kill re-sends at most the batch it interrupted.
  const bound = kills.reduce((s, k) => s + k.batchSize, 0)
  assert.ok(duplicates <= bound, `duplicates ${duplicates} > ${bound}, the sum of the interrupted batches`)
})

test('SIGKILL in the middle of a replay to a real broker: 50,000 entries, duplicates reported, 0 lost', async (t) => {
  if (skipWithoutKcat(t)) return
  const bootstrap = sharedBootstrapServers()
  const topic = uniqueTopic('spool-replay')
  await createTopic(bootstrap, { name: topic, numPartitions: 3 })
  const path = join(dir, 'kafka.jsonl')
  const N = 50_000
  const writer = new Spool({ path })
  for (let i = 0; i < N; i += 5000) {
    await writer.append(Array.from({ length: 5000 }, (_, j) => spoolEntry(`k${i + j}`)))
  }
  await writer.close()

  const started = Date.now()
  const first = child(['kafka', path, bootstrap, topic, '500'])
  await until(() => lastAcked(first.out()) >= 15_250, '15,250 acknowledgements', 300_000)
  first.proc.kill('SIGKILL')
  await first.exited
  const ackedBeforeKill = lastAcked(first.out())
  const leftAfterKill = (await new Spool({ path }).read()).length

  const second = child(['kafka', path, bootstrap, topic, '500'])
  await second.exited
  const result = JSON.parse(second.out().split('\n').filter(Boolean).at(-1)!) as {
    replayed: number
    remaining: number
  }
  const seconds = (Date.now() - started) / 1000
  assert.equal(result.remaining, 0)

  const records = await kcatConsume({ bootstrapServers: bootstrap, topic, count: 2 * N, timeoutMs: 180_000 })
  const counts = new Map<string, number>()
  for (const r of records) {
    const id = r.key!.toString()
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  let lost = 0
  for (let i = 0; i < N; i++) if (!counts.has(`k${i}`)) lost++
  const duplicates = records.length - counts.size
  console.log(
    `broker replay: ${N} entries; first replay SIGKILLed after ${ackedBeforeKill}+ acknowledgements with ` +
      `${leftAfterKill} entries left in the spool; second replay sent ${result.replayed}; topic holds ` +
      `${records.length} records, ${counts.size} distinct, duplicates ${duplicates}, lost ${lost} (${seconds.toFixed(1)} s)`,
  )
  assert.equal(lost, 0)
  assert.equal(counts.size, N)
  // Killed in the middle of a batch (acknowledgements counted by hundreds, batches of 500): at most
  // that batch was acknowledged, or reached the broker, but not yet removed.
  assert.ok(duplicates <= 500, `duplicates ${duplicates}`)
  assert.equal(result.replayed, leftAfterKill, 'the second replay sent what the first one left')
})

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean)
}
