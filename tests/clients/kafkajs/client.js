// KafkaJS driver for Sluice's integration tests: produce, consume and admin operations, with
// records and results as JSON lines so that the Python tests compare what every client sees the
// same way.
//
//   node client.js produce <bootstrap> <topic> <codec>   < records.jsonl   (prints offsets)
//   node client.js consume <bootstrap> <topic> <partitions>                 (prints records)
//   node client.js admin <bootstrap>                      < ops.jsonl       (prints results)
//
// A record line: {"p":partition,"k":base64,"v":base64,"h":[["name",base64]],"ts":ms}.
//
// KafkaJS has no consumer without a consumer group (no assign()), and Sluice has no groups yet:
// `consume` reads through the KafkaJS cluster and broker objects the consumer itself uses
// (metadata, Fetch requests, record-batch decoding and the same compression codecs).
'use strict'

const readline = require('readline')
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

function kafka(bootstrap) {
  return new Kafka({
    clientId: 'sluice-itest-kafkajs',
    brokers: bootstrap.split(','),
    logLevel: logLevel.ERROR,
    retry: { retries: 3, initialRetryTime: 100 },
  })
}

async function readLines() {
  const lines = []
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of rl) {
    if (line.trim()) lines.push(JSON.parse(line))
  }
  return lines
}

const b64 = buf => (buf === null || buf === undefined ? null : Buffer.from(buf).toString('base64'))
const unb64 = s => (s === null || s === undefined ? null : Buffer.from(s, 'base64'))

async function produce(bootstrap, topic, codec) {
  if (!(codec in CODECS)) throw new Error(`unknown codec ${codec}`)
  const records = await readLines()
  const producer = kafka(bootstrap).producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const out = []
  const chunk = 5000
  for (let i = 0; i < records.length; i += chunk) {
    const messages = records.slice(i, i + chunk).map(r => ({
      partition: r.p,
      key: unb64(r.k),
      value: unb64(r.v),
      timestamp: String(r.ts),
      headers: Object.fromEntries(r.h.map(([name, value]) => [name, unb64(value)])),
    }))
    // One send at a time keeps each partition's order.
    const metadata = await producer.send({ topic, acks: 1, compression: CODECS[codec], messages })
    for (const m of metadata) out.push({ p: m.partition, base: Number(m.baseOffset) })
  }
  await producer.disconnect()
  for (const o of out) process.stdout.write(JSON.stringify(o) + '\n')
}

function createCluster(client) {
  // The cluster factory the consumer uses, kept behind a private symbol.
  const symbol = Object.getOwnPropertySymbols(client).find(
    s => s.description === 'private:Kafka:createCluster'
  )
  return client[symbol]({ allowAutoTopicCreation: false })
}

async function consume(bootstrap, topic, partitions) {
  const cluster = createCluster(kafka(bootstrap))
  await cluster.connect()
  await cluster.addTargetTopic(topic)
  await cluster.refreshMetadata()
  const metadata = cluster.findTopicPartitionMetadata(topic)
  const [ends] = await cluster.fetchTopicsOffset([
    { topic, fromBeginning: false, partitions: metadata.map(p => ({ partition: p.partitionId })) },
  ])
  const deadline = Date.now() + 60000
  for (let p = 0; p < partitions; p++) {
    const end = Number(ends.partitions.find(e => e.partition === p).offset)
    const leader = metadata.find(m => m.partitionId === p).leader
    const broker = await cluster.findBroker({ nodeId: leader })
    let next = 0
    while (next < end) {
      if (Date.now() > deadline) throw new Error(`partition ${p}: stuck at offset ${next}`)
      const response = await broker.fetch({
        replicaId: -1,
        isolationLevel: 0,
        maxWaitTime: 1000,
        minBytes: 1,
        maxBytes: 1048576,
        topics: [{ topic, partitions: [{ partition: p, fetchOffset: String(next), maxBytes: 1048576 }] }],
      })
      const part = response.responses[0].partitions[0]
      if (part.errorCode !== 0) throw new Error(`partition ${p}: fetch error ${part.errorCode}`)
      for (const m of part.messages) {
        const offset = Number(m.offset)
        if (offset < next) continue // a batch starts before the offset asked for
        const headers = Object.entries(m.headers).flatMap(([name, value]) =>
          Array.isArray(value) ? value.map(v => [name, b64(v)]) : [[name, b64(value)]]
        )
        const record = { p, o: offset, k: b64(m.key), v: b64(m.value), h: headers, ts: Number(m.timestamp) }
        process.stdout.write(JSON.stringify(record) + '\n')
        next = offset + 1
      }
    }
  }
  await cluster.disconnect()
}

// Admin operations; each result is {op, error: Kafka error code or 0, type, message, ...data}.
async function runOp(admin, op) {
  switch (op.op) {
    case 'create':
      return {
        created: await admin.createTopics({
          validateOnly: !!op.validate_only,
          waitForLeaders: false,
          topics: [
            {
              topic: op.topic,
              numPartitions: op.partitions,
              replicationFactor: op.replication,
              configEntries: Object.entries(op.configs || {}).map(([name, value]) => ({ name, value })),
            },
          ],
        }),
      }
    case 'delete':
      await admin.deleteTopics({ topics: [op.topic] })
      return {}
    case 'list':
      return { topics: (await admin.listTopics()).sort() }
    case 'create_partitions':
      await admin.createPartitions({ topicPartitions: [{ topic: op.topic, count: op.partitions }] })
      return {}
    case 'describe_configs': {
      const res = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: op.topic, configNames: op.names }],
      })
      const r = res.resources[0]
      const configs = {}
      for (const e of r.configEntries) {
        configs[e.configName] = { value: e.configValue, default: e.isDefault, source: e.configSource }
      }
      return { error: r.errorCode, message: r.errorMessage, configs }
    }
    case 'alter_configs': {
      const res = await admin.alterConfigs({
        validateOnly: !!op.validate_only,
        resources: [
          {
            type: 2,
            name: op.topic,
            configEntries: Object.entries(op.configs).map(([name, value]) => ({ name, value })),
          },
        ],
      })
      return { error: res.resources[0].errorCode, message: res.resources[0].errorMessage }
    }
    case 'offsets':
      return { offsets: await admin.fetchTopicOffsets(op.topic) }
    case 'offsets_by_time':
      return { offsets: await admin.fetchTopicOffsetsByTimestamp(op.topic, op.timestamp) }
    case 'delete_records':
      await admin.deleteTopicRecords({
        topic: op.topic,
        partitions: Object.entries(op.offsets).map(([p, o]) => ({ partition: Number(p), offset: String(o) })),
      })
      return {}
    case 'metadata':
      return { metadata: await admin.fetchTopicMetadata({ topics: [op.topic] }) }
    default:
      throw new Error(`unknown op ${op.op}`)
  }
}

// The Kafka error inside what an admin call threw: retries wrap it (cause, originalError), per-topic
// errors come in a KafkaJSAggregateError (errors), per-partition ones of deleteTopicRecords in
// partitions[].error.
function kafkaError(e) {
  let inner = e
  for (;;) {
    if (inner.errors && inner.errors.length) inner = inner.errors[0]
    else if (inner.partitions && inner.partitions.length && inner.partitions[0].error) {
      inner = inner.partitions[0].error // KafkaJSDeleteTopicRecordsError
    } else if (inner.originalError) inner = inner.originalError
    else if (inner.cause && inner.cause !== inner) inner = inner.cause
    else break
  }
  const code = inner.type && typeof inner.code === 'number' ? inner.code : -1
  return { error: code, type: inner.type || inner.name, message: inner.message }
}

async function admin(bootstrap) {
  const ops = await readLines()
  const client = kafka(bootstrap).admin({ retry: { retries: 0 } })
  await client.connect()
  for (const op of ops) {
    let result
    try {
      result = { error: 0, ...(await runOp(client, op)) }
    } catch (e) {
      result = kafkaError(e)
    }
    process.stdout.write(JSON.stringify({ op: op.op, ...result }) + '\n')
  }
  await client.disconnect()
}

async function main() {
  const [command, bootstrap, ...rest] = process.argv.slice(2)
  if (command === 'produce') await produce(bootstrap, rest[0], rest[1] || 'none')
  else if (command === 'consume') await consume(bootstrap, rest[0], Number(rest[1] || 1))
  else if (command === 'admin') await admin(bootstrap)
  else throw new Error('usage: client.js produce|consume|admin <bootstrap> ...')
}

// Exits once stdout is flushed (a write's callback runs after every earlier write's), without
// waiting for timers the client may leave behind.
main().then(
  () => process.stdout.write('', () => process.exit(0)),
  e => {
    process.stderr.write(`kafkajs client: ${e.stack || e}\n`)
    process.exit(1)
  }
)
