import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRound } from '../soak/plan.js';

describe('soak plan', () => {
  it('is the same for the same seed and round, whatever ran before it', () => {
    assert.deepEqual(planRound(42, 7, false), planRound(42, 7, false));
    assert.notDeepEqual(planRound(42, 7, false), planRound(42, 8, false));
    assert.notDeepEqual(planRound(42, 7, false), planRound(43, 7, false));
  });

  it('stays in the ranges the issue names, and restarts brokers only on the cluster', () => {
    for (let round = 1; round <= 300; round++) {
      const plan = planRound(5, round, false);
      assert.ok(plan.retries >= 0 && plan.retries <= 8);
      assert.ok(plan.backoffMs >= 1 && plan.backoffMs <= 4000);
      assert.ok(plan.maxInFlight >= 1 && plan.maxInFlight <= 5000);
      assert.ok(plan.orders >= 200 && plan.orders <= 3000);
      assert.ok(!plan.events.some((event) => event.kind === 'broker-restart'));
    }
    assert.ok(Array.from({ length: 50 }, (_, i) => planRound(5, i + 1, true)).some((plan) => plan.events.some((event) => event.kind === 'broker-restart')));
  });
});
