// Shutting down and overload with the broker gone (issue 12), on a private broker that the test
// stops and starts. The producer runs in a child process (shutdown-child.ts), because what is
// asserted is seen from outside: that the process exits by itself once close() returned, with no
// process.exit, and its peak RSS while send() and produce() push against a full buffer.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { withPrivateKafka } from '../helpers/kafka.js'
import { createTopic, uniqueTopic } from '../helpers/topics.js'

const CHILD = fileURLToPath(new URL('./shutdown-child.js', import.meta.url))

type Message = { event: string } & Record<string, unknown>

/**
 * The child process of one scenario: its messages in order, SIGUSR2 to let it go on, and its exit
 * (code and the time it came, performance.now()). Killed if the test gives up on it.
 */
function startChild(scenario: string, bootstrap: string, topic: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CHILD, scenario, bootstrap, topic], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  const queue: Message[] = []
  let wake: (() => void) | null = null
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      queue.push(JSON.parse(line) as Message)
    } catch {
      console.log(`# child: ${line}`)
      return
    }
    wake?.()
  })
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  )
  let gone = false
  void exited.then(() => {
    gone = true
    wake?.()
  })
  return {
    exited,
    /** The next message, which must be `event`, within `timeoutMs`. */
    async next(event: string, timeoutMs: number): Promise<Message> {
      const deadline = Date.now() + timeoutMs
      while (queue.length === 0) {
        if (gone) assert.fail(`the child exited while the test waited for "${event}"`)
        if (Date.now() > deadline) assert.fail(`no "${event}" from the child within ${timeoutMs} ms`)
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 200)
        })
      }
      const m = queue.shift()!
      assert.equal(m.event, event, JSON.stringify(m))
      return m
    },
    goOn: () => child.kill('SIGUSR2'),
    kill: () => {
      if (!gone) child.kill('SIGKILL')
    },
  }
}

/** Resolves with the exit, or null if the child has not exited within `ms`. */
function exitWithin<T>(exited: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    exited,
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms))),
  ]).finally(() => clearTimeout(timer))
}

test('close({ timeoutMs: 1000 }) with the broker down: returns in about a second, one report per record, the process exits by itself', async () => {
  await withPrivateKafka({ nodes: 1 }, async (cluster) => {
    const topic = uniqueTopic('shutdown-close')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 3 })
    const child = startChild('close', cluster.bootstrapServers, topic)
    try {
      await child.next('connected', 90_000)
      await cluster.nodes[0]!.stop()
      child.goOn()
      const r = await child.next('result', 30_000)
      const returned = performance.now()
      console.log(`# close with the broker down: ${JSON.stringify(r)}`)
      assert.ok((r.closeMs as number) >= 900, `close() flushed for its bound first (${r.closeMs} ms)`)
      assert.ok((r.closeMs as number) < 2_500, `close() returned after ${r.closeMs} ms`)
      assert.equal(r.accepted, 620)
      assert.equal(r.missing, 0, 'every record reported')
      assert.equal(r.duplicated, 0, 'no record reported twice')
      assert.ok((r.pendingAtClose as number) > 0)
      // Nothing could be delivered: close() failed it all, send() calls waiting for space included.
      assert.deepEqual(r.codes, { _DESTROY: 620 })
      const exit = await exitWithin(child.exited, 5_000)
      assert.ok(exit, 'the child did not exit by itself within 5 s of close() returning')
      assert.equal(exit.code, 0)
      console.log(`# the child exited ${Math.round(exit.at - returned)} ms after reporting its result`)
    } finally {
      child.kill()
    }
  })
})

test('overload with the broker stopped: _QUEUE_FULL after max.block.ms, bounded RSS, one outcome per accepted record', async () => {
  const seconds = Number(process.env['OVERLOAD_SECONDS'] ?? 30)
  const bufferMemory = 32 * 1024 * 1024
  await withPrivateKafka({ nodes: 1 }, async (cluster) => {
    const topic = uniqueTopic('shutdown-overload')
    await createTopic(cluster.bootstrapServers, { name: topic, numPartitions: 6 })
    const child = startChild('overload', cluster.bootstrapServers, topic, {
      OVERLOAD_SECONDS: String(seconds),
    })
    try {
      await child.next('connected', 90_000)
      const node = cluster.nodes[0]!
      await node.stop()
      child.goOn()
      const loop = await child.next('loopDone', (seconds + 60) * 1000)
      console.log(`# overload, ${seconds} s with the broker stopped: ${JSON.stringify(loop)}`)
      const blocked = loop.blockedMs as { min: number; p50: number; max: number }
      assert.ok((loop.sendQueueFull as number) > 0, 'send() met a full buffer')
      assert.ok((loop.produceQueueFull as number) > 0, 'produce() met a full buffer')
      // Timers may fire a little early against performance.now(), never much.
      assert.ok(blocked.min >= 490, `send() gave up after ${blocked.min} ms, before max.block.ms (500)`)
      assert.ok(blocked.p50 < 1_500, `send() waited ${blocked.p50} ms (median) for max.block.ms 500`)
      const limit = bufferMemory + 150e6
      assert.ok(
        (loop.peakRssMiB as number) * 2 ** 20 < limit,
        `peak RSS ${loop.peakRssMiB} MiB, above buffer.memory + 150 MB (${Math.round(limit / 2 ** 20)} MiB)`,
      )

      await node.start()
      child.goOn()
      const r = await child.next('result', 240_000)
      const returned = performance.now()
      console.log(`# overload, after the broker came back: ${JSON.stringify(r)}`)
      assert.equal(r.left, 0, 'everything accepted was delivered once the broker was back')
      for (const kind of ['produce', 'send'] as const) {
        const s = r[kind] as {
          accepted: number
          missing: number
          duplicated: number
          codes: Record<string, number>
        }
        assert.equal(s.missing, 0, `${kind}: every accepted record has an outcome`)
        assert.equal(s.duplicated, 0, `${kind}: none has two`)
        assert.deepEqual(s.codes, { delivered: s.accepted }, kind)
      }
      assert.ok((r.peakRss as number) < limit, `peak RSS ${r.peakRss} bytes including the drain`)
      const exit = await exitWithin(child.exited, 5_000)
      assert.ok(exit, 'the child did not exit by itself within 5 s of close() returning')
      assert.equal(exit.code, 0)
      console.log(`# the child exited ${Math.round(exit.at - returned)} ms after reporting its result`)
    } finally {
      child.kill()
    }
  })
})
