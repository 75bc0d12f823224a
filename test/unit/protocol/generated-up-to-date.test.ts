// The committed src/protocol/messages/ must be exactly what scripts/gen-protocol.ts makes from the
// definitions; regenerate with `node dist/scripts/gen-protocol.js` after a build.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { DEFAULT_DEFS_DIR, OUT_DIR, generateAll } from '../../../scripts/gen-protocol.js'

const defsDir = process.env['KAFKA_PROTOCOL_DIR']
  ? resolve(OUT_DIR, '../../..', process.env['KAFKA_PROTOCOL_DIR'])
  : DEFAULT_DEFS_DIR

describe('generated protocol messages', () => {
  const skip = existsSync(defsDir)
    ? false
    : `definitions folder ${defsDir} is absent (set KAFKA_PROTOCOL_DIR)`
  it('match a fresh generation from the definitions', { skip }, async () => {
    const files = await generateAll(defsDir)
    const committed = readdirSync(OUT_DIR).filter((f) => f.endsWith('.ts'))
    assert.deepEqual(committed.sort(), [...files.keys()].sort(), 'file list differs: regenerate')
    for (const [name, text] of files) {
      assert.equal(
        readFileSync(join(OUT_DIR, name), 'utf8'),
        text,
        `${name} is stale: run node dist/scripts/gen-protocol.js`,
      )
    }
  })
})
