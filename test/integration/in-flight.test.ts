import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { createTopic, jsonLines, produceRaw, runOrders, uniqueName } from '../helpers.js';

const SEED = 12;
const RATE = 0.5;
const fails = (id: string, attempts: number[]): boolean => attempts.every((attempt) => failsAttempt(SEED, id, attempt, RATE));
/** The first candidate id for which `wanted` holds. */
const idWhere = (prefix: string, wanted: (id: string) => boolean): string => {
  for (let i = 0; ; i++) if (wanted(`${prefix}-${i}`)) return `${prefix}-${i}`;
};

for (const guarantee of ['at-least-once', 'exactly-once']) describe(`--guarantee ${guarantee}: per-key order with orders in flight`, () => {
  it('handles records of one key one after the other in offset order, also when the first is dead-lettered or retried', async () => {
    const topic = uniqueName('perkey');
    await createTopic(topic, 1);
    // Under one key: a record dead-lettered after 3 attempts, one that succeeds on its 2nd, then three more.
    const sameKey = [
      idWhere('dead', (id) => fails(id, [1, 2, 3])),
      idWhere('retried', (id) => fails(id, [1]) && !fails(id, [2])),
      idWhere('ok-a', (id) => !fails(id, [1])),
      idWhere('ok-b', (id) => !fails(id, [1])),
      idWhere('ok-c', (id) => !fails(id, [1])),
    ];
    const others = Array.from({ length: 40 }, (_, i) => idWhere(`other${i}`, (id) => !fails(id, [1])));
    const order = (orderId: string) => encodeOrder({ orderId, product: 'pen', price: 1.25, createdAt: Date.now() });
    // The key's records spread among the others, so other keys run while the key's first waits out its backoffs.
    await produceRaw(topic, [
      ...sameKey.flatMap((orderId, i) => [{ key: 'customer-7', value: order(orderId) }, ...others.slice(i * 8, i * 8 + 8).map((id) => ({ key: id, value: order(id) }))]),
    ]);
    const run = await runOrders(['consume', '--guarantee', guarantee, '--topic', topic, '--dlq-topic', `${topic}-dlq`, '--aggregates-topic', `${topic}-agg`,
      '--group', `${topic}-g`, '--fail-rate', String(RATE), '--seed', String(SEED), '--backoff-ms', '40', '--exit-at-end', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const outcomes = jsonLines(run.stdout).filter((event) => event.event === 'order' || event.event === 'dlq');
    const ofKey = outcomes.filter((event) => sameKey.includes(String(event.orderId)));
    assert.deepEqual(ofKey.map((event) => [event.orderId, event.event]), [
      [sameKey[0], 'dlq'], [sameKey[1], 'order'], [sameKey[2], 'order'], [sameKey[3], 'order'], [sameKey[4], 'order'],
    ]);
    const offsets = ofKey.map((event) => Number(event.offset));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
    assert.equal(outcomes.length, sameKey.length + others.length);
    if (guarantee === 'at-least-once') {
      // Other keys did not wait: most of them finished before the key's first order gave up.
      const deadAt = outcomes.findIndex((event) => event.orderId === sameKey[0]);
      assert.ok(deadAt > others.length / 2, `the dead letter came at position ${deadAt}: other keys waited for it`);
    }
  });
});
