// A CommonJS application using the installed tarball through require(), which loads the ES module
// (require(esm): unflagged from Node 20.19 and 22.12). Installed without the optional packages.
/* global process, console, require */
/* eslint-disable @typescript-eslint/no-require-imports -- require() is what this app checks */
'use strict'
const { KafkaError, Producer } = require('reliable-kafka')
const { version } = require('reliable-kafka/package.json')

async function main() {
  const producer = new Producer({
    'bootstrap.servers': process.env.KAFKA_BOOTSTRAP_SERVERS,
    'client.id': 'pack-test-cjs',
    'request.timeout.ms': 10000,
    'delivery.timeout.ms': 30000,
  })
  try {
    const report = await producer.send({
      topic: process.env.PACK_TEST_TOPIC,
      key: 'cjs',
      value: 'from require()',
    })
    if (typeof KafkaError !== 'function') throw new Error('KafkaError is missing')
    console.log(
      `delivered ${report.topic}[${report.partition}]@${report.offset} (cjs, reliable-kafka ${version})`,
    )
  } finally {
    await producer.close()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
