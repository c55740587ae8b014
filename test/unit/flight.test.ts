import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { FlightGate, PartitionFlight } from '../../src/processing/flight.js';

describe('orders in flight', () => {
  it('never lets the committable offset pass a record still in flight', () => {
    const flight = new PartitionFlight<string>();
    for (const offset of [10, 11, 12, 13]) flight.add(offset);
    assert.equal(flight.committable(), -1);
    flight.finish(11, 'b');
    flight.finish(13, 'd');
    // 10 is still backing off: nothing may be committed, though later records are done.
    assert.deepEqual(flight.finishedPrefix(), []);
    flight.finish(10, 'a');
    assert.deepEqual(flight.finishedPrefix(), [{ offset: 10, result: 'a' }, { offset: 11, result: 'b' }]);
    flight.take(2);
    assert.equal(flight.committable(), 12);
    assert.equal(flight.pending(), 2);
    flight.finish(12, 'c');
    assert.deepEqual(flight.finishedPrefix().map((entry) => entry.offset), [12, 13]);
    flight.take(2);
    assert.equal(flight.committable(), 14);
  });

  it('takes only what was committed: a failed commit leaves the records in flight', () => {
    const flight = new PartitionFlight<string>();
    flight.add(0);
    flight.finish(0, 'x');
    assert.equal(flight.finishedPrefix().length, 1);
    // No take(): the commit failed, so the next one offers the same records again.
    assert.equal(flight.finishedPrefix().length, 1);
    assert.equal(flight.committable(), -1);
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
});
