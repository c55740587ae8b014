import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConsumeOptions } from '../../src/config/flags.js';
import { followRebalances, type ConsumeParts } from '../../src/consume/mode.js';
import type { KafkaSession } from '../../src/kafka/session.js';
import { PartitionTotals } from '../../src/processing/partition-totals.js';

function partsFor(warnings: string[]): ConsumeParts {
  const totals = new PartitionTotals(false);
  const logger = { info: () => {}, warn: (line: string) => warnings.push(line) };
  return { options: parseConsumeOptions({}, {}), totals, session: { logger } as unknown as KafkaSession } as unknown as ConsumeParts;
}

describe('following rebalances', () => {
  it('commits what finished before partitions leave, after closing their intake', async () => {
    const steps: string[] = [];
    const parts = partsFor([]);
    const hooks = followRebalances(parts, { close: () => steps.push('close'), forget: () => steps.push('forget') }, { revoking: async () => { steps.push('commit'); } });
    hooks.assigned?.([0, 1]);
    await hooks.revoking?.([1], false);
    assert.deepEqual(steps, ['close', 'commit', 'forget']);
    assert.notEqual(parts.totals.lease(0), undefined);
    assert.equal(parts.totals.lease(1), undefined);
  });

  it('makes no commit attempt for lost partitions, and says so (issue 18, defect 3)', async () => {
    const steps: string[] = [];
    const warnings: string[] = [];
    const parts = partsFor(warnings);
    const hooks = followRebalances(parts, { close: () => steps.push('close'), forget: () => steps.push('forget') }, { revoking: async () => { steps.push('commit'); } });
    hooks.assigned?.([0]);
    await hooks.revoking?.([0], true);
    assert.deepEqual(steps, ['close', 'forget']);
    assert.equal(parts.totals.lease(0), undefined);
    assert.match(warnings[0] ?? '', /^lost orders partitions 0 .*not committed/);
  });
});
