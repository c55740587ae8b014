import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { runOrders, startOrders, uniqueName } from '../helpers.js';
import { HANGING_TRANSACTION_MS, openZombie } from '../open-transaction.js';

/**
 * Ctrl-C or SIGTERM while a restore waits: a transaction left open holds the group's offsets, so the
 * restore of the new partitions waits for Kafka to abort it (10-20 s), and the signal comes meanwhile.
 */
async function interruptRestore(t: TestContext, guarantee: string, signal: NodeJS.Signals): Promise<void> {
  const topic = uniqueName('interrupted-restore');
  const group = `${topic}-g`;
  const produced = await runOrders(['produce', '--topic', topic, '--count', '20', '--seed', '1']);
  assert.equal(produced.code, 0, produced.stderr);
  await openZombie(t, topic, group);
  const consumer = startOrders(t, ['consume', '--topic', topic, '--dlq-topic', `${topic}-dlq`, '--group', group, '--guarantee', guarantee, '--fail-rate', '0'], { LOG_LEVEL: 'info' });
  await consumer.waitFor((process) => process.stderr.includes(`assigned ${topic} partitions`));
  assert.ok(!consumer.stderr.includes(`restored ${topic}`) && !consumer.stdout.includes('"processed"'), 'the restore is still waiting for the open transaction');
  const signalled = performance.now();
  consumer.child.kill(signal);
  const run = await consumer.done;
  const stoppingMs = performance.now() - signalled;
  assert.doesNotMatch(run.stderr, /internal error/);
  assert.equal(run.code, 0, `code ${run.code} signal ${run.signal}: ${run.stderr}`);
  // It did not sit out the open transaction (aborted 10-20 s after it began), nor a long committed() call.
  assert.ok(stoppingMs < HANGING_TRANSACTION_MS / 2, `stopped ${Math.round(stoppingMs)} ms after the ${signal}: ${run.stderr}`);
  t.diagnostic(`${guarantee}: ${signal} ${Math.round(run.elapsedMs - stoppingMs)} ms after the start, exited ${Math.round(stoppingMs)} ms later`);
}

describe('stopped while a restore waits for an open transaction (issue 25, point 6)', () => {
  it('Ctrl-C exits 0, exactly-once', (t) => interruptRestore(t, 'exactly-once', 'SIGINT'));
  it('SIGTERM exits 0, exactly-once', (t) => interruptRestore(t, 'exactly-once', 'SIGTERM'));
  it('Ctrl-C exits 0, at-least-once', (t) => interruptRestore(t, 'at-least-once', 'SIGINT'));
});
