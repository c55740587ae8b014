import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeastOnce } from '../../src/consume/at-least-once.js';
import { exactlyOnce } from '../../src/consume/exactly-once.js';
import type { ConsumeMode } from '../../src/consume/mode.js';
import { encodeCommitMetadata } from '../../src/processing/commit-metadata.js';
import type { Lease } from '../../src/processing/partition-totals.js';
import { fakeParts, fakeSession, orderRecords, settledNow, waitUntil, type CommittedCall } from '../fake-session.js';

// A committed offset 0 of `partition` whose metadata names `doneAbove` as finished above it, with `count` orders aggregated.
function committedAt(partition: number, doneAbove: number[], count = 0): { partition: number; offset: number; metadata: string } {
  return { partition, offset: 0, metadata: encodeCommitMetadata(0, { aggregate: { totalCents: 100 * count, count }, doneAbove }).metadata };
}

function answer(call: CommittedCall | undefined, found: (partition: number) => { partition: number; offset: number; metadata: string }): void {
  assert.ok(call, 'a committed() call was made');
  call.answer(call.partitions.map(found));
}

async function closed(mode: ConsumeMode): Promise<void> {
  await mode.drain();
  await mode.settle();
}

describe('restores, one per assignment (issue 25, point 4)', () => {
  it('exactly-once: a later assignment reads only its own partitions, and never writes an older aggregate over a live one', async () => {
    const log: string[] = [];
    const { session, consumer } = fakeSession(log);
    const { parts } = fakeParts(session, true);
    const mode = exactlyOnce(parts);
    await mode.start();
    // Incremental assignment (cooperative-sticky, KIP-848): partition 1 comes while 0 still restores.
    const first = mode.rebalance.assigned?.([0]);
    const second = mode.rebalance.assigned?.([1]);
    await waitUntil(() => consumer.calls.length === 2);
    assert.deepEqual(consumer.calls.map(({ partitions }) => partitions), [[0], [1]]);
    answer(consumer.calls[0], (partition) => committedAt(partition, [], 2));
    await first;
    const live = parts.totals.lease(0) as Lease;
    // A commit of partition 0 since: its aggregate moved on.
    assert.ok(parts.totals.set(live, { totalCents: 300, count: 3 }));
    answer(consumer.calls[1], (partition) => committedAt(partition, [], partition === 0 ? 2 : 5));
    await second;
    assert.deepEqual(parts.totals.aggregateOf(live), { totalCents: 300, count: 3 });
    assert.deepEqual(parts.totals.restoring(), []);
    await closed(mode);
  });

  for (const exactly of [true, false]) {
    it(`${exactly ? 'exactly-once' : 'at-least-once'}: a restore of an earlier assignment of a partition that came back passes nothing of the new one`, async () => {
      const log: string[] = [];
      const { session, consumer } = fakeSession(log);
      const { parts, outcomes } = fakeParts(session, exactly);
      const mode = exactly ? exactlyOnce(parts) : atLeastOnce(parts);
      await mode.start();
      const stale = mode.rebalance.assigned?.([0]);
      await mode.rebalance.revoking?.([0], false);
      const fresh = mode.rebalance.assigned?.([0]);
      await waitUntil(() => consumer.calls.length === 2);
      // The new assignment's restore ends first: offset 1 was finished above the committed 0.
      answer(consumer.calls[1], (partition) => committedAt(partition, [1]));
      await fresh;
      // The old one's answer is older (offset 2 then): it must not reach the new assignment.
      answer(consumer.calls[0], (partition) => committedAt(partition, [2]));
      await stale;
      assert.equal(await mode.handle(orderRecords(0, [0, 1, 2]), () => false), 3);
      await closed(mode);
      assert.deepEqual(outcomes.sort(), ['0@0', '0@2']);
    });
  }
});

describe('restores at shutdown (issue 25, point 6)', () => {
  it('Ctrl-C: a restore waiting for its committed offsets is abandoned at once, and what it reads later is dropped', async () => {
    const log: string[] = [];
    const { session, consumer } = fakeSession(log, 60_000);
    const { parts, stop } = fakeParts(session, true);
    const mode = exactlyOnce(parts);
    await mode.start();
    const restoring = mode.rebalance.assigned?.([0]) as Promise<void>;
    await waitUntil(() => consumer.calls.length === 1);
    stop.abort();
    // The reader resumes its partitions when the hook settles: that must happen before the consumer closes.
    assert.equal(await settledNow(restoring), true, 'the restore hook settles at the stop');
    await mode.drain();
    const settled = mode.settle();
    assert.equal(await settledNow(settled), false, 'settle waits for the committed() call still out');
    answer(consumer.calls[0], (partition) => committedAt(partition, [], 4));
    await settled;
    assert.deepEqual(parts.totals.restoring(), [0], 'an abandoned restore writes nothing');
  });

  it('--exit-at-end: the drain waits for a restore under way for a while, then abandons it before the consumer closes', async () => {
    const log: string[] = [];
    const { session, consumer } = fakeSession(log, 50);
    const { parts } = fakeParts(session, false);
    const mode = atLeastOnce(parts);
    await mode.start();
    const restoring = mode.rebalance.assigned?.([0]) as Promise<void>;
    await waitUntil(() => consumer.calls.length === 1);
    await mode.drain();
    assert.equal(await settledNow(restoring), true, 'the restore hook settled before the consumer closes');
    // The call never came back: settle gives up after the session's timeout.
    await mode.settle();
  });
});
