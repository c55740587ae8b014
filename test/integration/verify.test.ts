import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, TopicPartitionOffsetAndMetadata } from '@confluentinc/kafka-javascript';
import { decodeCommitMetadata, encodeCommitMetadata } from '../../src/processing/commit-metadata.js';
import { BROKERS, committedOffsets, jsonLines, produceRaw, readAll, runOrders, uniqueName } from '../helpers.js';

interface Names { topic: string; dlq: string; group: string }

/** 300 orders consumed to the end, exactly-once, with a third of them dead-lettered. */
async function consumed(prefix: string): Promise<Names & { summary: Record<string, unknown> }> {
  const topic = uniqueName(prefix);
  const names = { topic, dlq: `${topic}-dlq`, group: `${topic}-group` };
  const produced = await runOrders(['produce', '--topic', topic, '--count', '300', '--seed', '25', '--report', 'summary']);
  assert.equal(produced.code, 0, produced.stderr);
  const consume = await runOrders(['consume', '--topic', topic, '--dlq-topic', names.dlq, '--group', names.group, '--fail-rate', '0.3', '--retries', '0', '--backoff-ms', '1', '--seed', '3', '--exit-at-end', '--json'], { timeoutMs: 120_000 });
  assert.equal(consume.code, 0, consume.stderr);
  const summary = jsonLines(consume.stdout).find((event) => event.event === 'summary');
  assert.ok(summary !== undefined, consume.stdout);
  return { ...names, summary };
}

async function verify(names: Names): Promise<{ code: number | null; report: Record<string, unknown>; stderr: string }> {
  const run = await runOrders(['verify', '--group', names.group, '--topic', names.topic, '--dlq-topic', names.dlq, '--json'], { timeoutMs: 90_000 });
  const [report] = jsonLines(run.stdout);
  assert.ok(report !== undefined, `verify printed no JSON: ${run.stderr}`);
  return { code: run.code, report, stderr: run.stderr };
}

/** Commits `offsets` for `group` with a plain librdkafka consumer, as another tool could. */
async function commitAs(group: string, offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
  const consumer = new kafkaJavascript.KafkaConsumer({ 'group.id': group, 'bootstrap.servers': BROKERS, 'enable.auto.commit': false }, {});
  const client = consumer as typeof consumer & { commitCb(offsets: TopicPartitionOffsetAndMetadata[], done: (error: LibrdKafkaError | null) => void): void };
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (error) => (error ? reject(error) : resolve())));
  try {
    await new Promise<void>((resolve, reject) => client.commitCb(offsets, (error) => (error ? reject(error) : resolve())));
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

describe('orders verify', () => {
  it('says a clean exactly-once run is exact, then names an order dead-lettered twice', async () => {
    const names = await consumed('verify-clean');
    const clean = await verify(names);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.report.exact, true);
    assert.deepEqual(clean.report.stats, { count: names.summary.count, total_price: names.summary.total_price });
    assert.deepEqual(clean.report.difference, { count: 0, total_price: 0 });
    assert.equal(clean.report.dead_lettered, names.summary.dlq);
    assert.equal(clean.report.undecided, 0);

    // The same dead letter once more, as a second owner that ran the order again would write it.
    const [letter] = await readAll(names.dlq, Number(names.summary.dlq));
    assert.ok(letter !== undefined);
    await produceRaw(names.dlq, [{ key: letter.key, value: letter.value, headers: letter.headers }]);
    const doubled = await verify(names);
    assert.equal(doubled.code, 1, doubled.stderr);
    assert.equal(doubled.report.exact, false);
    assert.deepEqual(doubled.report.dead_lettered_twice_orders, [{ partition: Number(letter.headers['dlq.original.partition']), offset: Number(letter.headers['dlq.original.offset']), order_id: letter.key?.toString(), copies: 2 }]);
    assert.match(doubled.stderr, /^orders: group \S+ is not exact: 1 order dead-lettered more than once\n$/);
  });

  it('names the difference when a commit carries an aggregate that is not what its orders add up to', async () => {
    const names = await consumed('verify-doctored');
    const { offset, metadata } = (await committedOffsets(BROKERS, names.group, names.topic, [0])).get(0) ?? { offset: -1, metadata: undefined };
    const decoded = decodeCommitMetadata(offset, metadata);
    assert.ok(decoded.kind === 'ours' && decoded.state.aggregate !== undefined, `partition 0 committed ${metadata}`);
    const { totalCents, count } = decoded.state.aggregate;
    const wrong = encodeCommitMetadata(offset, { aggregate: { totalCents: totalCents + 1234, count: count + 1 }, doneAbove: [] }).metadata;
    await commitAs(names.group, [{ topic: names.topic, partition: 0, offset, metadata: wrong }]);

    const doctored = await verify(names);
    assert.equal(doctored.code, 1, doctored.stderr);
    assert.deepEqual(doctored.report.difference, { count: 1, total_price: 12.34 });
    assert.match(doctored.stderr, /stats differs from the orders it stands for by count \+1, total_price \+12\.34/);
  });

  it('refuses a missing group with one line, and bad flags with exit 2', async () => {
    const missing = await runOrders(['verify', '--group', uniqueName('no-group'), '--topic', '__consumer_offsets']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^orders: group \S+ (does not exist|has no committed offset)/);
    const usage = await runOrders(['verify', '--no-such-flag']);
    assert.equal(usage.code, 2);
  });
});
