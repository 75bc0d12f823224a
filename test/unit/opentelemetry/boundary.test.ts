// `@opentelemetry/api` is an optional peer dependency: only the reliable-kafka/opentelemetry entry
// point may import it. Anything else in src/ that did would make `import 'reliable-kafka'` fail for
// every application without OpenTelemetry installed.
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const src = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..', 'src')

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name)
    if (e.isDirectory()) files(full, out)
    else if (e.name.endsWith('.ts')) out.push(full)
  }
  return out
}

describe('the OpenTelemetry boundary', () => {
  it('no file outside src/opentelemetry/ imports @opentelemetry/*, and src/opentelemetry/ does', () => {
    const importing = files(src)
      .filter((f) => /from '@opentelemetry\/|import\('@opentelemetry\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(src, f).split('\\').join('/'))
    assert.ok(importing.length > 0)
    assert.deepEqual(
      importing.filter((f) => !f.startsWith('opentelemetry/')),
      [],
    )
  })
})
