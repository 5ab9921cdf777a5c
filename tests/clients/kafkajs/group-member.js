// One member of a consumer group for the membership tests, run as its own process so that a
// test can SIGKILL it. Prints JSON lines on stdout: {"ev":"assigned","member","claims":{topic:
// [partitions]}} after each join, {"ev":"revoked","member"} when a rebalance starts, {"ev":
// "record","t","p","o","v"} per record (its offset is committed right after: autoCommitThreshold
// 1), {"ev":"closed"} after SIGTERM once it has left the group, and {"ev":"crashed","error"}
// (exit status 2) when KafkaJS gives up.
//
//   node group-member.js BOOTSTRAP TOPIC GROUP ASSIGNOR SESSION_MS CLIENT_ID
//
// ASSIGNOR is KafkaJS's own RoundRobinAssigner (protocol name "RoundRobinAssigner"), or
// "roundrobin": the same assigner under the protocol name that Kafka's Java client, librdkafka,
// kafka-python and sarama use, so that KafkaJS can share a group with them.
const { Kafka, logLevel, PartitionAssigners } = require('kafkajs')

const [bootstrap, topic, group, assignor, sessionMs, clientId] = process.argv.slice(2)
const kafka = new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.ERROR })

const assigners = {
  RoundRobinAssigner: PartitionAssigners.roundRobin,
  // KafkaJS's round robin over the members sorted by id: with every member subscribed to the
  // same topics it is the assignment Kafka's roundrobin makes.
  roundrobin: (config) => ({ ...PartitionAssigners.roundRobin(config), name: 'roundrobin' }),
}

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n')
}

async function main() {
  if (!assigners[assignor]) throw new Error(`unknown assignor ${assignor}`)
  const session = Number(sessionMs)
  const consumer = kafka.consumer({
    groupId: group,
    sessionTimeout: session,
    rebalanceTimeout: session,
    heartbeatInterval: Math.max(100, Math.floor(session / 10)),
    partitionAssigners: [assigners[assignor]],
    maxWaitTimeInMs: 200,
  })
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
    emit({ ev: 'assigned', member: payload.memberId, claims: payload.memberAssignment })
  )
  consumer.on(consumer.events.REBALANCING, ({ payload }) => emit({ ev: 'revoked', member: payload.memberId }))
  // A crash KafkaJS does not restart from (e.g. INCONSISTENT_GROUP_PROTOCOL) ends the member.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const e = payload.error
    emit({ ev: 'crashed', error: e.type || (e.cause && e.cause.type) || e.name, message: e.message })
    if (!payload.restart) process.exit(2)
  })
  let stopping = false
  process.on('SIGTERM', async () => {
    if (stopping) return
    stopping = true
    try {
      await consumer.disconnect()
      emit({ ev: 'closed' })
      process.exit(0)
    } catch (e) {
      console.error(e)
      process.exit(1)
    }
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ topic: t, partition, message }) => {
      emit({ ev: 'record', t, p: partition, o: Number(message.offset), v: message.value.toString() })
    },
  })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
