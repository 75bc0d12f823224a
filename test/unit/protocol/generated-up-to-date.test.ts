// The committed src/protocol/messages/ must be exactly what scripts/gen-protocol.ts makes from Kafka's
// message definitions in the kafka-clients jar of the test broker's Kafka version; regenerate with
// `node dist/scripts/gen-protocol.js` after a build.
//
// The jar comes from the per-user cache that the broker harness fills (scripts/kafka/jars.ts); when
// it is not there yet this test fetches it with Maven, as starting the broker would. It fails when
// that fails. It is skipped, with the reason, only where the jar cannot be had at all: no Java, or
// no Maven and nothing cached.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  OUT_DIR,
  definitionsFromKafkaJar,
  generateAll,
  kafkaClientsJarPath,
} from '../../../scripts/gen-protocol.js'
import { DEFAULT_KAFKA_VERSION } from '../../../scripts/kafka/jars.js'

function missing(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' })
  return r.error !== undefined || r.status !== 0
}

/** Why the kafka-clients jar cannot be had on this machine, or false when it can. */
function jarUnavailable(): string | false {
  const jar = `kafka-clients-${DEFAULT_KAFKA_VERSION}.jar`
  if (missing('java', ['-version'])) {
    return `needs ${jar}, fetched by the broker harness, which needs Java 17+ (e.g. apt-get install openjdk-17-jre-headless)`
  }
  if (!existsSync(kafkaClientsJarPath()) && missing('mvn', ['-v'])) {
    return `needs ${jar}, which is not cached and needs Maven to fetch (e.g. apt-get install maven)`
  }
  return false
}

describe('generated protocol messages', () => {
  it(
    `match a fresh generation from kafka-clients-${DEFAULT_KAFKA_VERSION}.jar`,
    { skip: jarUnavailable() },
    async () => {
      const files = await generateAll(await definitionsFromKafkaJar())
      const committed = readdirSync(OUT_DIR).filter((f) => f.endsWith('.ts'))
      assert.deepEqual(committed.sort(), [...files.keys()].sort(), 'file list differs: regenerate')
      for (const [name, text] of files) {
        assert.equal(
          readFileSync(join(OUT_DIR, name), 'utf8'),
          text,
          `src/protocol/messages/${name} differs from what scripts/gen-protocol.ts generates: ` +
            'run `npx tsc -p tsconfig.json && node dist/scripts/gen-protocol.js`',
        )
      }
    },
  )
})
