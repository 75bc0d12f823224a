// The package as a user gets it: `npm pack` (which runs `prepare`, the build of dist/lib), a check
// of the tarball's file list, then scratch applications in a temp dir that install the tarball and
// each send one record to a real broker and print its delivery report:
//
//   esm          import, a plain `npm install` (optional packages too), lz4 batches
//   cjs          require() of the ES module (Node >= 20.19 / 22.12), --omit=optional
//   ts-nodenext  TypeScript, module/moduleResolution nodenext, an ES module, --omit=optional
//   ts-cjs       the same source compiled to CommonJS (nodenext, "type": "commonjs")
//   ts-bundler   TypeScript, moduleResolution bundler (module preserve), run by node as ESM
//
// The TypeScript apps are compiled with the repository's tsc, strict and with skipLibCheck off, so the
// shipped .d.ts files are type-checked as a user's compiler would. The apps' sources are in
// test/package/.
//
//   node dist/scripts/pack-test.js [--node <path>]... [--keep]
//
// --node runs every app again under another Node binary (CI passes Node 24); --keep leaves the temp
// dir. A broker is started with scripts/kafka unless KAFKA_BOOTSTRAP_SERVERS names one. Exit code 0
// only if every app delivered its record.

import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startKafka, type KafkaCluster } from './kafka/cluster.js'

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const appsDir = join(repoRoot, 'test', 'package')
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
const INSTALL_FLAGS = ['--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline']
const APP_TIMEOUT_MS = 60_000
const INSTALL_TIMEOUT_MS = 180_000

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'pipe' })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs} ms)`
      child.kill('SIGKILL')
    }, opts.timeoutMs ?? APP_TIMEOUT_MS)
    child.on('error', (err) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}` })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

function describe(what: string, r: Run): string {
  return `${what} exited with ${r.code}\n--- stdout\n${r.stdout.trimEnd()}\n--- stderr\n${r.stderr.trimEnd()}`
}

/** A command that has to succeed; its output is shown only when it fails. */
async function must(
  what: string,
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Run> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new Error(describe(what, r))
  return r
}

/** Environment for child npm and node processes, without what `npm run` set for this package. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle|config_(omit|include|ignore_scripts|prefix|global))/i.test(k)) continue
    if (k === 'INIT_CWD') continue
    env[k] = v
  }
  return { ...env, ...extra }
}

interface PackResult {
  filename: string
  size: number
  unpackedSize: number
  files: { path: string; size: number }[]
}

function listSources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name)
    if (e.isDirectory()) listSources(full, out)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(full)
  }
  return out
}

/**
 * The tarball holds what a user needs and nothing else: for each src/X.ts exactly dist/lib/X.js and
 * dist/lib/X.d.ts (no source maps, no tests, no stale output), package.json, README.md, LICENSE,
 * CHANGELOG.md and docs/*.md.
 */
function checkFiles(pack: PackResult): string[] {
  const problems: string[] = []
  const paths = new Set(pack.files.map((f) => f.path))
  const expected = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'])
  for (const src of listSources(join(repoRoot, 'src'))) {
    const rel = relative(join(repoRoot, 'src'), src).split('\\').join('/').replace(/\.ts$/, '')
    expected.add(`dist/lib/${rel}.js`)
    expected.add(`dist/lib/${rel}.d.ts`)
  }
  for (const p of expected) if (!paths.has(p)) problems.push(`missing from the tarball: ${p}`)
  for (const p of paths) {
    if (!expected.has(p) && !/^docs\/[^/]+\.md$/.test(p)) problems.push(`unexpected in the tarball: ${p}`)
  }
  return problems
}

async function pack(dest: string): Promise<PackResult> {
  const r = await must('npm pack', 'npm', ['pack', '--json', '--pack-destination', dest], {
    cwd: repoRoot,
    env: cleanEnv(),
    timeoutMs: INSTALL_TIMEOUT_MS,
  })
  const json = r.stdout.slice(r.stdout.indexOf('['))
  const [result] = JSON.parse(json) as PackResult[]
  if (!result) throw new Error(`npm pack printed no result:\n${r.stdout}`)
  return result
}

interface App {
  name: string
  /** Source file in test/package/ and its name in the app. */
  source: string
  type: 'module' | 'commonjs'
  omitOptional: boolean
  /** compilerOptions for the TypeScript apps; the file run is out/app.js. */
  tsc?: Record<string, unknown>
}

const TS_COMMON = {
  target: 'ES2022',
  lib: ['ES2022'],
  strict: true,
  skipLibCheck: false,
  types: ['node'],
  // @types/node from the repository: the package's types need Node's, as every Node app has.
  typeRoots: [join(repoRoot, 'node_modules', '@types')],
  outDir: 'out',
  rootDir: '.',
}

const APPS: readonly App[] = [
  { name: 'esm', source: 'esm/app.mjs', type: 'module', omitOptional: false },
  { name: 'cjs', source: 'cjs/app.cjs', type: 'commonjs', omitOptional: true },
  {
    name: 'ts-nodenext',
    source: 'ts/app.ts',
    type: 'module',
    omitOptional: true,
    tsc: { ...TS_COMMON, module: 'nodenext', moduleResolution: 'nodenext' },
  },
  {
    name: 'ts-cjs',
    source: 'ts/app.ts',
    type: 'commonjs',
    omitOptional: true,
    tsc: { ...TS_COMMON, module: 'nodenext', moduleResolution: 'nodenext' },
  },
  {
    name: 'ts-bundler',
    source: 'ts/app.ts',
    type: 'module',
    omitOptional: true,
    tsc: { ...TS_COMMON, module: 'preserve', moduleResolution: 'bundler' },
  },
]

/** Writes the app, installs the tarball into it, compiles it; returns the file to run. */
async function prepareApp(app: App, root: string, tarball: string): Promise<string> {
  const dir = join(root, app.name)
  const file = app.source.split('/').pop()!
  cpSync(join(appsDir, app.source), join(dir, file))
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `pack-test-${app.name}`, private: true, type: app.type }, null, 2),
  )
  const install = ['install', ...INSTALL_FLAGS, ...(app.omitOptional ? ['--omit=optional'] : []), tarball]
  await must(`${app.name}: npm ${install.join(' ')}`, 'npm', install, {
    cwd: dir,
    env: cleanEnv(),
    timeoutMs: INSTALL_TIMEOUT_MS,
  })
  if (!app.tsc) return file
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: app.tsc, files: [file] }, null, 2),
  )
  await must(`${app.name}: tsc`, process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir })
  return join('out', file.replace(/\.ts$/, '.js'))
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string', multiple: true, default: [] },
      keep: { type: 'boolean', default: false },
    },
  })
  const nodes = [process.execPath, ...values.node]
  const started = Date.now()
  const root = mkdtempSync(join(tmpdir(), 'reliable-kafka-pack-'))
  const log = (line: string): void => console.log(`pack-test: ${line}`)

  // The broker starts while the tarball is packed and installed.
  let cluster = null as KafkaCluster | null
  const given = process.env['KAFKA_BOOTSTRAP_SERVERS']
  const broker: Promise<string> = given
    ? Promise.resolve(given)
    : startKafka({ nodes: 1 }).then((c) => {
        cluster = c
        log(`Kafka ${c.version} ready at ${c.bootstrapServers} (${Date.now() - started} ms)`)
        return c.bootstrapServers
      })
  broker.catch(() => {}) // awaited below; this only keeps an early failure from being unhandled

  let passed = 0
  let failed = 0
  try {
    const packed = await pack(root)
    const tarball = join(root, packed.filename)
    log(
      `${packed.filename}: ${packed.files.length} files, ${(packed.size / 1024).toFixed(1)} kB packed, ` +
        `${(packed.unpackedSize / 1024).toFixed(1)} kB unpacked (${Date.now() - started} ms)`,
    )
    const problems = checkFiles(packed)
    for (const p of problems) console.error(`pack-test: ${p}`)
    if (problems.length > 0) failed++
    else {
      passed++
      log(
        'ok tarball: dist/lib .js and .d.ts for each src file, package.json, README, LICENSE, CHANGELOG, docs',
      )
    }

    const entries: { app: App; file: string }[] = []
    for (const app of APPS) {
      try {
        entries.push({ app, file: await prepareApp(app, root, tarball) })
        log(`${app.name}: installed${app.tsc ? ' and compiled' : ''} (${Date.now() - started} ms)`)
      } catch (err) {
        failed++
        console.error(`pack-test: FAIL ${app.name}: ${(err as Error).message}`)
      }
    }

    const bootstrapServers = await broker
    for (const node of nodes) {
      const version = (await must('node --version', node, ['--version'], { cwd: root })).stdout.trim()
      for (const { app, file } of entries) {
        const env = cleanEnv({
          KAFKA_BOOTSTRAP_SERVERS: bootstrapServers,
          PACK_TEST_APP: app.name,
          PACK_TEST_TOPIC: `pack-test-${app.name}`,
        })
        const r = await run(node, [file], { cwd: join(root, app.name), env })
        const line = r.stdout.split('\n').find((l) => /^delivered \S+\[\d+\]@\d+ /.test(l))
        if (r.code === 0 && line !== undefined && r.stderr.trim() === '') {
          passed++
          log(`ok ${app.name} on Node ${version}: ${line}`)
        } else {
          failed++
          const why = r.stderr.trim() !== '' && r.code === 0 ? ' (it wrote to stderr)' : ''
          console.error(`pack-test: FAIL ${app.name} on Node ${version}${why}: ${describe(file, r)}`)
        }
      }
    }
  } catch (err) {
    failed++
    console.error(`pack-test: ${(err as Error).message}`)
  } finally {
    await broker.catch((err: unknown) => {
      failed++
      console.error(`pack-test: the broker did not start: ${(err as Error).message}`)
    })
    if (cluster !== null) await cluster.stop()
    if (values.keep) log(`apps kept in ${root}`)
    else rmSync(root, { recursive: true, force: true })
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  // The plain closing line CI reads.
  console.log(`pack-test: ${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  },
)
