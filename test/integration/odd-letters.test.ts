import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { createTopic, jsonLines, produceRaw, readAll, runOrders, uniqueName } from '../helpers.js';

/** Dead letters as another tool might have written them: a timestamp that is not one, no original topic, few headers. */
async function oddLetters(): Promise<{ topic: string; dlq: string }> {
  const topic = uniqueName('odd');
  const dlq = `${topic}-dlq`;
  await createTopic(topic, 1);
  await createTopic(dlq, 1);
  const value = (orderId: string) => encodeOrder({ orderId, product: 'lamp', price: 12.5, createdAt: 1_700_000_000_000 });
  await produceRaw(dlq, [
    { key: 'bad-time', value: value('bad-time'), headers: { 'dlq.original.topic': topic, 'dlq.original.timestamp': 'yesterday', 'dlq.reason': 'retries-exhausted' } },
    { key: 'no-topic', value: value('no-topic'), headers: { 'dlq.reason': 'retries-exhausted', 'dlq.attempts': '3' } },
    { key: 'plain', value: value('plain'), headers: { 'dlq.original.topic': topic, 'dlq.original.partition': '0', 'dlq.original.offset': '7', 'dlq.original.timestamp': '1700000000000', 'dlq.reason': 'undecodable', 'dlq.attempts': '1' } },
  ]);
  return { topic, dlq };
}

describe('dead letters that orders did not write', () => {
  it('dlq-tail shows each of them, missing headers as null, and does not exit 0 having skipped one (defects 3 and 4)', async () => {
    const { topic, dlq } = await oddLetters();
    const human = await runOrders(['dlq-tail', '--dlq-topic', dlq, '--exit-at-end']);
    assert.equal(human.code, 0, human.stderr);
    assert.equal((human.stdout.match(/^Dead letter /gm) ?? []).length, 3, human.stdout);
    assert.match(human.stdout, /reason=retries-exhausted attempts=\? from .*\/\?@\? at "yesterday" failed at \?/);
    assert.match(human.stdout, /Shown 3 dead letters from /);

    const json = await runOrders(['dlq-tail', '--dlq-topic', dlq, '--exit-at-end', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const shown = new Map(jsonLines(json.stdout).filter((event) => event.event === 'dead_letter').map((event) => [event.key, event]));
    assert.equal(shown.get('bad-time')?.attempts, null);
    assert.deepEqual(shown.get('bad-time')?.original, { topic, partition: null, offset: null, timestamp: 'yesterday' });
    assert.deepEqual(shown.get('no-topic')?.original, { topic: null, partition: null, offset: null, timestamp: null });
    assert.equal(shown.get('plain')?.attempts, 1);
  });

  it('dlq-replay skips a letter with no original topic, says so and counts it, and replays the rest (defect 3)', async () => {
    const { topic, dlq } = await oddLetters();
    const run = await runOrders(['dlq-replay', '--dlq-topic', dlq, '--group', `${dlq}-replay`, '--json'], { env: { LOG_LEVEL: 'warn' } });
    assert.equal(run.code, 0, run.stderr);
    const events = jsonLines(run.stdout);
    assert.deepEqual(events.filter((event) => event.event !== 'summary').map((event) => [event.event, event.key]), [
      ['replayed', 'bad-time'], ['skipped-no-topic', 'no-topic'], ['replayed', 'plain'],
    ]);
    assert.deepEqual(events.at(-1), { event: 'summary', replayed: 2, would_replay: 0, skipped: 0, no_topic: 1, dry_run: false });
    assert.match(run.stderr, new RegExp(`dead letter ${dlq}/0@1 has no dlq.original.topic header; skipped`));
    assert.doesNotMatch(run.stderr, /^\s+at /m);
    const replayed = await readAll(topic, 2);
    assert.deepEqual(replayed.map((record) => record.key?.toString()).sort(), ['bad-time', 'plain']);
  });
});
