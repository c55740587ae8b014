import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { createTopic, jsonLines, produceRaw, readAll, runOrders, uniqueName, type JsonEvent } from '../helpers.js';

interface Names { topic: string; dlq: string; group: string }

function names(prefix: string): Names {
  const topic = uniqueName(prefix);
  return { topic, dlq: `${topic}-dlq`, group: `${topic}-group` };
}

async function produceOrders(topic: string, count: number, seed: number): Promise<JsonEvent[]> {
  const run = await runOrders(['produce', '--topic', topic, '--count', String(count), '--seed', String(seed), '--json', '--report', 'each']);
  assert.equal(run.code, 0, run.stderr);
  const sent = jsonLines(run.stdout).filter((event) => event.event === 'sent');
  assert.equal(sent.length, count);
  return sent;
}

async function consumeToEnd(n: Names, ...flags: string[]): Promise<JsonEvent[]> {
  const run = await runOrders(['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--group', n.group, '--exit-at-end', '--json', ...flags]);
  assert.equal(run.code, 0, run.stderr);
  return jsonLines(run.stdout);
}

const ofKind = (events: JsonEvent[], kind: string) => events.filter((event) => event.event === kind);
const idsOf = (events: JsonEvent[]) => events.map((event) => String(event.orderId));

describe('orders consume on a real broker', () => {
  it('with fail-rate 0 processes every order once, in partition order, and avg is the mean price', async () => {
    const n = names('all-ok');
    const sent = await produceOrders(n.topic, 200, 101);
    const events = await consumeToEnd(n, '--fail-rate', '0');

    const processed = ofKind(events, 'order');
    assert.deepEqual(idsOf(processed).sort(), idsOf(sent).sort());
    assert.ok(processed.every((event) => event.status === 'ok' && event.attempts === 1));
    for (const partition of [0, 1, 2]) {
      const offsets = processed.filter((event) => event.partition === partition).map((event) => Number(event.offset));
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `partition ${partition} out of order`);
    }
    const prices = sent.map((event) => Number(event.price));
    const mean = prices.reduce((sum, price) => sum + price, 0) / prices.length;
    const summary = events.at(-1);
    assert.equal(summary?.event, 'summary');
    assert.equal(summary?.processed, 200);
    assert.equal(summary?.succeeded, 200);
    assert.equal(summary?.dlq, 0);
    assert.equal(summary?.count, 200);
    assert.ok(Math.abs(Number(summary?.avg) - mean) < 1e-9, `avg ${String(summary?.avg)} vs mean ${mean}`);
    assert.equal(Math.round(Number(summary?.total_price) * 100), Math.round(prices.reduce((sum, price) => sum + price * 100, 0)));
  });

  it('with fail-rate 1 dead-letters every order with its original bytes and all headers', async () => {
    const n = names('all-fail');
    await produceOrders(n.topic, 30, 202);
    const traced = { orderId: 'traced-1', product: 'desk', price: 10, createdAt: Date.now() };
    await produceRaw(n.topic, [{ key: traced.orderId, value: encodeOrder(traced), headers: { 'trace-id': 'abc-123' } }]);
    const events = await consumeToEnd(n, '--fail-rate', '1', '--retries', '2', '--backoff-ms', '1');

    const deadLettered = ofKind(events, 'dlq');
    assert.equal(deadLettered.length, 31);
    assert.ok(deadLettered.every((event) => event.reason === 'retries-exhausted' && event.attempts === 3));
    assert.equal(ofKind(events, 'retry').length, 62);
    assert.deepEqual({ ...events.at(-1), seed: 0 }, { event: 'summary', processed: 31, succeeded: 0, dlq: 31, total_price: 0, count: 0, avg: 0, seed: 0 });

    const originals = await readAll(n.topic, 31);
    const letters = new Map((await readAll(n.dlq, 31)).map((letter) => [letter.key?.toString(), letter]));
    for (const original of originals) {
      const letter = letters.get(original.key?.toString());
      assert.ok(letter, `no dead letter for ${original.key?.toString()}`);
      assert.ok(letter.value?.equals(original.value ?? Buffer.alloc(0)), 'value bytes changed');
      assert.equal(letter.headers['dlq.original.topic'], n.topic);
      assert.equal(letter.headers['dlq.original.partition'], String(original.partition));
      assert.equal(letter.headers['dlq.original.offset'], original.offset);
      assert.match(letter.headers['dlq.original.timestamp'] ?? '', /^\d{13}$/);
      assert.equal(letter.headers['dlq.consumer.group'], n.group);
      assert.equal(letter.headers['dlq.attempts'], '3');
      assert.equal(letter.headers['dlq.reason'], 'retries-exhausted');
      assert.match(letter.headers['dlq.error.message'] ?? '', /simulated transient failure/);
      assert.ok(!Number.isNaN(Date.parse(letter.headers['dlq.failed.at'] ?? '')));
    }
    assert.equal(letters.get('traced-1')?.headers['trace-id'], 'abc-123');
  });

  for (const guarantee of ['exactly-once', 'at-least-once']) it(`--guarantee ${guarantee}, fail-rate 0.3 and a seed: each order succeeds or is dead-lettered, exactly as the seed decides`, async () => {
    const n = names('seeded');
    const sent = await produceOrders(n.topic, 300, 303);
    const seed = 5;
    const events = await consumeToEnd(n, '--guarantee', guarantee, '--fail-rate', '0.3', '--seed', String(seed), '--retries', '2', '--backoff-ms', '1');

    const succeeded = idsOf(ofKind(events, 'order'));
    const deadLettered = idsOf(ofKind(events, 'dlq'));
    const expectedDead = idsOf(sent).filter((id) => [1, 2, 3].every((attempt) => failsAttempt(seed, id, attempt, 0.3)));
    assert.ok(expectedDead.length > 0, 'the seed should dead-letter some orders');
    assert.equal(succeeded.length + deadLettered.length, 300);
    assert.equal(new Set([...succeeded, ...deadLettered]).size, 300, 'an order was handled twice');
    assert.deepEqual(deadLettered.sort(), expectedDead.sort());
    const summary = events.at(-1);
    assert.equal(summary?.succeeded, 300 - expectedDead.length);
    assert.equal(summary?.dlq, expectedDead.length);
    await readAll(n.dlq, expectedDead.length);
  });

  it('dead-letters poison records at once and carries on with the valid ones', async () => {
    const n = names('poison');
    await createTopic(n.topic, 1);
    const valid = (id: string) => ({ key: id, value: encodeOrder({ orderId: id, product: 'mouse', price: 2.5, createdAt: Date.now() }) });
    const truncated = encodeOrder({ orderId: 'cut', product: 'mouse', price: 1, createdAt: 1 }).subarray(0, 6);
    const poison = [Buffer.from('definitely not avro'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), truncated];
    await produceRaw(n.topic, [
      valid('v1'),
      { key: 'p1', value: poison[0] ?? null },
      { key: 'p2', value: poison[1] ?? null },
      valid('v2'),
      { key: 'p3', value: poison[2] ?? null },
      { key: 'p4', value: null },
      valid('v3'),
    ]);
    const events = await consumeToEnd(n, '--fail-rate', '0');

    assert.deepEqual(idsOf(ofKind(events, 'order')), ['v1', 'v2', 'v3']);
    const dead = ofKind(events, 'dlq');
    assert.deepEqual(dead.map((event) => [event.orderId, event.offset, event.reason, event.attempts]), [
      [null, '1', 'undecodable', 1], [null, '2', 'undecodable', 1], [null, '4', 'undecodable', 1], [null, '5', 'undecodable', 1],
    ]);
    const letters = await readAll(n.dlq, 4);
    const byKey = new Map(letters.map((letter) => [letter.key?.toString(), letter]));
    assert.ok(byKey.get('p1')?.value?.equals(poison[0] ?? Buffer.alloc(0)));
    assert.ok(byKey.get('p2')?.value?.equals(poison[1] ?? Buffer.alloc(0)));
    assert.ok(byKey.get('p3')?.value?.equals(poison[2] ?? Buffer.alloc(0)));
    assert.equal(byKey.get('p4')?.value, null);
    assert.ok(letters.every((letter) => letter.headers['dlq.reason'] === 'undecodable'));

    // dlq-tail shows every dead letter, undecodable ones as base64, and leaves no position behind.
    for (let round = 0; round < 2; round++) {
      const tail = await runOrders(['dlq-tail', '--dlq-topic', n.dlq, '--exit-at-end', '--json']);
      assert.equal(tail.code, 0, tail.stderr);
      const shown = ofKind(jsonLines(tail.stdout), 'dead_letter');
      assert.deepEqual(shown.map((letter) => letter.key).sort(), ['p1', 'p2', 'p3', 'p4']);
      const p1 = shown.find((letter) => letter.key === 'p1');
      assert.equal(p1?.value_base64, poison[0]?.toString('base64'));
      assert.equal(p1?.order, null);
      assert.equal(p1?.reason, 'undecodable');
      const original = p1?.original as { topic: string; partition: number; offset: string };
      assert.deepEqual([original.topic, original.partition, original.offset], [n.topic, 0, '1']);
    }
  });

  it('dlq-tail shows decoded dead letters with reason, attempts and origin', async () => {
    const n = names('tail');
    const sent = await produceOrders(n.topic, 12, 404);
    await consumeToEnd(n, '--fail-rate', '1', '--retries', '1', '--backoff-ms', '1');

    const json = await runOrders(['dlq-tail', '--dlq-topic', n.dlq, '--exit-at-end', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const shown = ofKind(jsonLines(json.stdout), 'dead_letter');
    assert.deepEqual(shown.map((letter) => (letter.order as { orderId: string }).orderId).sort(), idsOf(sent).sort());
    assert.ok(shown.every((letter) => letter.reason === 'retries-exhausted' && letter.attempts === 2 && letter.value_base64 === null));
    assert.deepEqual(jsonLines(json.stdout).at(-1), { event: 'summary', dead_letters: 12 });

    const human = await runOrders(['dlq-tail', '--dlq-topic', n.dlq, '--exit-at-end']);
    assert.equal(human.code, 0, human.stderr);
    assert.equal((human.stdout.match(/^Dead letter /gm) ?? []).length, 12);
    assert.match(human.stdout, new RegExp(`reason=retries-exhausted attempts=2 from ${n.topic}/\\d@\\d+ at `));
    assert.match(human.stdout, /Shown 12 dead letters from /);
  });
});
