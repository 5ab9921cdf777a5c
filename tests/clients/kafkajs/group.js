// KafkaJS group consumer for the integration tests: joins `group`, subscribes to `topic` from
// the beginning, prints each record it gets as a JSON line {p, o, v} until it has `count`, then
// leaves the group. Offsets are committed after every record (autoCommitThreshold 1).
//
//   node group.js BOOTSTRAP TOPIC GROUP COUNT
const { Kafka, logLevel } = require('kafkajs')

const [bootstrap, topic, group, count] = process.argv.slice(2)
const kafka = new Kafka({ clientId: 'sluice-itest-kafkajs-group', brokers: [bootstrap], logLevel: logLevel.ERROR })

async function main() {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, rebalanceTimeout: 10000 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let seen = 0
  await new Promise((resolve, reject) => {
    consumer
      .run({
        autoCommitThreshold: 1,
        eachMessage: async ({ partition, message }) => {
          seen++
          process.stdout.write(
            JSON.stringify({ p: partition, o: Number(message.offset), v: message.value.toString() }) + '\n'
          )
          if (seen >= Number(count)) resolve()
        },
      })
      .catch(reject)
  })
  await consumer.disconnect()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
