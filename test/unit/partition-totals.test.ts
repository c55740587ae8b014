import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionTotals, type Lease } from '../../src/processing/partition-totals.js';

const lease = (totals: PartitionTotals, partition: number): Lease => {
  const found = totals.lease(partition);
  assert.ok(found, `partition ${partition} should be owned`);
  return found;
};

describe('partition totals, at-least-once', () => {
  it('keep the totals of partitions that stay through an eager rebalance, and drop only the ones that leave (defect 2)', () => {
    const totals = new PartitionTotals(false);
    totals.assign([0, 1, 2]);
    for (const partition of [0, 1, 2]) assert.ok(totals.fold(lease(totals, partition), 10 * (partition + 1)));
    assert.deepEqual(totals.total(), { totalCents: 6000, count: 3 });
    // A second consumer joins: librdkafka revokes everything, then assigns what this consumer keeps.
    totals.revoke([0, 1, 2]);
    totals.assign([0, 2]);
    assert.deepEqual(totals.total(), { totalCents: 4000, count: 2 });
    assert.equal(totals.lease(1), undefined);
  });

  it('refuse a fold whose lease predates a revoke, so a revoked partition is never written back (defect 11)', () => {
    const totals = new PartitionTotals(false);
    totals.assign([0, 1]);
    const before = lease(totals, 1);
    totals.revoke([0, 1]);
    totals.assign([0]);
    assert.equal(totals.fold(before, 5), false);
    assert.deepEqual([totals.lease(0) !== undefined, totals.lease(1)], [true, undefined]);
    assert.deepEqual(totals.total(), { totalCents: 0, count: 0 });
  });

  it('refuse a stale lease even when the partition came back in the meantime', () => {
    const totals = new PartitionTotals(false);
    totals.assign([3]);
    const old = lease(totals, 3);
    totals.revoke([3]);
    totals.assign([3]);
    assert.equal(totals.fold(old, 1), false);
    assert.equal(totals.fold(lease(totals, 3), 1), true);
    assert.deepEqual(totals.total(), { totalCents: 100, count: 1 });
  });

  it('add and leave partitions one by one under an incremental rebalance', () => {
    const totals = new PartitionTotals(false);
    totals.assign([0]);
    totals.fold(lease(totals, 0), 1);
    totals.assign([1]);
    totals.fold(lease(totals, 1), 2);
    totals.revoke([0]);
    assert.deepEqual(totals.total(), { totalCents: 200, count: 1 });
  });

  it('keep the totals through the last revoke once frozen for the summary', () => {
    const totals = new PartitionTotals(false);
    totals.assign([0]);
    totals.fold(lease(totals, 0), 7);
    totals.freeze();
    totals.revoke([0]);
    assert.deepEqual(totals.total(), { totalCents: 700, count: 1 });
  });
});

describe('partition totals, exactly-once', () => {
  it('take no order into a partition before its aggregate is restored', () => {
    const totals = new PartitionTotals(true);
    totals.assign([0, 1]);
    assert.deepEqual(totals.restoring(), [0, 1]);
    assert.equal(totals.fold(lease(totals, 0), 1), false);
    assert.equal(totals.aggregateOf(lease(totals, 0)), undefined);
    assert.ok(totals.restore(lease(totals, 0), { totalCents: 500, count: 2 }));
    assert.deepEqual(totals.restoring(), [1]);
    assert.ok(totals.set(lease(totals, 0), { totalCents: 900, count: 3 }));
    assert.deepEqual(totals.total(), { totalCents: 900, count: 3 });
  });

  it('restore every assigned partition again after a rebalance, and ignore a restore for an earlier assignment', () => {
    const totals = new PartitionTotals(true);
    totals.assign([0]);
    const first = lease(totals, 0);
    totals.revoke([0]);
    totals.assign([0]);
    assert.equal(totals.restore(first, { totalCents: 1, count: 1 }), false);
    assert.deepEqual(totals.restoring(), [0]);
  });

  it('refuse a second restore of a live partition under the same lease: an older aggregate never overwrites a newer one (issue 25, point 4)', () => {
    const totals = new PartitionTotals(true);
    totals.assign([0]);
    const owned = lease(totals, 0);
    assert.ok(totals.restore(owned, { totalCents: 500, count: 2 }));
    assert.ok(totals.set(owned, { totalCents: 900, count: 3 }));
    // A restore of an overlapping assignment that read the committed offsets before the last commit.
    assert.equal(totals.restore(owned, { totalCents: 500, count: 2 }), false);
    assert.deepEqual(totals.aggregateOf(owned), { totalCents: 900, count: 3 });
  });
});
