import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeMissing, transientCause } from '../../src/kafka/transient.js';

const coded = (code: number, message = `code ${code}`): Error => Object.assign(new Error(message), { code });

describe('transient broker errors', () => {
  it('are told by code, and name what is missing', () => {
    assert.equal(transientCause(coded(16)), 'coordinator');
    assert.equal(transientCause(coded(15)), 'coordinator');
    assert.equal(transientCause(coded(14)), 'coordinator');
    assert.equal(transientCause(coded(5)), 'leader');
    assert.equal(transientCause(coded(19)), 'replicas');
    assert.equal(transientCause(coded(20)), 'replicas');
    assert.equal(transientCause(coded(7)), 'broker');
    assert.equal(transientCause(coded(-195)), 'broker');
    assert.equal(transientCause(coded(29)), undefined);
    assert.equal(transientCause('text'), undefined);
    assert.match(describeMissing('replicas') ?? '', /NOT_ENOUGH_REPLICAS/);
    assert.equal(describeMissing('coordinator', 'transaction'), 'the transaction coordinator');
  });

  it('an aggregate is transient only when every part is, and names the most specific part', () => {
    const aggregate = (...errors: Error[]): Error => Object.assign(new Error('Topic creation errors'), { errors });
    assert.equal(transientCause(aggregate(coded(-185), coded(5))), 'leader');
    assert.equal(transientCause(aggregate(coded(-185), coded(29))), undefined);
  });
});
