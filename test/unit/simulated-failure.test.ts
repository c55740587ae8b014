import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failsAttempt } from '../../src/processing/simulated-failure.js';

const ids = Array.from({ length: 20_000 }, (_, i) => `order-${i}`);

describe('simulated failures', () => {
  it('are the same for the same seed, order and attempt', () => {
    const first = ids.map((id) => failsAttempt(42, id, 1, 0.3));
    const second = ids.map((id) => failsAttempt(42, id, 1, 0.3));
    assert.deepEqual(first, second);
  });

  it('differ with another seed or attempt', () => {
    const seed42 = ids.map((id) => failsAttempt(42, id, 1, 0.3));
    const seed43 = ids.map((id) => failsAttempt(43, id, 1, 0.3));
    const attempt2 = ids.map((id) => failsAttempt(42, id, 2, 0.3));
    assert.notDeepEqual(seed42, seed43);
    assert.notDeepEqual(seed42, attempt2);
  });

  it('fail at about the requested rate', () => {
    for (const rate of [0.1, 0.3, 0.7]) {
      const observed = ids.filter((id) => failsAttempt(1, id, 1, rate)).length / ids.length;
      assert.ok(Math.abs(observed - rate) < 0.015, `rate ${rate} observed ${observed}`);
    }
  });

  it('never fail at rate 0 and always fail at rate 1', () => {
    assert.ok(ids.every((id) => !failsAttempt(5, id, 1, 0)));
    assert.ok(ids.every((id) => failsAttempt(5, id, 3, 1)));
  });
});
