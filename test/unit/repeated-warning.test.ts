import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepeatedWarning } from '../../src/consume/repeated-warning.js';

describe('a repeated warning', () => {
  it('is said at once, then once per interval with the count of those held back (issue 25, point 1)', () => {
    const warning = new RepeatedWarning(5_000);
    assert.equal(warning.line('commit failed', 0), 'commit failed');
    // Ten a second, as a failing commit retried every 100 ms.
    const said: string[] = [];
    for (let at = 100; at < 12_000; at += 100) {
      const line = warning.line('commit failed', at);
      if (line !== undefined) said.push(`${at}: ${line}`);
    }
    assert.deepEqual(said, ['5000: commit failed (49 more like it in the last 5 s)', '10000: commit failed (49 more like it in the last 5 s)']);
  });

  it('is said at once again after a reset', () => {
    const warning = new RepeatedWarning(5_000);
    warning.line('a', 0);
    assert.equal(warning.line('a', 10), undefined);
    warning.reset();
    assert.equal(warning.line('b', 20), 'b');
  });
});
