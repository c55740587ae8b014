import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { FlightGate, PartitionFlight } from '../../src/processing/flight.js';

// The finished run at the front, as a commit without the records above it would take it.
function prefixOf<T>(flight: PartitionFlight<T>): { offset: number; result: T }[] {
  return flight.plan(false)?.fresh ?? [];
}

// A commit of the first `count` records at the front went through.
function take<T>(flight: PartitionFlight<T>, count: number): void {
  const plan = flight.plan(false);
  if (plan !== undefined) flight.settle({ ...plan, front: count });
}

describe('orders in flight', () => {
  it('never lets the finished run pass a record still in flight', () => {
    const flight = new PartitionFlight<string>();
    for (const offset of [10, 11, 12, 13]) flight.add(offset);
    flight.finish(11, 'b');
    flight.finish(13, 'd');
    // 10 is still backing off: nothing may be committed, though later records are done.
    assert.deepEqual(prefixOf(flight), []);
    flight.finish(10, 'a');
    assert.deepEqual(prefixOf(flight), [{ offset: 10, result: 'a' }, { offset: 11, result: 'b' }]);
    take(flight, 2);
    assert.equal(flight.pending(), 2);
    flight.finish(12, 'c');
    assert.deepEqual(prefixOf(flight).map((entry) => entry.offset), [12, 13]);
    take(flight, 2);
    assert.equal(flight.pending(), 0);
  });

  it('says when a finish lengthens the finished run at the front, also after the taken records are dropped', () => {
    const flight = new PartitionFlight<number>();
    for (let offset = 0; offset < 3_000; offset++) flight.add(offset);
    assert.equal(flight.finish(1, 1), false, '0 is still in flight');
    assert.equal(flight.finish(0, 0), true, 'the front run is now 0 and 1');
    assert.equal(flight.finish(3, 3), false);
    assert.equal(flight.finish(2, 2), true, 'the front run reaches 3');
    for (let offset = 4; offset < 2_000; offset++) assert.equal(flight.finish(offset, offset), true);
    // 2,000 taken of 3,000: the taken entries are dropped and the indexes move.
    take(flight, 2_000);
    assert.equal(flight.finish(2_001, 2_001), false, '2,000 is still in flight');
    assert.equal(flight.finish(2_000, 2_000), true);
    assert.deepEqual(prefixOf(flight).map((entry) => entry.offset), [2_000, 2_001]);
    assert.equal(flight.finish(5_000, 5_000), false, 'no such record');
  });

  it('takes only what was committed: a failed commit leaves the records in flight', () => {
    const flight = new PartitionFlight<string>();
    flight.add(0);
    flight.finish(0, 'x');
    assert.equal(prefixOf(flight).length, 1);
    // No take(): the commit failed, so the next one offers the same records again.
    assert.equal(prefixOf(flight).length, 1);
    assert.equal(flight.pending(), 1);
  });

  it('admits at most its capacity, and counts what waits out a backoff', async () => {
    const gate = new FlightGate(2);
    let most = 0;
    const work = async (): Promise<void> => {
      await gate.acquire();
      most = Math.max(most, gate.status().inFlight);
      await gate.backoff(5);
      gate.release();
    };
    const all = Promise.all([1, 2, 3, 4, 5].map(work));
    await sleep(1);
    assert.deepEqual(gate.status(), { inFlight: 2, backingOff: 2 });
    await all;
    assert.equal(most, 2);
    assert.deepEqual(gate.status(), { inFlight: 0, backingOff: 0 });
  });

  it('finds records by offset among many, across gaps and after takes', () => {
    const flight = new PartitionFlight<number>();
    // Offsets with gaps, as transaction markers leave them.
    const offsets = Array.from({ length: 5_000 }, (_, index) => index * 2 + (index > 2_500 ? 1 : 0));
    for (const offset of offsets) flight.add(offset);
    for (const offset of [...offsets].reverse()) flight.finish(offset, offset);
    flight.finish(3, -1); // no record at 3: nothing changes
    assert.equal(prefixOf(flight).length, 5_000);
    take(flight, 3_000);
    assert.equal(flight.pending(), 2_000);
    flight.add(20_000);
    flight.finish(20_000, 7);
    const prefix = prefixOf(flight);
    assert.equal(prefix.length, 2_001);
    assert.deepEqual(prefix[0], { offset: offsets[3_000], result: offsets[3_000] });
    assert.deepEqual(prefix.at(-1), { offset: 20_000, result: 7 });
    take(flight, 2_001);
    assert.equal(flight.pending(), 0);
    take(flight, 1);
    assert.equal(flight.pending(), 0, 'taking from an empty flight moves nothing');
    assert.equal(flight.add(20_000), false, 'a committed offset is not taken in again');
    assert.equal(flight.add(20_001), true);
  });

  it('finishes the record just read (the last) as it finishes any other', () => {
    const flight = new PartitionFlight<string>();
    flight.add(4);
    flight.finish(4, 'done at once');
    flight.add(5);
    assert.deepEqual(prefixOf(flight), [{ offset: 4, result: 'done at once' }]);
  });

  it('takes in only offsets above every one before it, also after all were committed (defect 8)', () => {
    const flight = new PartitionFlight<string>();
    assert.equal(flight.add(5), true);
    assert.equal(flight.add(6), true);
    // A re-delivery after a seek: 5 and 6 are in the flight already.
    assert.equal(flight.add(5), false);
    assert.equal(flight.add(6), false);
    assert.equal(flight.pending(), 2);
    flight.finish(5, 'a');
    flight.finish(6, 'b');
    take(flight, 2);
    assert.equal(flight.add(6), false, 'committed, so not read again into the flight');
    assert.equal(flight.add(7), true);
    assert.deepEqual(prefixOf(flight), []);
  });

  it('commits the finished records above the first one still in flight, and names them until the front passes them (issue 18)', () => {
    const flight = new PartitionFlight<string>();
    for (const offset of [10, 11, 12, 13, 14]) flight.add(offset);
    flight.finish(11, 'b');
    flight.finish(13, 'd');
    // 10 backs off: the front takes nothing, but 11 and 13 are done and can be committed beside offset 10.
    assert.equal(flight.plan(false), undefined);
    const first = flight.plan(true);
    assert.deepEqual(first, { fresh: [{ offset: 11, result: 'b' }, { offset: 13, result: 'd' }], front: 0, next: 10, doneAbove: [11, 13] });
    flight.settle(first);
    assert.equal(flight.plan(true), undefined, 'nothing new: 11 and 13 are not committed twice');
    flight.finish(14, 'e');
    assert.deepEqual(flight.plan(false)?.doneAbove, undefined, 'the front alone has nothing new');
    assert.deepEqual(flight.plan(true), { fresh: [{ offset: 14, result: 'e' }], front: 0, next: 10, doneAbove: [11, 13, 14] });
    flight.finish(10, 'a');
    // The front now runs to 11: 13 and 14 stay named above 12, only 10 is new there.
    assert.deepEqual(flight.plan(false), { fresh: [{ offset: 10, result: 'a' }], front: 2, next: 12, doneAbove: [13] });
    const second = flight.plan(true);
    assert.deepEqual(second, { fresh: [{ offset: 10, result: 'a' }, { offset: 14, result: 'e' }], front: 2, next: 12, doneAbove: [13, 14] });
    flight.settle(second);
    assert.equal(flight.pending(), 3);
    flight.finish(12, 'c');
    assert.deepEqual(flight.plan(true), { fresh: [{ offset: 12, result: 'c' }], front: 3, next: 15, doneAbove: [] });
  });

  it('passes the records a commit before a restart took above its offset, without running them (issue 18)', () => {
    const flight = new PartitionFlight<string>();
    flight.add(20);
    assert.equal(flight.addCommitted(21), true);
    flight.add(22);
    flight.finish(22, 'c');
    assert.deepEqual(flight.plan(true), { fresh: [{ offset: 22, result: 'c' }], front: 0, next: 20, doneAbove: [21, 22] });
    flight.finish(20, 'a');
    assert.deepEqual(flight.plan(true), { fresh: [{ offset: 20, result: 'a' }, { offset: 22, result: 'c' }], front: 3, next: 23, doneAbove: [] });
    assert.equal(flight.finish(21, 'x'), false, 'a record committed before is never finished again');
  });
});
