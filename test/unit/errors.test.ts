import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageOf } from '../../src/errors.js';

describe('error messages', () => {
  it('show the parts of an aggregate error on one line', () => {
    const aggregate = Object.assign(new Error('Topic creation errors'), { errors: [new Error('a timed out'), new Error('b refused')] });
    assert.equal(messageOf(aggregate), 'Topic creation errors: a timed out; b refused');
    assert.equal(messageOf('plain'), 'plain');
  });
});
