import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topicEnd, waitingText, type PartitionInGroup } from '../../src/kafka/consumer/group-end.js';

const member = { memberId: 'm-1', clientId: 'orders-consume', host: '/10.0.0.7' };
const partition = (fields: Partial<PartitionInGroup> & { partition: number }): PartitionInGroup => ({
  startEnd: 100, logStart: 0, committed: -1, owned: false, ownDone: false, holder: undefined, ...fields,
});

describe('the end of the whole topic in the group (--exit-at-end)', () => {
  it('is reached when each partition is done: read here, or committed to its start end by whoever held it', () => {
    assert.deepEqual(topicEnd([
      partition({ partition: 0, owned: true, ownDone: true }),
      partition({ partition: 1, committed: 100, holder: member }),
      partition({ partition: 2, committed: 120 }),
    ]), []);
  });

  it('waits for a partition another member holds until it committed that far: a dead member keeps its partitions for its session', () => {
    assert.deepEqual(topicEnd([
      partition({ partition: 0, owned: true, ownDone: true }),
      partition({ partition: 3, committed: 40, holder: member }),
    ]), [{ partition: 3, reason: 'held', holder: member, committed: 40, startEnd: 100 }]);
  });

  it('waits for a partition nobody holds yet (a dead member\'s, before it is handed over), and for its own reading', () => {
    assert.deepEqual(topicEnd([
      partition({ partition: 0, owned: true, ownDone: false, committed: 10 }),
      partition({ partition: 1 }),
    ]).map(({ partition: p, reason }) => [p, reason]), [[0, 'reading'], [1, 'unassigned']]);
  });

  it('is reached with no partition of its own once the others committed to the end (more members than partitions)', () => {
    assert.deepEqual(topicEnd([partition({ partition: 0, committed: 100, holder: member }), partition({ partition: 1, committed: 100, holder: member })]), []);
    assert.equal(topicEnd([partition({ partition: 0, committed: 99, holder: member })]).length, 1);
  });

  it('counts a partition whose records are gone as done: the log start passed the end it had at start (retention)', () => {
    assert.deepEqual(topicEnd([partition({ partition: 0, committed: 10, logStart: 100 }), partition({ partition: 1, logStart: 250, startEnd: 200, holder: member })]), []);
    // Gone only up to a point: what is left still has to be read.
    assert.equal(topicEnd([partition({ partition: 0, committed: 10, logStart: 60 })]).length, 1);
  });

  it('counts a partition that was empty at start as done', () => {
    assert.deepEqual(topicEnd([partition({ partition: 0, startEnd: 0 })]), []);
  });

  it('names the partitions waited for, who holds them and for how long', () => {
    const text = waitingText('orders', [
      { partition: 0, reason: 'held', holder: member, committed: 40, startEnd: 503 },
      { partition: 2, reason: 'held', holder: member, committed: -1, startEnd: 472 },
      { partition: 3, reason: 'unassigned', holder: undefined, committed: -1, startEnd: 535 },
    ], (p) => (p === 3 ? 2_000 : 12_400));
    assert.equal(text, '--exit-at-end: waiting for orders: partitions 0, 2 held by member m-1 (client orders-consume, host /10.0.0.7) for 12 s, committed 40/503, -/472; partition 3 held by no member yet for 2 s, committed -/535');
  });
});
