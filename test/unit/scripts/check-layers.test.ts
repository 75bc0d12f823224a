// The layer check (scripts/check-layers.ts) on the real src/ and on small trees written to a temp folder.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { checkLayers } from '../../../scripts/check-layers.js'

/** Repository root, from dist/test/unit/scripts/. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

const temps: string[] = []
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true })
})

/** Writes `files` (path under src/ -> source) to a fresh temp folder and returns its src/. */
function tree(files: Record<string, string>): string {
  const base = mkdtempSync(join(tmpdir(), 'check-layers-'))
  temps.push(base)
  const src = join(base, 'src')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true })
    writeFileSync(join(src, path), text)
  }
  return src
}

describe('layer check', () => {
  it('passes on the repository src/', () => {
    assert.deepEqual(checkLayers(join(REPO_ROOT, 'src')), [])
  })

  it('accepts imports of the same folder and of lower layers', () => {
    const src = tree({
      'util/clock.ts': 'export const now = () => 0\n',
      'errors/index.ts': "export { now } from '../util/clock.js'\n",
      'network/connection.ts':
        "import { KafkaError } from '../errors/index.js'\nimport type { Reader } from '../protocol/reader.js'\n" +
        "import { FrameReader } from './frame-reader.js'\nimport net from 'node:net'\n",
      'producer/producer.ts': "import { Metadata } from '../cluster/metadata.js'\n",
      'index.ts': "export { Producer } from './producer/producer.js'\n",
    })
    assert.deepEqual(checkLayers(src), [])
  })

  it('fails on an upward import with file, line and the rule broken, type-only imports included', () => {
    const src = tree({
      'protocol/reader.ts':
        '// Reads bytes.\n' +
        "import { KafkaError } from '../errors/index.js'\n" +
        "import type { Connection } from '../network/connection.js'\n",
    })
    const [v, ...rest] = checkLayers(src)
    assert.deepEqual(rest, [])
    assert.equal(v?.file, 'src/protocol/reader.ts')
    assert.equal(v?.line, 3)
    assert.equal(v?.specifier, '../network/connection.js')
    assert.match(v?.message ?? '', /^protocol imports network .*a layer above it: protocol may import only /)
  })

  it('counts re-exports and import() types, and ignores imports in comments and strings', () => {
    const src = tree({
      'cluster/metadata.ts':
        "// import { Producer } from '../producer/producer.js'\n" +
        'const s = "import { x } from \'../producer/x.js\'"\n' +
        "export type P = typeof import('../producer/producer.js')\n" +
        "export { presets } from '../config/presets.js'\n",
    })
    const found = checkLayers(src).map((v) => [v.line, v.specifier])
    assert.deepEqual(found, [
      [3, '../producer/producer.js'],
      [4, '../config/presets.js'],
    ])
  })

  it('fails when sibling layers import each other', () => {
    const src = tree({ 'config/resolve.ts': "import type { Metadata } from '../cluster/metadata.js'\n" })
    const [v] = checkLayers(src)
    assert.match(v?.message ?? '', /config imports cluster .*sibling layers/)
  })

  it('fails on a folder that is not in the layer order and on imports from outside src/', () => {
    const src = tree({
      'cli/main.ts': "import { Producer } from '../producer/producer.js'\n",
      'producer/producer.ts': "import { startKafka } from '../../scripts/kafka/cluster.js'\n",
    })
    const messages = checkLayers(src).map((v) => `${v.file}:${v.line}: ${v.message}`)
    assert.equal(messages.length, 2)
    assert.match(messages[0]!, /^src\/cli\/main\.ts:1: 'cli' is not in the layer order/)
    assert.match(messages[1]!, /^src\/producer\/producer\.ts:1: producer imports .* outside src\//)
  })
})
