import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderGenerator } from '../../src/orders/generate.js';

const take = (seed: number, n: number) => {
  const next = orderGenerator(seed, () => 1_700_000_000_000);
  return Array.from({ length: n }, next);
};

describe('order generator', () => {
  it('makes the same orders from the same seed', () => {
    assert.deepEqual(take(11, 100), take(11, 100));
    assert.notDeepEqual(take(11, 100), take(12, 100));
  });

  it('keeps making the orders it always made from a seed', () => {
    const next = orderGenerator(20_240_601, () => 0);
    assert.deepEqual([next(), next(), next()].map((o) => [o.orderId, o.product, o.price]), [
      ['5a7b19c9-0737-4d34-b060-212435ab6244', 'headset', 120.88],
      ['d397b686-11b8-4a6c-bdd6-bd3ee43cec2a', 'dock', 169.46],
      ['194f7936-b73a-4e69-b2fd-d3bbfc012f11', 'dock', 260.32],
    ]);
  });

  it('makes unique UUID-shaped ids and whole-cent prices from 1.00 to 500.00', () => {
    const orders = take(3, 10_000);
    assert.equal(new Set(orders.map((o) => o.orderId)).size, orders.length);
    for (const order of orders) {
      assert.match(order.orderId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(order.price >= 1 && order.price <= 500, `price ${order.price}`);
      assert.equal(Math.round(order.price * 100) / 100, order.price);
      assert.ok(order.product.length > 0);
    }
  });
});
