import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonLines, runOrders, startOrders, uniqueName, type JsonEvent } from '../helpers.js';

interface Names { topic: string; dlq: string; aggregates: string; group: string }

function names(prefix: string): Names {
  const topic = uniqueName(prefix);
  return { topic, dlq: `${topic}-dlq`, aggregates: `${topic}-agg`, group: `${topic}-group` };
}

const consumeArgs = (n: Names, ...flags: string[]): string[] =>
  ['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group, '--fail-rate', '0', '--json', ...flags];

async function produce(n: Names, count: number, seed: number): Promise<void> {
  const run = await runOrders(['produce', '--topic', n.topic, '--count', String(count), '--seed', String(seed), '--report', 'summary']);
  assert.equal(run.code, 0, run.stderr);
}

describe('consumer groups', () => {
  it('exactly-once on a group that has offsets but no aggregates stops at once with one line naming group and partitions (defect 1)', async () => {
    const n = names('gap');
    await produce(n, 60, 11);
    const first = await runOrders(consumeArgs(n, '--guarantee', 'at-least-once', '--exit-at-end'));
    assert.equal(first.code, 0, first.stderr);
    await produce(n, 30, 12);

    for (const extra of [['--exit-at-end'], []]) {
      const run = await runOrders(consumeArgs(n, '--timeout-ms', '5000', ...extra), { timeoutMs: 60_000 });
      assert.equal(run.code, 1, `${extra.join(' ')}: ${run.stderr}`);
      const lines = run.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] ?? '', new RegExp(`^orders: group ${n.group} has committed offsets on ${n.topic} that no aggregate in ${n.aggregates} matches \\(partition \\d: offset \\d+ committed, no aggregate snapshot; .*\\), so its totals cannot be restored; .*Consume under a new --group`));
      // Nothing was counted on top of the gap.
      assert.equal(jsonLines(run.stdout).filter((event) => event.event === 'order' || event.event === 'summary').length, 0, run.stdout);
      assert.ok(run.elapsedMs < 30_000, `took ${Math.round(run.elapsedMs)} ms`);
    }
  });

  it('at-least-once keeps the totals of the partitions it keeps when a second consumer joins (defect 2)', async (t) => {
    const n = names('join');
    await produce(n, 300, 13);
    const env = { LOG_LEVEL: 'info' };
    const a = startOrders(t, consumeArgs(n, '--guarantee', 'at-least-once'), env);
    const orders = (events: JsonEvent[]): JsonEvent[] => events.filter((event) => event.event === 'order');
    await a.waitFor((p) => orders(p.events()).length === 300, 60_000);
    const b = startOrders(t, consumeArgs(n, '--guarantee', 'at-least-once'), env);
    // What a consumer owns by its own log: assignments add, revokes remove (an eager rebalance revokes
    // all and assigns the new set; a cooperative one revokes and assigns only what moves).
    const ownedBy = (stderr: string): number[] => {
      const owned = new Set<number>();
      for (const [, kind, listed = ''] of stderr.matchAll(/"msg":"(assigned|revoked) \S+ partitions ([\d, ]+|none)"/g)) {
        for (const partition of listed === 'none' ? [] : listed.split(', ').map(Number)) if (kind === 'assigned') owned.add(partition); else owned.delete(partition);
      }
      return [...owned].sort();
    };
    // The join is done once b holds partitions and a gave them up.
    await b.waitFor((p) => ownedBy(p.stderr).length > 0, 60_000);
    await a.waitFor((p) => ownedBy(p.stderr).length > 0 && ownedBy(p.stderr).length < 3, 60_000);

    a.child.kill('SIGTERM');
    const stopped = await a.done;
    assert.equal(stopped.code, 0, stopped.stderr);
    const summary = jsonLines(stopped.stdout).at(-1);
    const kept = ownedBy(stopped.stderr);
    const countOf = (partitions: number[]): number => orders(jsonLines(stopped.stdout)).filter((event) => partitions.includes(Number(event.partition))).length;
    assert.ok(kept.length > 0 && kept.length < 3, `a kept partitions ${kept.join(', ')}`);
    assert.equal(summary?.count, countOf(kept), `a kept ${kept.join(', ')}: its count is theirs, not 0 and not all 300`);
    b.child.kill('SIGTERM');
    assert.equal((await b.done).code, 0);
  });
});
