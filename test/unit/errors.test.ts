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

describe('broker errors', () => {
  it('tell a broker that does not answer from one that refuses', async () => {
    const { isNoAnswer } = await import('../../src/kafka/step.js');
    const timedOut = Object.assign(new Error('Local: Timed out'), { code: -185 });
    const transport = Object.assign(new Error('Local: Broker transport failure'), { code: -195 });
    const refused = Object.assign(new Error('Topic authorization failed'), { code: 29 });
    assert.equal(isNoAnswer(timedOut), true);
    assert.equal(isNoAnswer(Object.assign(new Error('Topic creation errors'), { errors: [timedOut, transport] })), true);
    assert.equal(isNoAnswer(Object.assign(new Error('Topic creation errors'), { errors: [timedOut, refused] })), false);
    assert.equal(isNoAnswer(refused), false);
    assert.equal(isNoAnswer('text'), false);
  });
});
