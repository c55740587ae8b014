import type { TestContext } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { BROKERS, eventually } from './helpers.js';

// As an exactly-once consumer's own transactions (Kafka Streams' 10 s): the broker aborts it after this...
export const HANGING_TRANSACTION_MS = 10_000;
// ...at its next check of timed-out transactions, which a stock broker makes every 10 s
// (transaction.abort.timed.out.transaction.cleanup.interval.ms): 10-20 s after the transaction began.
export const ABORTED_WITHIN_MS = HANGING_TRANSACTION_MS + 10_000;

function call(operation: (done: (error: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => operation((error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve())));
}

/**
 * A consumer killed mid-transaction, by construction: a member of `group` puts an offset commit of
 * every partition (3) into a transaction that nobody commits. Until Kafka aborts it, the group's offsets
 * are unstable, and whoever reads them must wait instead of reading the older ones.
 */
export async function openZombie(t: Pick<TestContext, 'after'>, topic: string, group: string): Promise<void> {
  const consumer = new kafkaJavascript.KafkaConsumer({ 'bootstrap.servers': BROKERS, 'group.id': group, 'enable.auto.commit': false }, {});
  const producer = new kafkaJavascript.Producer({ 'bootstrap.servers': BROKERS, 'transactional.id': `${group}-zombie`, 'transaction.timeout.ms': HANGING_TRANSACTION_MS });
  t.after(async () => {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    await new Promise<void>((resolve) => producer.disconnect(0, () => resolve()));
  });
  await call((done) => consumer.connect({ timeout: 10_000 }, done));
  await call((done) => producer.connect({ timeout: 10_000 }, done));
  consumer.subscribe([topic]);
  // Joining the group happens inside consume(); the transaction needs the member's generation.
  await eventually(async () => {
    await new Promise((resolve) => consumer.consume(1, resolve));
    return consumer.assignments().length === 3;
  }, 30_000, () => 'the zombie never got the partitions');
  await call((done) => producer.initTransactions(10_000, done));
  await call((done) => producer.beginTransaction(done));
  await call((done) => producer.sendOffsetsToTransaction([0, 1, 2].map((partition) => ({ topic, partition, offset: 0 })), consumer, 10_000, done));
  // The zombie dies: its group membership ends, its transaction stays open.
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
}
