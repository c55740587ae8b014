import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { BROKERS, jsonLines, runOrders, uniqueName, type JsonEvent } from '../helpers.js';

const { Kafka, logLevel } = kafkaJavascript.KafkaJS;
const HANGING_TRANSACTION_MS = 15_000;

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

    // A zombie: a transaction on every aggregates partition that nobody commits; Kafka aborts it after its timeout.
    const zombie = new Kafka({ kafkaJS: { brokers: BROKERS.split(','), logLevel: logLevel.NOTHING } }).producer({
      'transactional.id': `${topic}-zombie`, 'transaction.timeout.ms': HANGING_TRANSACTION_MS, 'socket.timeout.ms': HANGING_TRANSACTION_MS,
    });
    await zombie.connect();
    t.after(() => zombie.disconnect().catch(() => undefined));
    const transaction = await zombie.transaction();
    await transaction.send({ topic: `${topic}-agg`, messages: [0, 1, 2].map((partition) => ({ partition, key: 'zombie', value: 'not a snapshot' })) });
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
});
