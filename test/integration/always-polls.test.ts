import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { assertExact, names } from '../exactness.js';
import { createTopic, jsonLines, produceRaw, runOrders } from '../helpers.js';

// Issue 25, point 1: the front order backs off longer than max.poll.interval.ms while a backlog bigger
// than the hold (20,000 records) waits. A reader that stopped polling once the hold was full was put out
// of its group and retried its commit for ever; one that pauses and keeps polling ends, exact.
const SEED = 25;
const RATE = 0.3;
const RETRIES = 2;
const BACKOFF_MS = 10_000;
const MAX_POLL_INTERVAL_MS = 10_000;
const BACKLOG = 25_000;
const HOLD = 20_000;

const fails = (id: string, attempt: number): boolean => failsAttempt(SEED, id, attempt, RATE);
// The shortest a record failing its first `failures` attempts sleeps: each backoff's jitter is at least half its ceiling.
const shortestBackoffMs = (failures: number): number => {
  let total = 0;
  for (let attempt = 1; attempt <= failures; attempt++) total += Math.min(30_000, BACKOFF_MS * 2 ** (attempt - 1)) / 2;
  return total;
};

describe('a reader that always polls (issue 25, point 1)', () => {
  for (const guarantee of ['exactly-once', 'at-least-once']) {
    it(`--guarantee ${guarantee}: a front order backing off past max.poll.interval.ms with a backlog beyond the hold ends by itself, exact, never leaving its group`, async () => {
      const n = names(`polls-${guarantee}`);
      await createTopic(n.topic, 1);
      // The front order fails twice, then succeeds: it sleeps longer than the poll interval, by construction.
      let front = '';
      for (let i = 0; front === ''; i++) if (fails(`front-${i}`, 1) && fails(`front-${i}`, 2) && !fails(`front-${i}`, 3)) front = `front-${i}`;
      assert.ok(shortestBackoffMs(2) >= MAX_POLL_INTERVAL_MS + 5_000, 'the front order outlasts the poll interval with room to fill the hold');
      assert.ok(BACKLOG > HOLD);
      // A few orders of every fate just behind it; the rest succeed at once, so the run does not outlast the front's backoffs much.
      const mixed = Array.from({ length: 50 }, (_, i) => `mixed-${i}`);
      const quick: string[] = [];
      for (let i = 0; quick.length < BACKLOG - 1 - mixed.length; i++) if (!fails(`order-${i}`, 1)) quick.push(`order-${i}`);
      const ids = [front, ...mixed, ...quick];
      const prices = ids.map((_, i) => 1 + (i % 97));
      await produceRaw(n.topic, ids.map((orderId, i) => ({ key: orderId, value: encodeOrder({ orderId, product: 'pen', price: prices[i] ?? 0, createdAt: 0 }) })));
      const expected = { totalCents: 0, count: 0, dead: [] as string[] };
      ids.forEach((id, i) => {
        if ([1, 2, 3].every((attempt) => fails(id, attempt))) expected.dead.push(id);
        else {
          expected.totalCents += (prices[i] ?? 0) * 100;
          expected.count++;
        }
      });

      const run = await runOrders(['consume', '--guarantee', guarantee, '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group,
        '--fail-rate', String(RATE), '--retries', String(RETRIES), '--backoff-ms', String(BACKOFF_MS), '--seed', String(SEED), '--exit-at-end', '--json',
        '-X', `max.poll.interval.ms=${MAX_POLL_INTERVAL_MS}`], { timeoutMs: 110_000 });
      assert.equal(run.code, 0, run.stderr.slice(-3000));
      // Never put out: no lost partitions, no refused commits, no revoke before the end.
      assert.doesNotMatch(run.stderr, /Unknown member|lost |put this consumer out|commit failed|revoked .* partitions 0/, run.stderr.slice(-3000));
      const summary = jsonLines(run.stdout).find((event) => event.event === 'summary');
      assert.equal(summary?.count, expected.count);
      assert.equal(Math.round(Number(summary?.total_price) * 100), expected.totalCents);
      assert.equal(summary?.dlq, expected.dead.length);
      if (guarantee === 'exactly-once') await assertExact(n, expected);
    });
  }
});
