import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { BROKERS, eventually, jsonLines, runOrders, uniqueName } from '../helpers.js';

// As an exactly-once consumer's own transactions (Kafka Streams' 10 s): the broker aborts it after this...
const HANGING_TRANSACTION_MS = 10_000;
// ...at its next check of timed-out transactions, which a stock broker makes every 10 s
// (transaction.abort.timed.out.transaction.cleanup.interval.ms): 10-20 s after the transaction began.
const ABORTED_WITHIN_MS = HANGING_TRANSACTION_MS + 10_000;

function call(operation: (done: (error: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => operation((error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve())));
}

/**
 * A consumer killed mid-transaction, by construction: a member of `group` puts an offset commit of
 * every partition into a transaction that nobody commits. Until Kafka aborts it, the group's offsets
 * are unstable, and whoever reads them must wait instead of reading the older ones.
 */
async function openZombie(t: Pick<TestContext, 'after'>, topic: string, group: string): Promise<void> {
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

describe('a transaction left open with the group\'s offsets (a consumer killed mid-transaction)', () => {
  it('a restart and stats wait for Kafka to abort it, then carry on from the committed totals: no gap, no order twice (issue 18, defect 1)', async (t) => {
    const topic = uniqueName('held-back');
    const group = `${topic}-g`;
    const flags = ['--topic', topic, '--dlq-topic', `${topic}-dlq`, '--group', group];
    const produce = async (count: number, seed: number): Promise<number> => {
      const run = await runOrders(['produce', '--topic', topic, '--count', String(count), '--seed', String(seed), '--json', '--report', 'each']);
      assert.equal(run.code, 0, run.stderr);
      return jsonLines(run.stdout).filter((event) => event.event === 'sent').reduce((sum, event) => sum + Math.round(Number(event.price) * 100), 0);
    };
    const firstCents = await produce(100, 1);
    const first = await runOrders(['consume', ...flags, '--fail-rate', '0', '--exit-at-end', '--json']);
    assert.equal(first.code, 0, first.stderr);

    const secondCents = await produce(50, 2);
    await openZombie(t, topic, group);
    const opened = performance.now();
    const second = await runOrders(['consume', ...flags, '--fail-rate', '0', '--exit-at-end', '--json']);
    const restartedMs = performance.now() - opened;
    assert.equal(second.code, 0, second.stderr);
    const events = jsonLines(second.stdout);
    assert.equal(events.filter((event) => event.event === 'order').length, 50, 'only the new orders: the zombie\'s offsets 0 were aborted, not taken');
    assert.equal(events.at(-1)?.count, 150, 'the restored totals carry on from the first consumer\'s');
    // The restart waits for the abort, then restores and handles 50 orders: a few seconds at most on top.
    assert.ok(restartedMs < ABORTED_WITHIN_MS + 5_000, `the restart finished ${Math.round(restartedMs)} ms after the transaction was opened`);

    const stats = await runOrders(['stats', '--topic', topic, '--group', group, '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    const [figures] = jsonLines(stats.stdout);
    assert.equal(figures?.count, 150, stats.stdout);
    assert.equal(Math.round(Number(figures?.total_price) * 100), firstCents + secondCents);
    t.diagnostic(`the restart was done ${Math.round(restartedMs)} ms after the transaction was opened (Kafka aborts it after ${HANGING_TRANSACTION_MS} ms)`);
  });
});
