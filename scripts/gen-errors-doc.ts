/**
 * Generates docs/errors.md from the error table (src/errors/error-table.ts) and the advice below.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/gen-errors-doc.js
 *
 * The table decides each code's number, name, `retriable` flag and description; this script adds when a
 * producer sees the code and what to do about it. test/unit/docs/errors-doc.test.ts fails when the
 * committed doc differs from what this produces, or when a local error has no advice here.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { BROKER_ERRORS, LOCAL_ERRORS } from '../src/errors/error-table.js'

/** Repository root, from dist/scripts/gen-errors-doc.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const ERRORS_DOC_PATH = 'docs/errors.md'

export interface Advice {
  /** Where the producer reports it: thrown by a call, in a delivery report, to error_cb. */
  readonly where: string
  /** What the application should do. */
  readonly todo: string
}

const REPORT = 'delivery report'
/** What a fatal idempotence error does; the same for every fatal code. */
const FATAL =
  'Fatal (`fatal: true`): the producer stops. Every record without a report fails with this error, produce() ' +
  'and send() throw it from then on, `producer.fatal` holds it and error_cb receives it once; close() still ' +
  'works. Close this producer and create a new one (it gets a new producer id), then produce again what failed.'
const RETRIED =
  'Retried by the client until delivery.timeout.ms; the report then says _MSG_TIMED_OUT, with the last error in ' +
  'its message and `cause` when the deadline passed during a retry. Seen as itself only when `retries` ran out first.'

/** Local (`_`-prefixed) errors: every one of them must have an entry (the unit test checks). */
export const LOCAL_ADVICE: Readonly<Record<string, Advice>> = {
  _MSG_TIMED_OUT: {
    where: REPORT,
    todo:
      'The record was not acknowledged within delivery.timeout.ms: the broker was unreachable, had no leader, ' +
      'or kept answering with a retriable error (see the message and `cause`). It may or may not have been ' +
      'written. Route it to a dead-letter store or produce it again later; raise delivery.timeout.ms if outages ' +
      'of that length are normal. `retriable` is false, yet producing again often succeeds.',
  },
  _QUEUE_FULL: {
    where: 'thrown by produce(); send() rejects with it after max.block.ms',
    todo:
      'buffer.memory or queue.buffering.max.messages is exhausted: the application produces faster than the ' +
      'cluster acknowledges. Wait for deliveries (`await producer.flush(ms)`) and call produce() again, or use ' +
      'send(), which waits for space. Nothing was enqueued, so there is no delivery report.',
  },
  _TRANSPORT: {
    where: `${REPORT} (only when retries ran out)`,
    todo: `A broker connection failed or closed. ${RETRIED} Check that the advertised listeners are reachable.`,
  },
  _AUTHENTICATION: {
    where:
      "a SASL connection's setup: the records waiting for that broker (delivery reports), error_cb once per " +
      'broker',
    todo:
      "The connection's authentication step failed with an error of its own: the broker's SASL answer was " +
      'malformed, the SCRAM server signature did not verify, or the oauth_cb token callback threw or returned ' +
      'no usable token (a refusal by the broker keeps its own code, SASL_AUTHENTICATION_FAILED); `cause` holds ' +
      'what failed. The records waiting for that broker fail with it at once; reconnects go on with ' +
      'reconnect.backoff.ms doubling to reconnect.backoff.max.ms. Check the credentials, the mechanism and ' +
      'the token callback.',
  },
  _ALL_BROKERS_DOWN: {
    where: 'error_cb; connect() and partitionsFor() reject with it',
    todo:
      'A metadata refresh reached no broker. Records keep waiting until delivery.timeout.ms. Check ' +
      'bootstrap.servers and the network; log it and alert if it persists. From connect() and partitionsFor(): ' +
      "no broker answered within the call's timeout; `cause` is the last refresh's failure, if one ended.",
  },
  _SSL: {
    where:
      "a TLS connection's setup: the records waiting for that broker (delivery reports), error_cb once per " +
      'broker',
    todo:
      'The TLS handshake with a broker failed, and trying again meets the same certificates. The message ' +
      "names the failure: the broker's certificate is not trusted (set ssl.ca.location to the CA that " +
      'signed it), does not match the host name (connect with a name the certificate lists, or set ' +
      'ssl.endpoint.identification.algorithm=none), has expired or is not yet valid (renew it, check the ' +
      'clock); the broker refused our certificate or wants one (ssl.certificate.location and ssl.key.location, ' +
      "or ssl.keystore.location, signed by a CA in the broker's truststore); or the port is not a TLS " +
      "listener. `cause` is Node's error. A TLS setting that cannot be used at all (unreadable file, wrong " +
      'password, JKS store) is reported earlier, by the constructor, as _INVALID_ARG naming the key.',
  },
  _TIMED_OUT: {
    where:
      `${REPORT} (only when retries ran out); Admin calls; connect() and partitionsFor(); initTransactions(), ` +
      'commitTransaction() and abortTransaction()',
    todo:
      `A request got no response within request.timeout.ms; the connection is closed. ${RETRIED} From ` +
      'connect() and partitionsFor(): the cluster answered, but what the call waits for (a producer id, a ' +
      "topic's metadata) did not come within its timeout; `cause` is the last error met, if any. From " +
      'commitTransaction() or abortTransaction(): the commit or abort goes on and its outcome is not known ' +
      'yet; call the same method again, never abort a commit (docs/transactions.md, Error handling). From ' +
      'initTransactions(): call it again.',
  },
  _INVALID_ARG: {
    where: 'thrown by the constructor (ConfigError), produce() and send()',
    todo:
      'A bad configuration value or record (no value, wrong type, bad header, negative timestamp or partition). ' +
      'A programming error: fix the call. ConfigError names the key and suggests the closest one for a typo. ' +
      'TLS material that cannot be used (an unreadable file, a wrong key password, a JKS store) and SASL ' +
      'settings that cannot work (GSSAPI, PLAIN or SCRAM without a password, OAUTHBEARER without oauth_cb) ' +
      'are reported here too, by the constructor, naming the key and never its secret.',
  },
  _STATE: {
    where:
      'thrown by produce(), send() and beginTransaction(); connect(), partitionsFor() and the other ' +
      'transactional calls reject with it',
    todo:
      'The producer is closing or closed. Produce before close(), or create a new producer. (After a fatal error ' +
      'they throw that error instead.) With a transactional.id: a call the transaction state does not allow, ' +
      'such as produce() or send() outside a transaction or a second beginTransaction() before the first ' +
      'transaction ended; `producer.transactionState` says where the producer is (docs/transactions.md, States). ' +
      'A programming error: fix the order of the calls.',
  },
  _DESTROY: {
    where: REPORT,
    todo:
      'close() gave up waiting (its timeout passed) with the record still undelivered. It may or may not have ' +
      'been written (a request could be in flight). Route it to a dead-letter store, or give close() more time. ' +
      'connect() and partitionsFor() still waiting when close() is called reject with it too.',
  },
  _UNKNOWN_TOPIC: {
    where: `${REPORT}; connect({ topics }) and partitionsFor() reject with it`,
    todo:
      'The topic was still missing after topic.metadata.propagation.max.ms: the broker does not create topics ' +
      '(auto.create.topics.enable=false, as on many production clusters) or the producer asked it not to ' +
      '(allow.auto.create.topics=false). Create it or fix the name; `kafkaCode` and `cause` carry the broker ' +
      'error (usually 3).',
  },
  _UNKNOWN_PARTITION: {
    where: 'thrown by produce()/send() when the topic metadata is known; otherwise in the delivery report',
    todo:
      'An explicit partition, or a partitioner function result, outside [0, partitionCount). Fix the partition ' +
      'or the partitioner; only this record is failed.',
  },
  _FATAL: {
    where: 'not raised today',
    todo:
      'Reserved. Fatal idempotence errors keep their broker code (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, ...) ' +
      'with `fatal: true`; check `err.fatal`, not this code. Close the producer and create a new one.',
  },
  _BAD_MSG: {
    where: `${REPORT} (only when retries ran out)`,
    todo:
      'Bytes from a broker could not be decoded (an answer to no request, an impossible frame size, an answer larger ' +
      'than its request can produce), or a produce response left a partition out. The connection is closed and the ' +
      `request retried. ${RETRIED} Also the reason, not retriable, when a broker sends invalid metadata for a topic ` +
      "(partition indexes that are not 0 to n-1): that topic's records fail at once. Report it as a bug with the broker version.",
  },
  _BAD_COMPRESSION: {
    where: REPORT,
    todo:
      "The codec threw while compressing a batch (e.g. its native package is broken or out of memory); the batch's " +
      "records fail with the codec's message as `cause` and are not retried. Check the codec package installation, " +
      'or use another compression.type.',
  },
  _NOT_IMPLEMENTED: {
    where: 'thrown by the constructor',
    todo:
      "A codec's optional package is missing: lz4 needs lz4-napi, snappy needs snappy, zstd needs " +
      '@toondepauw/node-zstd on Node < 22.15 (the message names the package to install). Choose another codec, ' +
      'or install the package. See the README, Status.',
  },

  _UNSUPPORTED_FEATURE: {
    where: `${REPORT}; \`producer.fatal\` and error_cb when idempotence is on`,
    todo:
      'The broker and this client share no version of a request. Records fail at once: Produce needs v3 ' +
      '(record batch v2, Kafka 0.11). With idempotence on (the default) a broker without InitProducerId ' +
      '(before 0.11, or a Kafka-compatible service without idempotent producers) stops the producer at once ' +
      '(`fatal: true`); set enable.idempotence to false, or upgrade the broker. Kafka 2.1 or newer supports ' +
      'every configuration (README, Supported brokers).',
  },
  _PURGE_QUEUE: {
    where: `${REPORT} (a record of a transaction being aborted, or dropped by purge())`,
    todo:
      'abortTransaction() or purge() was called before the record was sent: it was not written and will not ' +
      'be. Expected after an abort; produce it again in the next transaction if the work is done again. Records ' +
      'of the same transaction that were already written report success, and are invisible to read_committed ' +
      'consumers all the same (docs/transactions.md). After purge(), route it like any failed report ' +
      '(docs/reliability.md). A record that was sent before and was waiting for a retry (its leader died, its ' +
      'answer was lost) may be in the log all the same (after an abort, invisible as well): its message says so.',
  },
  _APPLICATION: {
    where:
      'error_cb (a delivery callback); for a partitioner function, thrown by produce()/send() when the topic ' +
      'metadata is known, otherwise in the delivery report',
    todo:
      'A delivery callback threw: the producer carries on and the exception is passed to error_cb as `cause`; ' +
      'without an error_cb it is lost, so catch inside your callbacks. A partitioner function threw: only that ' +
      'record fails, with the exception as `cause`. Fix the function.',
  },
  _ABORTED: {
    where: 'send() rejects with it',
    todo:
      'The AbortSignal given to send() was aborted before the record was in a batch (while send() waited for ' +
      "buffer space, or for its topic's metadata): the record was not written and will not be. `cause` is " +
      "`signal.reason`. Once a record is in a batch, aborting changes nothing for it: send()'s promise settles " +
      'with its delivery outcome. Expected after an abort; nothing to do.',
  },
}

/** Broker codes a producer can receive today from Produce and Metadata responses. */
export const BROKER_ADVICE: Readonly<Record<string, string>> = {
  UNKNOWN_SERVER_ERROR:
    'The broker failed unexpectedly, or sent a code this client does not know (`kafkaCode` keeps the number). ' +
    'Reported at once; check the broker log, then produce again or dead-letter.',
  CORRUPT_MESSAGE: `The broker rejected the batch's CRC or format. ${RETRIED} Persisting: a client bug; report it.`,
  UNKNOWN_TOPIC_OR_PARTITION:
    'Metadata: the topic does not exist (yet); records wait up to topic.metadata.propagation.max.ms, then fail ' +
    `with _UNKNOWN_TOPIC. Produce: the leader moved; metadata is refreshed. ${RETRIED}`,
  LEADER_NOT_AVAILABLE: `A leader election is in progress; metadata is refreshed. ${RETRIED}`,
  NOT_LEADER_OR_FOLLOWER: `The leader moved; metadata is refreshed. ${RETRIED}`,
  REQUEST_TIMED_OUT:
    `The broker could not get the acks=all replicas in time (request.timeout.ms is the ack timeout). ${RETRIED} ` +
    'May have been written: with idempotence (the default) the broker recognises the retry and keeps one ' +
    'copy; without it a retry can duplicate.',
  BROKER_NOT_AVAILABLE: 'A broker named by metadata is down. Check the cluster.',
  REPLICA_NOT_AVAILABLE: `Metadata: a replica is offline. ${RETRIED}`,
  MESSAGE_TOO_LARGE:
    "Thrown by produce()/send() when the record exceeds message.max.bytes; in a report when it exceeds the topic's " +
    'max.message.bytes. Not retried. Make the record smaller, or raise both limits. Also reported, with ' +
    'socket.request.max.bytes in the message, for a record the broker keeps cutting off while it is written: it is ' +
    "larger than the broker's socket.request.max.bytes (100 MiB by default); keep message.max.bytes below that.",
  NETWORK_EXCEPTION: `The broker closed the connection before answering. ${RETRIED}`,
  INVALID_TOPIC_EXCEPTION:
    'Thrown by produce()/send() for a name that is not 1 to 249 of [a-zA-Z0-9._-]; in a report when the broker ' +
    'rejects the topic (e.g. an internal topic). Fix the topic name.',
  RECORD_LIST_TOO_LARGE: "The batch exceeds the broker's segment size. Lower batch.size.",
  NOT_ENOUGH_REPLICAS:
    `Fewer in-sync replicas than the topic's min.insync.replicas (acks=all); nothing was written. ${RETRIED} ` +
    'Check broker health.',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    `Written to the leader, but the in-sync set shrank before it was replicated. ${RETRIED} With idempotence ` +
    'the retry is recognised as a duplicate; without it a retry may duplicate.',
  INVALID_REQUIRED_ACKS: 'The broker rejected the acks value. Use all, 1 or 0.',
  SASL_AUTHENTICATION_FAILED:
    'The broker refused the credentials (wrong user name or password, an expired or invalid token, or a ' +
    're-authentication refused, KIP-368). The records waiting for that broker fail with it at once, error_cb ' +
    'hears it once per broker, and reconnects back off exponentially (reconnect.backoff.ms to ' +
    'reconnect.backoff.max.ms) in case the credentials are fixed on the broker. Fix sasl.username and ' +
    'sasl.password (or sasl.jaas.config, or the token oauth_cb returns).',
  UNSUPPORTED_SASL_MECHANISM:
    "The broker's listener does not enable sasl.mechanism; the message lists the mechanisms it does. Handled " +
    'like SASL_AUTHENTICATION_FAILED. Set one of them, or enable the mechanism on the listener ' +
    '(sasl.enabled.mechanisms).',
  ILLEGAL_SASL_STATE:
    'The broker received a SASL request it did not expect at that point of the exchange (a client or broker ' +
    'bug). Handled like SASL_AUTHENTICATION_FAILED.',
  TOPIC_AUTHORIZATION_FAILED:
    'No Write (or Describe) permission on the topic; fails at once, from metadata or produce. Fix the ACLs.',
  CLUSTER_AUTHORIZATION_FAILED:
    'The principal lacks a cluster permission the request needs. With idempotence (the default) it comes from ' +
    'InitProducerId or Produce: the principal may not write idempotently (Kafka 3.0+ wants Write on a topic, ' +
    `older brokers IdempotentWrite on the cluster). ${FATAL} Fix the ACLs, or set enable.idempotence to false.`,
  INVALID_TIMESTAMP:
    "The record's timestamp is outside the topic's message.timestamp.before/after.max.ms window. Fix the event time.",
  UNSUPPORTED_VERSION:
    'The broker does not support the request version sent. Kafka 2.1 or newer is needed; upgrade the broker.',
  UNSUPPORTED_FOR_MESSAGE_FORMAT:
    'The topic uses an old message format. Upgrade the topic/broker configuration.',
  POLICY_VIOLATION:
    'A broker policy rejected the request (for example auto-creating a topic). Create the topic explicitly.',
  INVALID_REPLICATION_FACTOR:
    'Metadata with auto-creation: the broker cannot create the topic with its default replication factor. ' +
    'Create the topic explicitly.',
  KAFKA_STORAGE_ERROR: `The leader's log directory failed; metadata is refreshed. ${RETRIED}`,
  LISTENER_NOT_FOUND: `Metadata: the leader has no listener of the name used to connect. ${RETRIED} Check advertised.listeners.`,
  FENCED_LEADER_EPOCH: `Stale leader information; metadata is refreshed. ${RETRIED}`,
  UNKNOWN_LEADER_EPOCH: `The broker is behind on leadership; metadata is refreshed. ${RETRIED}`,
  UNSUPPORTED_COMPRESSION_TYPE:
    'The broker does not accept the codec: zstd needs Produce v7 (Kafka 2.1+). Against an older leader the ' +
    'producer fails zstd batches with it at once, without sending them. Choose lz4, gzip or snappy, or ' +
    'upgrade the broker.',
  INVALID_RECORD:
    'The broker rejected a record, e.g. a null key on a compacted topic. The message says which. Fix the record.',
  UNKNOWN_TOPIC_ID: `The topic was deleted and recreated; metadata is refreshed. ${RETRIED}`,
  OUT_OF_ORDER_SEQUENCE_NUMBER:
    'Idempotence: the batch does not follow the last one the broker has for this producer and partition. ' +
    'Handled by the producer, although the flag says no: for a batch behind one that failed, it is resent ' +
    'after that one; for the next batch in line (a real gap), the producer bumps its epoch once nothing is in ' +
    'flight (KIP-360) and resends the unacknowledged batches with fresh sequences. The application sees it only ' +
    'when `retries` ran out (as itself) or delivery.timeout.ms passed (as _MSG_TIMED_OUT, usually with this ' +
    'error as `cause`). Nothing to do.',
  DUPLICATE_SEQUENCE_NUMBER:
    'Idempotence: the broker already has this batch (an earlier attempt was written but its answer was lost). ' +
    'Never an error for the application: the records are reported delivered, with offset -1 because the broker ' +
    'does not say where it wrote them. Nothing to do; do not rely on the offset of a report.',
  INVALID_PRODUCER_EPOCH: `Idempotence: the broker knows a newer epoch of this producer id. For a batch from an epoch the producer already left, it is resent under the current one. For the current epoch: ${FATAL}`,
  INVALID_PRODUCER_ID_MAPPING: `Idempotence: the broker does not accept this producer id. ${FATAL}`,
  UNKNOWN_PRODUCER_ID:
    "Idempotence: the broker no longer has this producer's state (its records were deleted by retention, or " +
    'producer.id.expiration.ms passed without writes). Handled by the producer, although the flag says no: it ' +
    'bumps its epoch once nothing is in flight (KIP-360) and resends. The application sees it only when ' +
    '`retries` ran out (as itself) or delivery.timeout.ms passed (as _MSG_TIMED_OUT). Nothing to do.',
  INVALID_TXN_STATE:
    'The coordinator and this producer disagree about the transaction (e.g. EndTxn for a transaction it ' +
    `does not have). ${FATAL} See docs/transactions.md.`,
  INVALID_TRANSACTION_TIMEOUT:
    "From initTransactions(): transaction.timeout.ms is above the brokers' transaction.max.timeout.ms " +
    `(15 minutes by default). Lower it, or raise the broker setting. ${FATAL}`,
  CONCURRENT_TRANSACTIONS:
    'The coordinator is still finishing the previous transaction (writing its markers). Retried by the ' +
    'producer after 20 ms, doubling up to retry.backoff.ms; never reported while retries go on.',
  TRANSACTION_COORDINATOR_FENCED:
    'A newer coordinator took over the transactional id; the producer looks the coordinator up again ' +
    'and retries.',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: `This principal may not use its transactional.id (ACL on the TransactionalId resource). ${FATAL}`,
  TRANSACTION_ABORTABLE:
    'The coordinator aborted or will only abort the transaction (KIP-890; e.g. it timed out). ' +
    'err.txnRequiresAbort: call abortTransaction(), then redo the work in a new transaction.',
  COORDINATOR_LOAD_IN_PROGRESS:
    'The transaction or group coordinator is loading its log (after a restart or a move). Retried with ' +
    'backoff; reported only when a call times out.',
  COORDINATOR_NOT_AVAILABLE:
    'No coordinator for the transactional id or group right now (e.g. its broker is down). The producer ' +
    'looks it up again and retries; reported only when a call times out.',
  NOT_COORDINATOR:
    'The coordinator moved to another broker. The producer looks it up again (FindCoordinator) and ' +
    'retries.',
  PRODUCER_FENCED:
    'Another producer took over this producer id (with transactions: a newer instance with the same ' +
    `transactional.id called initTransactions(); let that one work and stop this one). ${FATAL}`,
}

/** Codes that come only with SASL, which is not implemented yet. */

const INTRO = `# Errors

<!-- Generated by scripts/gen-errors-doc.ts from src/errors/error-table.ts. Do not edit by hand:
     change the advice in the script and run \`npx tsc -p tsconfig.json && node dist/scripts/gen-errors-doc.js\`. -->

Every error is a \`KafkaError\` (\`ConfigError\` is a subclass) with:

| field | meaning |
| --- | --- |
| \`code\` | Kafka's error name (\`NOT_LEADER_OR_FOLLOWER\`) or a local one starting with \`_\` (\`_MSG_TIMED_OUT\`); typed \`KafkaErrorCode\`, the union of the names below, so a misspelled comparison does not compile |
| \`kafkaCode\` | the protocol error number, when a broker code is involved |
| \`retriable\` | the operation may succeed if it is tried again (Java's \`RetriableException\`) |
| \`fatal\` | the producer cannot continue (an idempotence error such as \`PRODUCER_FENCED\`): see [Fatal errors](#fatal-errors) |
| \`txnRequiresAbort\` | the transaction cannot commit: abort it, then do the work again in a new one (see [Transactions](#transactions)) |
| \`message\`, \`cause\` | what happened, and the underlying error (e.g. the last broker error behind a timeout) |

Errors reach the application in three places:

1. **Thrown** (or, for \`send()\`, rejected before the record was accepted): a bad configuration
   (\`ConfigError\`, \`_NOT_IMPLEMENTED\`), an invalid record, a full buffer (\`_QUEUE_FULL\`), a closed
   producer or a record outside a transaction (\`_STATE\`), a producer stopped by a fatal error (that
   error). Nothing was enqueued; there is no delivery report.
2. **In the delivery report** of an accepted record: the \`err\` argument of the \`produce()\` callback
   (and of \`dr_msg_cb\`), or the rejection of \`send()\`. Every accepted record gets exactly one report.
3. **\`error_cb\`**: client-level trouble that concerns no single record (\`_ALL_BROKERS_DOWN\`, a
   throwing callback, a fatal error). Informational: records keep their own reports.

## A failed delivery report is final

The client has already retried. A retriable failure (a leader change, a lost connection, too few
in-sync replicas) is retried with backoff until \`delivery.timeout.ms\` (2 minutes by default); only
then does the record fail, usually with \`_MSG_TIMED_OUT\`. Nothing retries it after the report.

So \`retriable\` on a report means "producing this record **again** may succeed", not "the client
will retry it". The guide's simple pattern

\`\`\`python
if err.retriable():
    print(f"Retriable error for {msg.key()}: {err}")   # "will auto-retry" -- it will not
else:
    send_to_dlq(msg, err)
\`\`\`

loses every record whose final error is retriable. Route **every** failed report somewhere: a
dead-letter topic, a table, a retry queue of your own.

\`\`\`ts
const failed: { report: DeliveryReport; err: KafkaError }[] = []
producer.produce(record, (err, report) => {
  if (err) failed.push({ report, err }) // any code, retriable or not: the record was not delivered
})
// Later, from async code (not inside the callback, where a throw would be swallowed):
for (const f of failed.splice(0)) await deadLetter(f.report, f.err) // e.g. await producer.send(...)
\`\`\`

Write the dead letter outside the callback and count the record only once that write is
acknowledged; [examples/at-least-once.ts](../examples/at-least-once.ts) does this with a local
file as the last resort.

Two consequences of the defaults (\`retries\` = 2147483647): a retriable broker code such as
\`NOT_ENOUGH_REPLICAS\` normally shows up as \`_MSG_TIMED_OUT\` with the broker error in its message
and \`cause\`, and \`_MSG_TIMED_OUT\` itself has \`retriable: false\` here although producing the record
again often works. Do not decide between "drop" and "keep" on \`retriable\`.

A record reported as failed with \`_MSG_TIMED_OUT\` or \`_DESTROY\` may nevertheless have been written
(its request was in flight); producing it again can create a duplicate, which idempotence cannot
detect (it only recognises the client's own retries). With idempotence off (\`enable.idempotence:
false\`, or turned off by \`acks\` 0/1, \`retries: 0\` or more than 5 in flight) retries inside the
client can create duplicates too. Consumers should tolerate them.

## Fatal errors

With idempotence (the default), a few broker answers mean the producer can no longer write safely
under its producer id: \`PRODUCER_FENCED\`, \`INVALID_PRODUCER_ID_MAPPING\`, \`INVALID_PRODUCER_EPOCH\`
for its current epoch and \`CLUSTER_AUTHORIZATION_FAILED\` (and, with a \`transactional.id\`,
\`TRANSACTIONAL_ID_AUTHORIZATION_FAILED\` and \`INVALID_TRANSACTION_TIMEOUT\`), from Produce or from
InitProducerId, which also turns any other non-retriable answer into a fatal error. The error keeps
its broker code and has \`fatal: true\`. Then:

- every record without a report fails with it, in its own report;
- \`produce()\` and \`send()\` throw it, and \`producer.fatal\` holds it;
- \`error_cb\` receives it once;
- \`flush()\` and \`close()\` still work.

What to do: close the producer and create a new one (it gets a new producer id), and produce again
the records that failed if they must be delivered.

\`\`\`ts
producer.produce(record, (err, report) => {
  // Every pending record fails with the same fatal error: restart once, not once per record.
  if (err?.fatal) void restartProducerOnce() // close this producer, create a new one, resend
  else if (err) failed.push({ report, err }) // dead-lettered later, as above
})
\`\`\`

## Transactions

With a \`transactional.id\`, the calls of a transaction (\`initTransactions()\`,
\`sendOffsetsToTransaction()\`, \`commitTransaction()\`, \`abortTransaction()\`) reject with a
\`KafkaError\` too, and three cases decide what to do:

- \`err.fatal\` (\`PRODUCER_FENCED\`, \`INVALID_PRODUCER_EPOCH\`, \`TRANSACTIONAL_ID_AUTHORIZATION_FAILED\`,
  \`INVALID_TRANSACTION_TIMEOUT\`, ...): close the producer. Fenced: a newer instance with the same
  \`transactional.id\` runs, so stop this one; otherwise create a new producer.
- \`err.txnRequiresAbort\` (a record of the transaction failed, \`TRANSACTION_ABORTABLE\`, ...): the
  producer is fine but this transaction cannot commit. \`abortTransaction()\`, then do the work again.
- \`_TIMED_OUT\` (retriable) from \`commitTransaction()\` or \`abortTransaction()\`: the outcome is
  pending; call the same method again.

Records of an aborted transaction whose reports said success stay in the log, invisible to
\`read_committed\` consumers; those not yet sent fail with \`_PURGE_QUEUE\`. The states, the complete
recipe as code, fencing and consumer offsets: [transactions.md](transactions.md).
`

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no')

/** The complete text of docs/errors.md. */
export function renderErrorsDoc(): string {
  const out: string[] = [INTRO]
  out.push('## Local errors', '')
  out.push('Raised by the client itself; they have no `kafkaCode` (except `_UNKNOWN_TOPIC`, which keeps the')
  out.push("broker's).", '')
  out.push('| Code | Retriable | Where | Meaning | What to do |')
  out.push('| --- | --- | --- | --- | --- |')
  for (const [name, retriable, description] of LOCAL_ERRORS) {
    const a = LOCAL_ADVICE[name]
    out.push(
      `| \`${name}\` | ${yesNo(retriable)} | ${cell(a?.where ?? '')} | ${cell(description)} | ${cell(a?.todo ?? '')} |`,
    )
  }
  out.push('')

  out.push('## Broker errors a producer can see', '')
  out.push(
    'Returned in Produce, Metadata or InitProducerId responses. "Retriable" is the table\'s flag: the client',
  )
  out.push(
    'retries exactly these, plus the idempotence codes whose rows say the producer handles them. They reach',
  )
  out.push('the application in a delivery report unless the row says otherwise.', '')
  out.push('| Code | Name | Retriable | Meaning | What to do |')
  out.push('| --- | --- | --- | --- | --- |')
  for (const [code, name, retriable, description] of BROKER_ERRORS) {
    const todo = BROKER_ADVICE[name]
    if (todo === undefined) continue
    out.push(`| ${code} | \`${name}\` | ${yesNo(retriable)} | ${cell(description)} | ${cell(todo)} |`)
  }
  out.push('')

  out.push('## Other broker codes', '')
  out.push(
    'Consumer, group, admin and controller codes, not expected from Produce or Metadata. `errorInfo(code)`',
  )
  out.push('returns the name, flag and description of any of them.', '')
  const others = BROKER_ERRORS.filter(([code, name]) => code !== 0 && BROKER_ADVICE[name] === undefined).map(
    ([code, name]) => `${code} \`${name}\``,
  )
  out.push(others.join(', ') + '.', '')
  return out.join('\n')
}

async function main(): Promise<void> {
  await writeFile(REPO_ROOT + ERRORS_DOC_PATH, renderErrorsDoc())
  console.log(`wrote ${ERRORS_DOC_PATH}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
