import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_AGGREGATE, addOrder, average, totalPrice } from '../../src/processing/aggregate.js';

describe('aggregate', () => {
  it('is zero when empty, without dividing by zero', () => {
    assert.equal(totalPrice(EMPTY_AGGREGATE), 0);
    assert.equal(average(EMPTY_AGGREGATE), 0);
  });

  it('keeps total, count and average', () => {
    const aggregate = [10, 20, 45.5].reduce(addOrder, EMPTY_AGGREGATE);
    assert.equal(aggregate.count, 3);
    assert.equal(totalPrice(aggregate), 75.5);
    assert.equal(average(aggregate), 7550 / 3 / 100);
  });

  it('sums money exactly, in any order', () => {
    const prices = [0.1, 0.2, 0.3, 499.99, 1.01, 33.33];
    const forward = prices.reduce(addOrder, EMPTY_AGGREGATE);
    const backward = [...prices].reverse().reduce(addOrder, EMPTY_AGGREGATE);
    assert.equal(totalPrice(forward), 534.93);
    assert.deepEqual(forward, backward);
  });

  it('does not change the aggregate it is given', () => {
    const before = addOrder(EMPTY_AGGREGATE, 5);
    addOrder(before, 7);
    assert.deepEqual(before, { totalCents: 500, count: 1 });
  });
});

describe('sum of aggregates', () => {
  it('adds totals and counts of several partitions', async () => {
    const { sumAggregates } = await import('../../src/processing/aggregate.js');
    assert.deepEqual(sumAggregates([]), EMPTY_AGGREGATE);
    assert.deepEqual(sumAggregates([{ totalCents: 150, count: 2 }, { totalCents: 1, count: 1 }]), { totalCents: 151, count: 3 });
  });
});
