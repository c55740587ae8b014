import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { BROKERS, jsonLines, runOrders, uniqueName, type JsonEvent } from '../helpers.js';

const { Kafka, logLevel } = kafkaJavascript.KafkaJS;
const HANGING_TRANSACTION_MS = 15_000;

/** A zombie: a transaction on every partition of `aggregatesTopic` that nobody commits; Kafka aborts it after its timeout. */
async function openZombie(t: Pick<TestContext, 'after'>, aggregatesTopic: string): Promise<void> {
  const zombie = new Kafka({ kafkaJS: { brokers: BROKERS.split(','), logLevel: logLevel.NOTHING } }).producer({
    'transactional.id': `${aggregatesTopic}-zombie`, 'transaction.timeout.ms': HANGING_TRANSACTION_MS, 'socket.timeout.ms': HANGING_TRANSACTION_MS,
  });
  await zombie.connect();
  t.after(() => zombie.disconnect().catch(() => undefined));
  const transaction = await zombie.transaction();
  await transaction.send({ topic: aggregatesTopic, messages: [0, 1, 2].map((partition) => ({ partition, key: 'zombie', value: 'not a snapshot' })) });
}

describe('a transaction left open on the aggregates topic (a consumer killed mid-transaction)', () => {
  it('neither stats nor a restore takes the older snapshot it can still read: both wait for the newer one', async (t) => {
    const topic = uniqueName('held-back');
    const flags = ['--topic', topic, '--dlq-topic', `${topic}-dlq`, '--aggregates-topic', `${topic}-agg`, '--group', `${topic}-g`];
    let stderr = '';
    const consume = async (): Promise<JsonEvent[]> => {
      const run = await runOrders(['consume', ...flags, '--fail-rate', '0', '--exit-at-end', '--json']);
      assert.equal(run.code, 0, run.stderr);
      stderr = run.stderr;
      return jsonLines(run.stdout);
    };
    const produce = async (count: number, seed: number): Promise<number> => {
      const run = await runOrders(['produce', '--topic', topic, '--count', String(count), '--seed', String(seed), '--json', '--report', 'each']);
      assert.equal(run.code, 0, run.stderr);
      return jsonLines(run.stdout).filter((event) => event.event === 'sent').reduce((sum, event) => sum + Math.round(Number(event.price) * 100), 0);
    };
    const firstCents = await produce(100, 1);
    await consume();

    await openZombie(t, `${topic}-agg`);
    const opened = performance.now();

    // Every snapshot the second consumer commits now sits behind the open transaction.
    const secondCents = await produce(50, 2);
    assert.equal((await consume()).filter((event) => event.event === 'order').length, 50);
    // A third must restore from those snapshots, not stop at the gap to the older ones it can read.
    const thirdCents = await produce(20, 3);
    const third = await consume();
    assert.equal(third.filter((event) => event.event === 'order').length, 20);
    assert.equal(third.at(-1)?.count, 170, 'the restored totals carry on from the second consumer\'s');
    assert.match(stderr, /are not readable yet: a transaction still open/, 'the restore met the held-back snapshots');
    const restoredMs = performance.now() - opened;
    const stats = await runOrders(['stats', ...flags.filter((flag) => !flag.includes('dlq')), '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    const [figures] = jsonLines(stats.stdout);
    assert.equal(figures?.count, 170, `stats read the snapshots before the open transaction: ${stats.stdout}`);
    assert.equal(Math.round(Number(figures?.total_price) * 100), firstCents + secondCents + thirdCents);
    t.diagnostic(`the third consumer was done ${Math.round(restoredMs)} ms after the transaction was opened (it times out after ${HANGING_TRANSACTION_MS} ms)`);
  });

  it('a restore and stats wait too when the open transaction began before a partition\'s first snapshot', async (t) => {
    const topic = uniqueName('held-first');
    const flags = ['--topic', topic, '--dlq-topic', `${topic}-dlq`, '--aggregates-topic', `${topic}-agg`, '--group', `${topic}-g`];
    const consume = async (): Promise<{ events: JsonEvent[]; stderr: string }> => {
      const run = await runOrders(['consume', ...flags, '--fail-rate', '0', '--exit-at-end', '--json']);
      assert.equal(run.code, 0, run.stderr);
      return { events: jsonLines(run.stdout), stderr: run.stderr };
    };
    const produce = async (count: number, seed: number): Promise<void> => {
      const run = await runOrders(['produce', '--topic', topic, '--count', String(count), '--seed', String(seed), '--json', '--report', 'summary']);
      assert.equal(run.code, 0, run.stderr);
    };
    // Makes the topics, and no snapshot: nothing to consume yet.
    await consume();
    await openZombie(t, `${topic}-agg`);

    // Every snapshot ever written for this group sits behind the open transaction.
    await produce(100, 4);
    assert.equal((await consume()).events.filter((event) => event.event === 'order').length, 100);
    await produce(20, 5);
    const second = await consume();
    assert.equal(second.events.filter((event) => event.event === 'order').length, 20);
    assert.equal(second.events.at(-1)?.count, 120, 'the restore waited for the snapshots instead of calling the committed offsets a gap');
    assert.match(second.stderr, /are not readable yet: a transaction still open/);
    const stats = await runOrders(['stats', ...flags.filter((flag) => !flag.includes('dlq')), '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(jsonLines(stats.stdout)[0]?.count, 120);
  });
});
