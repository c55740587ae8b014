import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FetchWake, WAKE_USEFUL_MS } from '../../src/kafka/consumer/fetch-wake.js';

const always = (): boolean => true;
// The wake starts its queries after the caller's turn.
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A query that records its partition and settles only when released, one release per call. */
function heldQueries(): { asked: string[]; inFlight: () => number; release: () => Promise<void>; query: (topic: string, partition: number) => Promise<void> } {
  const asked: string[] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  return {
    asked,
    inFlight: () => inFlight,
    query: (topic, partition) => {
      asked.push(`${topic}/${partition}`);
      inFlight++;
      return new Promise((resolve) => waiting.push(() => {
        inFlight--;
        resolve();
      }));
    },
    release: async () => {
      waiting.shift()?.();
      // Lets the wake's loop take its next partition.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('waking the leaders of resumed partitions', () => {
  it('queries each partition once, one at a time, however often it is asked meanwhile', async () => {
    const held = heldQueries();
    const wake = new FetchWake(held.query, always);
    wake.wake([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    wake.wake([{ topic: 't', partition: 1 }, { topic: 't', partition: 2 }]);
    assert.deepEqual(held.asked, [], 'not in the caller\'s turn: a revoke resumes partitions just before it hands them over');
    await turn();
    assert.deepEqual(held.asked, ['t/0']);
    assert.equal(held.inFlight(), 1);
    await held.release();
    assert.deepEqual(held.asked, ['t/0', 't/1']);
    assert.equal(held.inFlight(), 1);
    await held.release();
    await held.release();
    assert.deepEqual(held.asked, ['t/0', 't/1', 't/2']);
    assert.equal(held.inFlight(), 0);
  });

  it('queries a partition again when asked while its own query is out: that query may have gone before the resume took hold', async () => {
    const held = heldQueries();
    const wake = new FetchWake(held.query, always);
    wake.wake([{ topic: 't', partition: 0 }]);
    await turn();
    wake.wake([{ topic: 't', partition: 0 }]);
    await held.release();
    await held.release();
    assert.deepEqual(held.asked, ['t/0', 't/0']);
    wake.wake([{ topic: 't', partition: 3 }]);
    await turn();
    assert.deepEqual(held.asked, ['t/0', 't/0', 't/3'], 'a wake after the queue ran dry starts it again');
  });

  it('goes on after a failed query, and starts none after stop', async () => {
    let calls = 0;
    const failing = new FetchWake(async () => {
      calls++;
      throw new Error('leader away');
    }, always);
    failing.wake([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    await turn();
    await turn();
    assert.equal(calls, 2);

    const held = heldQueries();
    const wake = new FetchWake(held.query, always);
    wake.wake([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    await turn();
    wake.stop();
    await held.release();
    wake.wake([{ topic: 't', partition: 2 }]);
    await held.release();
    assert.deepEqual(held.asked, ['t/0']);
  });

  it('skips a partition no longer wanted (revoked, or paused again, or the client cannot say) when its turn comes, and one asked for too long ago: its connection woke by itself', async () => {
    const held = heldQueries();
    let clock = 0;
    const wanted = new Set(['t/0', 't/1', 't/2', 't/3']);
    const wake = new FetchWake(held.query, (topic, partition) => {
      if (partition === 4) throw new Error('client not connected');
      return wanted.has(`${topic}/${partition}`);
    }, () => clock);
    wake.wake([{ topic: 't', partition: 4 }, { topic: 't', partition: 0 }, { topic: 't', partition: 1 }, { topic: 't', partition: 2 }]);
    // Revoked in the caller's own turn, after it asked.
    wanted.delete('t/1');
    await turn();
    // A leader away holds the first query past the time the others were useful.
    clock = WAKE_USEFUL_MS + 1;
    wake.wake([{ topic: 't', partition: 3 }]);
    await held.release();
    await held.release();
    assert.deepEqual(held.asked, ['t/0', 't/3'], 'a partition whose wanted() throws is skipped, not the whole wake');
  });
});
