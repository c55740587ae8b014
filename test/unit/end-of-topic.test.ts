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
