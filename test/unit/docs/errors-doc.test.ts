import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import {
  BROKER_ADVICE,
  ERRORS_DOC_PATH,
  LOCAL_ADVICE,
  REPO_ROOT,
  renderErrorsDoc,
} from '../../../scripts/gen-errors-doc.js'
import { BROKER_ERRORS, LOCAL_ERRORS } from '../../../src/errors/error-table.js'

const REGENERATE = 'regenerate with `npx tsc -p tsconfig.json && node dist/scripts/gen-errors-doc.js`'

describe('docs/errors.md', () => {
  it('is up to date with the error table', async () => {
    const committed = await readFile(REPO_ROOT + ERRORS_DOC_PATH, 'utf8')
    assert.equal(committed, renderErrorsDoc(), REGENERATE)
  })

  it('tells what to do for every local error', () => {
    for (const [name] of LOCAL_ERRORS)
      assert.ok(LOCAL_ADVICE[name], `no advice for ${name} in scripts/gen-errors-doc.ts`)
    const known = new Set(LOCAL_ERRORS.map(([name]) => name))
    for (const name of Object.keys(LOCAL_ADVICE))
      assert.ok(known.has(name), `advice for unknown local error ${name}`)
  })

  it('names only broker codes the table knows', () => {
    const known = new Set(BROKER_ERRORS.map(([, name]) => name))
    for (const name of Object.keys(BROKER_ADVICE)) assert.ok(known.has(name), name)
  })
})
