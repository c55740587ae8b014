import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndOfTopic } from '../../src/kafka/end-of-topic.js';

describe('end of topic', () => {
  it('is not reached with no partitions or unknown positions', () => {
    const end = new EndOfTopic(new Map([[0, 3]]));
    assert.equal(end.reached([]), false);
    assert.equal(end.reached([0]), false);
  });

  it('is reached when every partition is read up to its end', () => {
    const end = new EndOfTopic(new Map([[0, 3], [1, 0]]));
    end.startAt(1, 0);
    end.consumed(0, 1);
    assert.equal(end.reached([0, 1]), false);
    end.consumed(0, 2);
    assert.equal(end.reached([0, 1]), true);
  });

  it('counts a committed position at the end as read', () => {
    const end = new EndOfTopic(new Map([[2, 10]]));
    end.startAt(2, 10);
    assert.equal(end.reached([2]), true);
  });

  it('keeps the furthest position when a start arrives after records', () => {
    const end = new EndOfTopic(new Map([[0, 5]]));
    end.consumed(0, 4);
    end.startAt(0, 0);
    assert.equal(end.reached([0]), true);
  });
});

describe('end of a transactional topic', () => {
  it('counts a partition quiet for quietMs as read, even short of its watermark', () => {
    const end = new EndOfTopic(new Map([[0, 10]]), 1000);
    end.consumed(0, 7, 5_000);
    assert.equal(end.reached([0], 5_999), false);
    assert.equal(end.reached([0], 6_000), true);
  });

  it('still needs a known position, and gives the first fetch a grace period', () => {
    const end = new EndOfTopic(new Map([[0, 10]]), 1000, 2000);
    assert.equal(end.reached([0], 1e12), false);
    end.startAt(0, 0, 0);
    assert.equal(end.reached([0], 2999), false);
    assert.equal(end.reached([0], 3000), true);
  });

  it('never counts a partition stuck on a record it could not handle as at its end, however quiet (defect 3)', () => {
    const end = new EndOfTopic(new Map([[0, 10]]), 1000, 0);
    end.consumed(0, 3, 0);
    end.stuck(0);
    assert.equal(end.reached([0], 1e12), false);
    // Once the record is handled the partition moves on, and quiet means done again.
    end.consumed(0, 4, 5_000);
    assert.equal(end.reached([0], 6_000), true);
  });
});
