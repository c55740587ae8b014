import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRestore, decodeSnapshot, snapshotKey, type PartitionSnapshot } from '../../src/processing/snapshot.js';

const snapshot: PartitionSnapshot = { group: 'g/1', topic: 'orders', partition: 2, aggregate: { totalCents: 123_456, count: 7 }, offset: 41 };

describe('aggregate snapshots', () => {
  it('are read from the JSON value orders 0.1 wrote', () => {
    const value = Buffer.from(JSON.stringify({
      group: 'g/1', topic: 'orders', partition: 2, total_cents: 123_456, count: 7, offset: 41, updated_at: '2026-01-01T00:00:00.000Z',
    }));
    assert.deepEqual(decodeSnapshot(value), snapshot);
  });

  it('have one key per group, topic and partition, whatever characters the names hold', () => {
    assert.notEqual(snapshotKey('a/b', 'c', 1), snapshotKey('a', 'b/c', 1));
    assert.equal(snapshotKey('g', 't', 0), snapshotKey('g', 't', 0));
  });

  it('reject values that are not snapshots', () => {
    for (const bad of [null, Buffer.from('nope'), Buffer.from('[]'), Buffer.from('{"group":"g","topic":"t","partition":0,"total_cents":1.5,"count":1,"offset":0}')]) {
      assert.equal(decodeSnapshot(bad), undefined);
    }
  });
});

describe('restoring from a snapshot', () => {
  const snapshot = (offset: number) => ({ group: 'g', topic: 't', partition: 0, aggregate: { totalCents: 100, count: 1 }, offset });

  it('starts from nothing where the group committed nothing', () => {
    assert.deepEqual(decideRestore(-1, undefined), { kind: 'fresh' });
    assert.deepEqual(decideRestore(-1, snapshot(4)), { kind: 'fresh' });
  });

  it('takes only the snapshot written with the committed offset', () => {
    assert.deepEqual(decideRestore(5, snapshot(4)), { kind: 'restored', aggregate: { totalCents: 100, count: 1 }, offset: 4 });
  });

  it('calls offsets without a snapshot a gap (defect 1)', () => {
    assert.deepEqual(decideRestore(5, undefined), { kind: 'gap', detail: 'offset 5 committed, no aggregate snapshot', behind: false });
  });

  it('calls a snapshot newer or older than the committed offset a gap (defect 10)', () => {
    assert.deepEqual(decideRestore(5, snapshot(9)), { kind: 'gap', detail: 'offset 5 committed, snapshot folded up to offset 9', behind: false });
    assert.deepEqual(decideRestore(5, snapshot(2)), { kind: 'gap', detail: 'offset 5 committed, snapshot folded up to offset 2', behind: true });
  });

  it('takes a newer snapshot only for a reader of a group that may commit meanwhile (stats), never an older one', () => {
    assert.deepEqual(decideRestore(5, snapshot(9), true), { kind: 'restored', aggregate: { totalCents: 100, count: 1 }, offset: 9 });
    assert.equal(decideRestore(5, snapshot(2), true).kind, 'gap');
    assert.equal(decideRestore(5, undefined, true).kind, 'gap');
    assert.equal(decideRestore(-1, snapshot(3), true).kind, 'restored');
  });
});
