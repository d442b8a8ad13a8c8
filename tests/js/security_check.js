// kafkajs over SASL_SSL with SCRAM-SHA-512: produces COUNT records, reads them back in a consumer group and
// commits; with a wrong password, the connection is refused with an authentication error and nothing is written.
// Usage: node security_check.js BOOTSTRAP CA_FILE USER PASSWORD accepted|refused TOPIC COUNT
const fs = require("fs");
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, caFile, username, password, mode, topic, countText] = process.argv.slice(2);
const count = Number(countText);
const kafka = new Kafka({
  clientId: "fjord-kafkajs-security",
  brokers: [bootstrap],
  ssl: { ca: [fs.readFileSync(caFile, "utf8")] },
  sasl: { mechanism: "scram-sha-512", username, password },
  logLevel: logLevel.NOTHING,
  retry: { retries: 2 },
});

async function refused() {
  const producer = kafka.producer();
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ value: "never" }] });
  } catch (error) {
    const authentication = /SASL|uthenticat/.test(`${error.name} ${error.message}`);
    console.log(`refused: ${error.name}: ${error.message}`);
    return authentication;
  } finally {
    await producer.disconnect().catch(() => {});
  }
  console.log("written although it should have been refused");
  return false;
}

async function accepted() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < count; i += 10) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + 10); j++) messages.push({ key: `key-${j}`, value: `value-${j}` });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${topic}-readers` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${count} in 30 s`)), 30000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          values.push(message.value.toString());
          if (values.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  for (let i = 0; i < count; i++) {
    if (values[i] !== `value-${i}`) {
      console.log(`record ${i} is ${values[i]}`);
      return false;
    }
  }
  console.log(`produced and consumed ${count} records`);
  return true;
}

(mode === "refused" ? refused() : accepted())
  .then((ok) => process.exit(ok ? 0 : 1))
  .catch((error) => {
    console.log(`failed: ${error.name}: ${error.message}`);
    process.exit(1);
  });
