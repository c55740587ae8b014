import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonLines, runOrders, uniqueName } from '../helpers.js';
import { ABORTED_WITHIN_MS, HANGING_TRANSACTION_MS, openZombie } from '../open-transaction.js';

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
