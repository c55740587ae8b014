import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineBudget } from '../../src/output/line-budget.js';

describe('line budget', () => {
  it('allows up to perSecond lines per one-second window and counts the rest', () => {
    const budget = new LineBudget(3);
    const allowed = [0, 10, 20, 30, 40].map((t) => budget.allow(1_000 + t));
    assert.deepEqual(allowed, [true, true, true, false, false]);
    assert.equal(budget.takeSuppressed(), 2);
    assert.equal(budget.takeSuppressed(), 0);
  });

  it('starts a new window after a second', () => {
    const budget = new LineBudget(1);
    assert.equal(budget.allow(5_000), true);
    assert.equal(budget.allow(5_999), false);
    assert.equal(budget.allow(6_000), true);
  });
});
