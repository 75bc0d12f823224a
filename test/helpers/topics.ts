// Topic helpers for integration tests: unique names, so test files never see each other's data.
import { randomBytes } from 'node:crypto'
import { Admin, type NewTopic } from '../../src/index.js'

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export async function createTopic(bootstrapServers: string, topic: NewTopic): Promise<void> {
  const admin = new Admin({ bootstrapServers })
  try {
    await admin.createTopics([{ replicationFactor: 1, ...topic }], { timeoutMs: 60_000 })
  } finally {
    await admin.close()
  }
}
