import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndOfTopic } from '../../src/kafka/consumer/end-of-topic.js';

describe('end of topic', () => {
  it('is not reached with no partitions, unassigned ones or unknown positions', () => {
    const end = new EndOfTopic(new Map([[0, 3]]));
    assert.equal(end.reached([]), false);
    assert.equal(end.reached([0]), false);
    end.assigned(0);
    assert.equal(end.reached([0]), false);
  });

  it('is reached when every partition is read past the end it had at start and its work is done', () => {
    const end = new EndOfTopic(new Map([[0, 3], [1, 5]]));
    end.assigned(0);
    end.assigned(1);
    end.read(0, 1);
    end.done(0, 1);
    end.end(1, 5);
    assert.equal(end.reached([0, 1]), false);
    end.read(0, 2);
    assert.equal(end.reached([0, 1]), false, 'offset 2 is read but not done');
    end.done(0, 2);
    assert.equal(end.reached([0, 1]), true);
  });

  it('takes librdkafka\'s end of a partition as the end, short of the watermark (transaction markers)', () => {
    const end = new EndOfTopic(new Map([[0, 10]]));
    end.assigned(0);
    end.read(0, 7);
    end.done(0, 7);
    assert.equal(end.reached([0]), false);
    end.end(0, 9);
    assert.equal(end.reached([0]), true);
  });

  it('counts a partition with a committed position at its end as done once librdkafka says so', () => {
    const end = new EndOfTopic(new Map([[2, 10]]));
    end.assigned(2);
    end.end(2, 10);
    assert.equal(end.reached([2]), true);
  });

  it('never counts a partition whose records are read again as at its end until they are handled, however quiet', () => {
    const end = new EndOfTopic(new Map([[0, 10]]));
    end.assigned(0);
    end.end(0, 10);
    end.rewound(0, 4);
    assert.equal(end.reached([0]), false);
    end.read(0, 9);
    end.done(0, 9);
    assert.equal(end.reached([0]), true);
  });

  it('starts a partition assigned again from nothing known', () => {
    const end = new EndOfTopic(new Map([[0, 1]]));
    end.assigned(0);
    end.end(0, 1);
    assert.equal(end.reached([0]), true);
    end.revoked(0);
    assert.equal(end.reached([0]), false);
    end.assigned(0);
    assert.equal(end.reached([0]), false);
  });
});
