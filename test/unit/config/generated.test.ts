import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import {
  CONFIG_DOCS_PATH,
  PRODUCER_CONFIG_PATH,
  REPO_ROOT,
  renderConfigDocs,
  renderProducerConfig,
} from '../../../scripts/gen-config.js'
import { CATALOGUE } from '../../../src/config/index.js'

const REGENERATE = 'regenerate with `npx tsc -p tsconfig.json && node dist/scripts/gen-config.js`'

describe('generated configuration files', () => {
  it(`${PRODUCER_CONFIG_PATH} is up to date`, async () => {
    const committed = await readFile(REPO_ROOT + PRODUCER_CONFIG_PATH, 'utf8')
    assert.equal(committed, await renderProducerConfig(), REGENERATE)
  })

  it(`${CONFIG_DOCS_PATH} is up to date`, async () => {
    const committed = await readFile(REPO_ROOT + CONFIG_DOCS_PATH, 'utf8')
    assert.equal(committed, renderConfigDocs(), REGENERATE)
  })

  it('ProducerConfig has every canonical key and alias, each documented', async () => {
    const source = await readFile(REPO_ROOT + PRODUCER_CONFIG_PATH, 'utf8')
    for (const e of CATALOGUE) {
      for (const name of [e.name, ...e.aliases.map((a) => a.name)]) {
        const prop = /^[A-Za-z_$][\w$]*$/.test(name) ? name : `'${name}'`
        assert.match(source, new RegExp(`\\*/\\n  ${prop.replace(/[.$]/g, '\\$&')}\\?:`), name)
      }
    }
  })
})
