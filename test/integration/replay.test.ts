import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonLines, readAll, runOrders, uniqueName, type JsonEvent } from '../helpers.js';

interface Names { topic: string; dlq: string; aggregates: string; group: string; replayGroup: string }

function names(prefix: string): Names {
  const topic = uniqueName(prefix);
  return { topic, dlq: `${topic}-dlq`, aggregates: `${topic}-agg`, group: `${topic}-group`, replayGroup: `${topic}-replay` };
}

async function orders(args: string[]): Promise<JsonEvent[]> {
  const run = await runOrders([...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return jsonLines(run.stdout);
}

const consume = (n: Names, failRate: string) =>
  orders(['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group, '--fail-rate', failRate, '--retries', '0', '--exit-at-end']);
const replay = (n: Names, ...flags: string[]) => orders(['dlq-replay', '--dlq-topic', n.dlq, '--group', n.replayGroup, ...flags]);
const stats = async (n: Names) => (await orders(['stats', '--group', n.group, '--topic', n.topic, '--aggregates-topic', n.aggregates]))[0];

describe('orders dlq-replay and orders stats', () => {
  it('replays each dead letter once, and the replayed orders complete the aggregate', async () => {
    const n = names('replay');
    const sent = (await orders(['produce', '--topic', n.topic, '--count', '12', '--seed', '901'])).filter((e) => e.event === 'sent');
    await consume(n, '1');
    assert.deepEqual({ ...(await stats(n)) }, { event: 'stats', group: n.group, topic: n.topic, total_price: 0, count: 0, avg: 0 });

    const dry = await replay(n, '--dry-run', '--limit', '5');
    assert.equal(dry.filter((e) => e.event === 'would-replay').length, 5);
    assert.deepEqual(dry.at(-1), { event: 'summary', replayed: 0, would_replay: 5, skipped: 0, no_topic: 0, dry_run: true });

    const first = await replay(n, '--limit', '5');
    assert.equal(first.filter((e) => e.event === 'replayed').length, 5);
    const rest = await replay(n);
    assert.equal(rest.filter((e) => e.event === 'replayed').length, 7);
    const again = await replay(n);
    assert.deepEqual(again, [{ event: 'summary', replayed: 0, would_replay: 0, skipped: 0, no_topic: 0, dry_run: false }]);
    const replayedKeys = [...first, ...rest].filter((e) => e.event === 'replayed').map((e) => String(e.key)).sort();
    assert.deepEqual(replayedKeys, sent.map((e) => String(e.orderId)).sort());

    // The replayed records carry the original bytes and a replay count, and now succeed.
    const records = await readAll(n.topic, 24);
    const replays = records.filter((record) => record.headers['dlq.replay.count'] === '1');
    assert.equal(replays.length, 12);
    assert.ok(replays.every((record) => Object.keys(record.headers).every((name) => !name.startsWith('dlq.') || name === 'dlq.replay.count')));
    for (const replayed of replays) {
      const original = records.find((record) => record.key?.equals(replayed.key ?? Buffer.alloc(0)) && record !== replayed);
      assert.ok(original?.value?.equals(replayed.value ?? Buffer.alloc(0)), 'replayed value bytes differ from the original');
    }
    await consume(n, '0');
    const total = sent.reduce((sum, e) => sum + Math.round(Number(e.price) * 100), 0);
    const after = await stats(n);
    assert.equal(after?.count, 12);
    assert.equal(Math.round(Number(after?.total_price) * 100), total);
  });

  it('filters by reason and orderId, and skips letters replayed --max-replays times', async () => {
    const n = names('filters');
    const sent = (await orders(['produce', '--topic', n.topic, '--count', '4', '--seed', '902'])).filter((e) => e.event === 'sent');
    await consume(n, '1');

    assert.deepEqual((await replay(n, '--reason', 'undecodable', '--dry-run')).at(-1), { event: 'summary', replayed: 0, would_replay: 0, skipped: 0, no_topic: 0, dry_run: true });
    const target = String(sent[0]?.orderId);
    const one = await replay(n, '--order-id', target, '--group', uniqueName('by-id'));
    assert.deepEqual(one.filter((e) => e.event === 'replayed').map((e) => e.key), [target]);

    // Fail the replayed order again, then replay it with --max-replays 1: it is skipped.
    await consume(n, '1');
    const skipped = await replay(n, '--order-id', target, '--max-replays', '1', '--group', uniqueName('max'));
    assert.deepEqual(skipped.filter((e) => e.event !== 'summary').map((e) => [e.event, e.key, e.replay_count]), [
      ['replayed', target, 1],
      ['skipped-max-replays', target, 1],
    ]);
  });

  it('rejects an unknown --reason with one line and exit code 2', async () => {
    const run = await runOrders(['dlq-replay', '--reason', 'bored']);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, 'orders: --reason must be one of retries-exhausted, undecodable, non-retryable, got "bored"\n');
  });
});
