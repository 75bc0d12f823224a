// The producer side of test/integration/shutdown.test.ts, in a process of its own: whether a
// process exits by itself, and how much memory it holds, can only be seen from outside it.
//
//   node dist/test/integration/shutdown-child.js <close|overload> <bootstrap.servers> <topic>
//
// It talks to the test through stdout, one JSON object per line ({ event: ... }), and waits for
// SIGUSR2 wherever the test has to act on the broker (stop it, start it again). It never calls
// process.exit: the test asserts that it ends on its own once the producer is closed.
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import { KafkaError, Producer } from '../../src/index.js'

const [scenario, bootstrap, topic] = process.argv.slice(2)
if (!scenario || !bootstrap || !topic)
  throw new Error('usage: shutdown-child.js <close|overload> <bootstrap> <topic>')

function say(event: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...data })}\n`)
}

/**
 * Resolves at the next SIGUSR2. A signal listener does not keep Node alive, so a timer does while
 * the child waits (the producer, idle, rightly does not).
 */
function nextSignal(): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30)
    process.once('SIGUSR2', () => {
      clearInterval(keepAlive)
      resolve()
    })
  })
}

/** Outcomes per record id: each accepted record must end with exactly one. */
class Outcomes {
  readonly byId = new Map<number, string[]>()
  accepted(id: number): void {
    this.byId.set(id, [])
  }
  add(id: number, err: unknown): void {
    const code =
      err === null ? 'delivered' : err instanceof KafkaError ? err.code : `not a KafkaError: ${String(err)}`
    this.byId.get(id)?.push(code)
  }
  summary(): { accepted: number; missing: number; duplicated: number; codes: Record<string, number> } {
    let missing = 0
    let duplicated = 0
    const codes: Record<string, number> = {}
    for (const list of this.byId.values()) {
      if (list.length === 0) missing++
      if (list.length > 1) duplicated++
      for (const c of list) codes[c] = (codes[c] ?? 0) + 1
    }
    return { accepted: this.byId.size, missing, duplicated, codes }
  }
}

/** The child's peak resident set size, sampled every 50 ms (an unref'd timer). */
function rssSampler(): { peak: () => number; stop: () => void } {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50)
  timer.unref()
  return { peak: () => Math.max(peak, process.memoryUsage.rss()), stop: () => clearInterval(timer) }
}

/** Names handles still open a while after the end, should the test be waiting for an exit in vain. */
function reportLeftoverHandlesLater(): void {
  setTimeout(() => {
    process.stderr.write(
      `shutdown-child: still alive; resources: ${process.getActiveResourcesInfo().join(', ')}\n`,
    )
  }, 3_000).unref()
}

const errors: Record<string, number> = {}
function countError(err: KafkaError): void {
  errors[err.code] = (errors[err.code] ?? 0) + 1
}

/**
 * Records pending with the broker down, of every kind close() has to fail: in batches for a known
 * topic, waiting for the metadata of a topic the producer never saw, and send() calls waiting for
 * buffer space. Then close({ timeoutMs: 1000 }).
 */
async function closeWithBrokerDown(): Promise<void> {
  const producer = new Producer({
    'bootstrap.servers': bootstrap!,
    'client.id': 'shutdown-close',
    'linger.ms': 5,
    'buffer.memory': 1 << 20,
    error_cb: countError,
  })
  await producer.connect({ topics: [topic!], timeoutMs: 60_000 })
  say('connected')
  await nextSignal() // the broker is stopped
  const outcomes = new Outcomes()
  let id = 0
  const small = Buffer.alloc(1024, 'a')
  for (let i = 0; i < 500; i++, id++) {
    const n = id
    producer.produce({ topic: topic!, key: `k${n}`, value: small }, (err) => outcomes.add(n, err))
    outcomes.accepted(n)
  }
  for (let i = 0; i < 100; i++, id++) {
    const n = id
    producer.produce({ topic: `${topic}-unknown`, key: `k${n}`, value: small }, (err) => outcomes.add(n, err))
    outcomes.accepted(n)
  }
  // 64 KiB each: the first few fit in the 1 MiB buffer, the rest wait for space.
  const big = Buffer.alloc(64 * 1024, 'b')
  const sends: Promise<void>[] = []
  for (let i = 0; i < 20; i++, id++) {
    const n = id
    outcomes.accepted(n)
    sends.push(
      producer.send({ topic: topic!, key: `k${n}`, value: big }).then(
        () => outcomes.add(n, null),
        (err: unknown) => outcomes.add(n, err),
      ),
    )
  }
  await sleep(200) // the sender tries the stopped broker meanwhile
  const pendingAtClose = producer.pending
  const started = performance.now()
  await producer.close({ timeoutMs: 1_000 })
  const closeMs = Math.round(performance.now() - started)
  await Promise.all(sends)
  await tick()
  say('result', { closeMs, pendingAtClose, ...outcomes.summary(), errorCb: errors })
  reportLeftoverHandlesLater()
}

/**
 * With the broker stopped, produce() in a loop (sleeping a little after each _QUEUE_FULL) and
 * send() from 16 workers, for `seconds`; then the test starts the broker again and everything
 * accepted must be delivered, each record with one outcome, and the process must exit by itself.
 */
async function overload(seconds: number): Promise<void> {
  const maxBlockMs = 500
  const producer = new Producer({
    'bootstrap.servers': bootstrap!,
    'client.id': 'shutdown-overload',
    'linger.ms': 5,
    'buffer.memory': 32 * 1024 * 1024,
    'max.block.ms': maxBlockMs,
    error_cb: countError,
  })
  await producer.connect({ topics: [topic!], timeoutMs: 60_000 })
  const rss = rssSampler()
  const rssBefore = process.memoryUsage.rss()
  say('connected')
  await nextSignal() // the broker is stopped

  const value = Buffer.alloc(1024, 'v')
  const produced = new Outcomes()
  const sent = new Outcomes()
  let id = 0
  let produceQueueFull = 0
  let sendQueueFull = 0
  const blockedMs: number[] = []
  const sendPromises: Promise<void>[] = []
  const end = Date.now() + seconds * 1000
  const keepAlive = setInterval(() => {}, 1 << 30) // the loops sleep; nothing else may hold Node

  const produceLoop = async (): Promise<void> => {
    while (Date.now() < end) {
      const n = id++
      try {
        producer.produce({ topic: topic!, key: `p${n}`, value }, (err) => produced.add(n, err))
        produced.accepted(n)
      } catch (err) {
        if (!(err instanceof KafkaError) || err.code !== '_QUEUE_FULL') throw err
        produceQueueFull++
        await sleep(5)
      }
      if (n % 500 === 0) await tick()
    }
  }
  // send() settles with the delivery, which waits for the broker: a worker waits for its call at
  // most a little longer than max.block.ms, after which the record was accepted, and goes on.
  const sendWorker = async (): Promise<void> => {
    while (Date.now() < end) {
      const n = id++
      const called = performance.now()
      sent.accepted(n)
      let settled = false
      const p = producer.send({ topic: topic!, key: `s${n}`, value }).then(
        () => sent.add(n, null),
        (err: unknown) => {
          if (err instanceof KafkaError && err.code === '_QUEUE_FULL') {
            // Never accepted: no outcome to wait for.
            sendQueueFull++
            blockedMs.push(performance.now() - called)
            sent.byId.delete(n)
          } else sent.add(n, err)
        },
      )
      sendPromises.push(p.finally(() => (settled = true)))
      await Promise.race([p, sleep(maxBlockMs + 300)])
      if (!settled) await tick()
    }
  }
  await Promise.all([produceLoop(), ...Array.from({ length: 16 }, sendWorker)])
  clearInterval(keepAlive)
  const peakRss = rss.peak()
  blockedMs.sort((a, b) => a - b)
  const pct = (q: number): number => Math.round(blockedMs[Math.floor(q * (blockedMs.length - 1))] ?? -1)
  say('loopDone', {
    seconds,
    pending: producer.pending,
    produceAccepted: produced.byId.size,
    produceQueueFull,
    sendAccepted: sent.byId.size,
    sendQueueFull,
    blockedMs: { min: pct(0), p50: pct(0.5), max: pct(1) },
    rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
  })

  await nextSignal() // the broker is back
  const started = performance.now()
  const left = await producer.flush(120_000)
  const drainMs = Math.round(performance.now() - started)
  await producer.close({ timeoutMs: 10_000 })
  await Promise.all(sendPromises)
  await tick()
  rss.stop()
  say('result', {
    left,
    drainMs,
    produce: produced.summary(),
    send: sent.summary(),
    peakRss: rss.peak(),
    errorCb: errors,
  })
  reportLeftoverHandlesLater()
}

if (scenario === 'close') await closeWithBrokerDown()
else if (scenario === 'overload') await overload(Number(process.env['OVERLOAD_SECONDS'] ?? 30))
else throw new Error(`unknown scenario ${scenario}`)
