/**
 * Fails when a file in src/ imports from a layer above its own or from a sibling layer. Part of
 * `npm run lint`:
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/check-layers.js [src-folder]
 *
 * The layer order is written down here once, in LAYERS; docs/architecture.md describes each layer.
 * Every relative import counts, type-only ones too (`import type`, `export type ... from`,
 * `typeof import(...)`): a type import is still a dependency a reader has to follow. Packages and
 * node: modules are not checked. A folder or root file of src/ that LAYERS does not list fails the
 * check, so a new one gets its place first.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

/**
 * The layers of src/, bottom first. A file may import its own layer and any layer on an earlier line;
 * the names on one line are siblings and do not import each other. A folder is named by its name, a
 * root file of src/ by its file name. A reserved layer has no folder yet: it sits where the code that
 * will use it can import it, and may move when it is written.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['util'], // clock, random source, backoff
  ['errors'], // KafkaError, the error table, ErrorCode
  ['compression', 'observability'], // codecs; the instrumentation events the layers above emit into
  ['protocol'], // Writer/Reader, generated messages, record batches, version negotiation
  ['network'], // one broker connection: framing, correlation ids, timeouts
  ['cluster', 'config'], // metadata and connection pool; configuration catalogue, validation, presets
  ['transactions'], // the transaction manager the producer drives
  ['producer', 'admin'], // the producer; the admin client beside it
  ['reliable'], // ReliableProducer: dead-letter routing and the spool, built on the producer
  ['index.ts'], // public exports only
  ['opentelemetry'], // reliable-kafka/opentelemetry: its own entry point, on the public API
]

export interface Violation {
  /** Path relative to the checked root's parent, e.g. `src/config/catalogue.ts`. */
  readonly file: string
  readonly line: number
  readonly specifier: string
  readonly message: string
}

const RANK = new Map<string, number>(LAYERS.flatMap((names, rank) => names.map((n) => [n, rank] as const)))

/** The layer of a path relative to src/: its first folder, or the file name for a root file. */
function layerOf(pathInSrc: string): string {
  const parts = pathInSrc.split(sep)
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.js$/, '.ts')
}

function below(rank: number): string {
  const names = LAYERS.slice(0, rank).flat()
  return names.length > 0 ? names.join(', ') : 'nothing'
}

function lineOf(text: string, pos: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) line++
  return line
}

function listTs(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) listTs(full, out)
    else if (entry.name.endsWith('.ts')) out.push(full)
  }
  return out
}

/** Checks every .ts file under `srcDir` (a folder laid out like src/). */
export function checkLayers(srcDir: string): Violation[] {
  const root = resolve(srcDir)
  const shown = (p: string): string => relative(dirname(root), p).split(sep).join('/')
  const violations: Violation[] = []
  for (const file of listTs(root, [])) {
    const from = layerOf(relative(root, file))
    const fromRank = RANK.get(from)
    if (fromRank === undefined) {
      violations.push({
        file: shown(file),
        line: 1,
        specifier: '',
        message: `'${from}' is not in the layer order: add it to LAYERS in scripts/check-layers.ts`,
      })
      continue
    }
    const text = readFileSync(file, 'utf8')
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      const spec = ref.fileName
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue
      const line = lineOf(text, ref.pos)
      const target = resolve(dirname(file), spec)
      const inSrc = relative(root, target)
      const at = { file: shown(file), line, specifier: spec }
      if (inSrc === '' || inSrc === '..' || inSrc.startsWith(`..${sep}`)) {
        violations.push({ ...at, message: `${from} imports '${spec}', which is outside ${shown(root)}/` })
        continue
      }
      const to = layerOf(inSrc)
      if (to === from) continue
      const toRank = RANK.get(to)
      if (toRank === undefined) {
        violations.push({
          ...at,
          message: `${from} imports '${spec}' from '${to}', which is not in the layer order`,
        })
      } else if (toRank === fromRank) {
        violations.push({
          ...at,
          message: `${from} imports ${to} ('${spec}'): they are sibling layers, neither may import the other`,
        })
      } else if (toRank > fromRank) {
        violations.push({
          ...at,
          message: `${from} imports ${to} ('${spec}'), a layer above it: ${from} may import only ${below(fromRank)}`,
        })
      }
    }
  }
  return violations
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const srcDir = process.argv[2] ?? fileURLToPath(new URL('../../src', import.meta.url))
  const violations = checkLayers(srcDir)
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`)
  if (violations.length > 0) {
    console.error(`${violations.length} import(s) break the layer order (see scripts/check-layers.ts)`)
    process.exit(1)
  }
}
