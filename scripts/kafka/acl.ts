// ACLs on a secured cluster (`startKafka({ security: true })`, security.ts), added with Kafka's own
// AclCommand over the cluster's PLAINTEXT listener, whose principal (User:ANONYMOUS) is a super user.
// The authorizer denies whatever no ACL allows (allow.everyone.if.no.acl.found=false).

import { runKafkaTool } from './tools.js'

/** `--resource-pattern-type`: the exact name, or every name starting with it. */
export type AclPatternType = 'literal' | 'prefixed'

/** AclCommand's operation names. */
export type AclOperation =
  | 'All'
  | 'Read'
  | 'Write'
  | 'Create'
  | 'Delete'
  | 'Alter'
  | 'Describe'
  | 'ClusterAction'
  | 'DescribeConfigs'
  | 'AlterConfigs'
  | 'IdempotentWrite'

/** The resource an ACL is on; the cluster resource has no name. */
export type AclResource = { type: 'topic' | 'group' | 'transactional-id'; name: string } | { type: 'cluster' }

export interface AclSpec {
  /** `type:name`, e.g. `User:alice`, or `security.clientPrincipal` (`User:CN=client`). */
  principal: string
  operations: readonly AclOperation[]
  resource: AclResource
  /** Default 'literal'. */
  patternType?: AclPatternType
  /** A DENY ACL instead of ALLOW (a deny wins over any allow). */
  deny?: boolean
}

export interface AclOptions {
  /** Default 'literal': only the resource of this name; 'prefixed': every name starting with it. */
  patternType?: AclPatternType
}

/** Anything with the PLAINTEXT bootstrap servers: a KafkaCluster. */
export interface AclTarget {
  readonly bootstrapServers: string
}

const ACL_COMMAND = 'org.apache.kafka.tools.AclCommand'

function resourceArgs(resource: AclResource): string[] {
  if (resource.type === 'cluster') return ['--cluster']
  return [`--${resource.type}`, resource.name]
}

/**
 * Adds the ACLs of `spec` (one per operation, any host) with AclCommand and resolves once the command
 * succeeded. A broker applies an ACL when it replays the metadata record, just after the command's
 * answer: a client started afterwards (a JVM takes a second to start) finds it in place, but a client
 * already running may race it.
 */
export async function addAcls(target: AclTarget, spec: AclSpec): Promise<void> {
  if (!/^[A-Za-z]+:./.test(spec.principal)) {
    throw new Error(
      `addAcls: principal must be type:name (e.g. User:alice), not ${JSON.stringify(spec.principal)}`,
    )
  }
  if (spec.operations.length === 0) throw new Error('addAcls: no operations')
  await runKafkaTool(ACL_COMMAND, [
    '--bootstrap-server',
    target.bootstrapServers,
    '--add',
    spec.deny ? '--deny-principal' : '--allow-principal',
    spec.principal,
    ...spec.operations.flatMap((op) => ['--operation', op]),
    ...resourceArgs(spec.resource),
    '--resource-pattern-type',
    spec.patternType ?? 'literal',
  ])
}

/**
 * Lets `principal` produce to `topic`: WRITE and DESCRIBE on it. Since Kafka 3.0 (KIP-679) WRITE on a
 * topic also allows idempotent produce, so no cluster IDEMPOTENT_WRITE is needed (the secured broker
 * needs 3.5 anyway). Topics are not created for the principal: create them over PLAINTEXT first, or
 * rely on auto-creation, which needs CREATE (`addAcls`).
 */
export async function allowProduce(
  target: AclTarget,
  principal: string,
  topic: string,
  opts: AclOptions = {},
): Promise<void> {
  await addAcls(target, {
    principal,
    operations: ['Write', 'Describe'],
    resource: { type: 'topic', name: topic },
    ...opts,
  })
}

/**
 * Lets `principal` use `transactionalId`: WRITE and DESCRIBE on the TransactionalId resource. A
 * transactional producer also needs `allowProduce` on its topics, and READ on the consumer group it
 * commits offsets for (`addAcls` with `{ type: 'group' }`).
 */
export async function allowTransactionalId(
  target: AclTarget,
  principal: string,
  transactionalId: string,
  opts: AclOptions = {},
): Promise<void> {
  await addAcls(target, {
    principal,
    operations: ['Write', 'Describe'],
    resource: { type: 'transactional-id', name: transactionalId },
    ...opts,
  })
}

/** AclCommand's `--list` output: every ACL of the cluster, or those of `principal`. */
export async function listAcls(target: AclTarget, principal?: string): Promise<string> {
  return runKafkaTool(ACL_COMMAND, [
    '--bootstrap-server',
    target.bootstrapServers,
    '--list',
    ...(principal !== undefined ? ['--principal', principal] : []),
  ])
}
