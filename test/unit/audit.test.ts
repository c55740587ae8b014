import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Audit, type CommittedPartition } from '../../src/processing/audit.js';
import { decodeCommitMetadata, encodeCommitMetadata, type CommitState } from '../../src/processing/commit-metadata.js';

function committedAt(partition: number, next: number, state: CommitState): CommittedPartition {
  return { partition, committed: next, metadata: decodeCommitMetadata(next, encodeCommitMetadata(next, state).metadata) };
}

/** Offsets 0..n-1 of `partition`, each costing 100 + offset cents. */
function orders(audit: Audit, partition: number, n: number): void {
  for (let offset = 0; offset < n; offset++) audit.order({ partition, offset, cents: 100 + offset });
}

describe('audit of a group', () => {
  it('is exact when the aggregate is the decided orders less the dead-lettered ones, done-above offsets included', () => {
    // Partition 0: committed 5, offset 7 done above; offset 2 dead-lettered. Decided: 0,1,2,3,4,7.
    const audit = new Audit([committedAt(0, 5, { aggregate: { totalCents: 100 + 101 + 103 + 104 + 107, count: 5 }, doneAbove: [7] }), { partition: 1, committed: -1, metadata: { kind: 'none' } }]);
    audit.deadLetter({ partition: 0, offset: 2, key: 'o-2' });
    orders(audit, 0, 10);
    orders(audit, 1, 3);
    const result = audit.result();
    assert.deepEqual(result.problems, []);
    assert.equal(result.guarantee, 'exactly-once');
    assert.deepEqual(result.difference, { totalCents: 0, count: 0 });
    assert.equal(result.decided, 6);
    assert.equal(result.deadLettered, 1);
    assert.equal(result.undecided, 4 + 3);
  });

  it('names the difference when the aggregate counts an order twice, or misses one', () => {
    const audit = new Audit([committedAt(0, 3, { aggregate: { totalCents: 100 + 101 + 102 + 101, count: 4 }, doneAbove: [] })]);
    orders(audit, 0, 3);
    const result = audit.result();
    assert.deepEqual(result.difference, { totalCents: 101, count: 1 });
    assert.deepEqual(result.problems, ['stats differs from the orders it stands for by count +1, total_price +1.01']);
  });

  it('lists an order dead-lettered twice, and a dead letter of an order not decided', () => {
    const audit = new Audit([committedAt(0, 2, { aggregate: { totalCents: 100, count: 1 }, doneAbove: [] })]);
    audit.deadLetter({ partition: 0, offset: 1, key: 'o-1' });
    audit.deadLetter({ partition: 0, offset: 1, key: 'o-1' });
    audit.deadLetter({ partition: 0, offset: 3, key: 'o-3' });
    orders(audit, 0, 4);
    const result = audit.result();
    assert.deepEqual(result.deadLetteredTwice, [{ partition: 0, offset: 1, key: 'o-1', copies: 2 }]);
    assert.deepEqual(result.deadLettersUndecided, [{ partition: 0, offset: 3, key: 'o-3' }]);
    assert.deepEqual(result.difference, { totalCents: 0, count: 0 });
    assert.equal(result.problems.length, 2);
  });

  it('allows at-least-once its duplicates, but not a lost record', () => {
    const audit = new Audit([committedAt(0, 3, { doneAbove: [] })]);
    audit.deadLetter({ partition: 0, offset: 0, key: 'o-0' });
    audit.deadLetter({ partition: 0, offset: 0, key: 'o-0' });
    audit.order({ partition: 0, offset: 0, cents: 100 });
    audit.order({ partition: 0, offset: 1, cents: undefined });
    audit.order({ partition: 0, offset: 2, cents: 102 });
    const result = audit.result();
    assert.equal(result.guarantee, 'at-least-once');
    assert.equal(result.stats, undefined);
    assert.equal(result.deadLetteredTwice.length, 1);
    assert.deepEqual(result.problems, ['1 decided record not an order and not dead-lettered: lost']);
  });

  it('says a partition committed without our metadata cannot be audited', () => {
    const audit = new Audit([{ partition: 0, committed: 4, metadata: { kind: 'foreign' } }, committedAt(1, 1, { aggregate: { totalCents: 100, count: 1 }, doneAbove: [] })]);
    orders(audit, 0, 4);
    orders(audit, 1, 1);
    const result = audit.result();
    assert.deepEqual(result.unreadable, [0]);
    assert.match(result.problems[0] ?? '', /partition 0 committed without the metadata of orders/);
  });
});
