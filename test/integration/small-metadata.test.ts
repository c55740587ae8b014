import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { assertExact, names } from '../exactness.js';
import { jsonLines, ownBroker, runOrders } from '../helpers.js';

// Issue 25, point 7: a broker that keeps at most 1,024 bytes of offset commit metadata refused every
// commit that named many finished orders above a slow one, for ever. Its own broker, started here.
const PORT = Number(process.env.ORDERS_SMALL_METADATA_BROKER_PORT ?? String(Number(process.env.KAFKA_PORT ?? '19092') + 70));
const BROKER = `127.0.0.1:${PORT}`;
const SEED = 7;
const RATE = 0.3;
const RETRIES = 3;
const BACKOFF_MS = 2_000;
const ORDERS = 12_000;

const fails = (id: string, attempt: number): boolean => failsAttempt(SEED, id, attempt, RATE);
const kafka = ownBroker(PORT, { KAFKA_OFFSET_METADATA_MAX_BYTES: '1024' });

describe('a broker with offset.metadata.max.bytes=1024 (issue 25, point 7)', { concurrency: false }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orders-small-metadata-'));
    kafka('reset');
    kafka('start');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    kafka('reset');
  });

  for (const guarantee of ['exactly-once', 'at-least-once']) {
    it(`--guarantee ${guarantee}: commits fall back to smaller metadata, the run ends by itself, exact`, async () => {
      const n = names(`small-meta-${guarantee}`);
      // The front order fails three times (7 s of backoff at the least) while thousands finish above it,
      // a fifth of them with gaps: the metadata naming them outgrows 1,024 bytes.
      let front = '';
      for (let i = 0; front === ''; i++) if ([1, 2, 3].every((attempt) => fails(`front-${i}`, attempt)) && !fails(`front-${i}`, 4)) front = `front-${i}`;
      const ids = [front, ...Array.from({ length: ORDERS - 1 }, (_, i) => `order-${i}`)];
      const price = (i: number): number => 1 + (i % 89);
      const input = join(dir, `${n.topic}.jsonl`);
      writeFileSync(input, ids.map((orderId, i) => JSON.stringify({ orderId, product: 'pen', price: price(i), createdAt: 0 })).join('\n'));
      const produced = await runOrders(['produce', '--broker', BROKER, '--topic', n.topic, '--partitions', '1', '--input', input, '--report', 'summary']);
      assert.equal(produced.code, 0, produced.stderr);
      const expected = { totalCents: 0, count: 0, dead: [] as string[] };
      ids.forEach((id, i) => {
        if ([1, 2, 3, 4].every((attempt) => fails(id, attempt))) expected.dead.push(id);
        else {
          expected.totalCents += price(i) * 100;
          expected.count++;
        }
      });

      const run = await runOrders(['consume', '--broker', BROKER, '--guarantee', guarantee, '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates,
        '--group', n.group, '--fail-rate', String(RATE), '--retries', String(RETRIES), '--backoff-ms', String(BACKOFF_MS), '--seed', String(SEED), '--exit-at-end', '--json'], { timeoutMs: 110_000 });
      assert.equal(run.code, 0, run.stderr.slice(-3000));
      // The broker did refuse a commit (the case under test happened), and each step down is said once.
      const steps = (run.stderr.match(/the broker refuses this much offset commit metadata/g) ?? []).length;
      assert.ok(steps >= 1 && steps <= 2, `${steps} fallback warnings: ${run.stderr.slice(-3000)}`);
      const summary = jsonLines(run.stdout).find((event) => event.event === 'summary');
      assert.equal(summary?.count, expected.count);
      assert.equal(Math.round(Number(summary?.total_price) * 100), expected.totalCents);
      assert.equal(summary?.dlq, expected.dead.length);
      if (guarantee === 'exactly-once') await assertExact(n, expected, BROKER);
    });
  }
});
