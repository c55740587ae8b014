import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeOrder, encodeOrder } from '../../src/avro/codec.js';
import { UndecodableError } from '../../src/errors.js';
import { orderGenerator, seededRandom } from '../../src/orders/generate.js';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { FAIL_RATE, assertExact, consumeFlags, expectation, names, statsOf, untilStatsCount, type Names } from '../exactness.js';
import { createTopic, ownBroker, startOrders, jsonLines, produceRaw, readAll, runOrders, eventually, type JsonEvent } from '../helpers.js';

// Full sizes by default, in CI too; ORDERS_FAULT_SCALE=0.25 runs a quarter of the orders for a quick local check.
const SCALE = Number(process.env.ORDERS_FAULT_SCALE ?? '1');
const scaled = (n: number): number => Math.max(100, Math.round(n * SCALE));

async function produceOrders(n: Names, count: number, seed: number, extra: string[] = []): Promise<JsonEvent[]> {
  const run = await runOrders(['produce', '--topic', n.topic, '--count', String(count), '--seed', String(seed), '--json', '--report', 'each', ...extra], { timeoutMs: 300_000 });
  assert.equal(run.code, 0, run.stderr);
  return jsonLines(run.stdout).filter((event) => event.event === 'sent');
}

describe('exactly-once under faults (real broker)', { concurrency: false }, () => {
  it('survives 10 SIGKILLs at random moments: stats and DLQ are exact', async (t) => {
    const n = names('kill10');
    const seed = 31;
    const sent = await produceOrders(n, scaled(20_000), 701);
    const expected = expectation(sent, seed);
    const random = seededRandom(4242);

    // Work certainly remains at every kill, by construction: the decisions are a pure function of (seed,
    // orderId, attempt), so the orders failing their first two attempts are known, and with 10 s backoffs
    // (each at least half its delay) none of them can end within 15 s of a consumer's start.
    const backoffMs = 10_000;
    const slowMs = backoffMs / 2 + backoffMs;
    const slow = sent.filter((order) => [1, 2].every((attempt) => failsAttempt(seed, String(order.orderId), attempt, FAIL_RATE)));
    assert.ok(slow.length > 0, 'no order fails its first two attempts');
    // One static member restarted again and again, as a supervisor restarts a crashed service: it gets its
    // partitions back at once, and its transactional id fences the killed one's open transaction at once,
    // so each restart is short (a dynamic member waits for the session and for Kafka to abort that transaction).
    // Room for every slow order at once: with the shared flags' 100 slots, 10 s backoffs would queue them for minutes.
    const flags = [...consumeFlags(n, seed), '--backoff-ms', String(backoffMs), '--max-in-flight', '5000', '--instance-id', 'kill10'];
    let landed = 0;
    for (let kill = 1; kill <= 10; kill++) {
      const started = performance.now();
      const consumer = startOrders(t, flags);
      // A random moment while it works: after its first committed batch, plus up to 1 s more.
      await consumer.waitFor((p) => p.stdout.length > 0, 120_000);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 1000)));
      consumer.child.kill('SIGKILL');
      await consumer.done;
      const ranMs = performance.now() - started;
      assert.ok(ranMs < slowMs, `consumer ${kill} ran ${Math.round(ranMs)} ms: the ${slow.length} slowest orders may have ended before its kill`);
      landed++;
    }
    t.diagnostic(`${landed} SIGKILLs landed mid-stream`);
    assert.equal(landed, 10);
    const last = await runOrders([...flags, '--exit-at-end'], { timeoutMs: 600_000 });
    assert.equal(last.code, 0, last.stderr);
    t.diagnostic(`${sent.length} orders: ${await assertExact(n, expected)}`);
  });

  it('3 consumers in one group on 6 partitions, one killed halfway: stats and DLQ are exact', async (t) => {
    const n = names('group3');
    const seed = 32;
    const sent = await produceOrders(n, scaled(20_000), 702, ['--partitions', '6']);
    const expected = expectation(sent, seed);

    const consumers = [0, 1, 2].map(() => startOrders(t, consumeFlags(n, seed)));
    const handled = (): number => consumers.reduce((sum, c) => sum + c.events().filter((e) => e.event === 'order' || e.event === 'dlq').length, 0);
    await eventually(() => handled() >= sent.length / 2, 300_000, () => `only ${handled()} handled`);
    consumers[1]?.child.kill('SIGKILL');
    await untilStatsCount(n, expected.count, 300_000, [consumers[0], consumers[2]].filter((c) => c !== undefined));
    t.diagnostic(`${sent.length} orders: ${await assertExact(n, expected)}`);
    for (const consumer of [consumers[0], consumers[2]]) consumer?.child.kill('SIGTERM');
    const stopped = await Promise.all([consumers[0]?.done, consumers[2]?.done]);
    for (const run of stopped) assert.equal(run?.code, 0, run?.stderr);
  });

  it('10,000 random and mutated payloads are dead-lettered as undecodable; the aggregate of the valid orders stays exact', async (t) => {
    const n = names('fuzz');
    const random = seededRandom(777);
    const nextOrder = orderGenerator(778);
    const poison = [...poisonPayloads(random, nextOrder, scaled(10_000))];
    const valid = Array.from({ length: scaled(2_000) }, nextOrder);
    // Shuffle valid orders in among the poison, deterministically.
    const records = [...poison.map((value) => ({ key: 'poison', value })), ...valid.map((order) => ({ key: order.orderId, value: encodeOrder(order) }))];
    for (let i = records.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [records[i], records[j]] = [records[j] as (typeof records)[number], records[i] as (typeof records)[number]];
    }
    await createTopic(n.topic);
    for (let i = 0; i < records.length; i += 2_000) await produceRaw(n.topic, records.slice(i, i + 2_000));

    const run = await runOrders(['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group, '--fail-rate', '0', '--exit-at-end', '--json'], { timeoutMs: 600_000 });
    assert.equal(run.code, 0, run.stderr);
    const summary = jsonLines(run.stdout).at(-1);
    assert.equal(summary?.dlq, poison.length);
    assert.equal(summary?.succeeded, valid.length);

    const stats = await statsOf(n);
    assert.equal(stats.count, valid.length);
    assert.equal(Math.round(stats.total_price * 100), valid.reduce((sum, order) => sum + Math.round(order.price * 100), 0));
    const letters = await readAll(n.dlq, poison.length, { timeoutMs: 60_000 });
    assert.ok(letters.every((letter) => letter.headers['dlq.reason'] === 'undecodable'));
    // Byte for byte, empty values included (null would differ from empty here).
    const bytes = (value: Buffer | null): string => (value === null ? 'null' : value.toString('base64'));
    assert.deepEqual(letters.map((letter) => bytes(letter.value)).sort(), poison.map(bytes).sort());
    t.diagnostic(`${poison.length} poison payloads all dead-lettered byte for byte; ${valid.length} valid orders: stats count=${stats.count} total_price=${stats.total_price.toFixed(2)} = expected`);
  });

  it('recovers by itself from a broker stopped for ~10 s mid-run: producer acknowledges all, stats and DLQ are exact', async (t) => {
    const port = Number(process.env.ORDERS_FAULT_BROKER_PORT ?? '19292');
    const broker = `127.0.0.1:${port}`;
    const kafka = ownBroker(port);
    after(() => kafka('reset'));
    kafka('reset');
    kafka('start');

    const n = names('outage');
    const seed = 33;
    const count = scaled(6_000);
    const consumer = startOrders(t, consumeFlags(n, seed, broker));
    // Produce at a steady rate over ~12 s, so the outage lands in the middle of it.
    const producer = runOrders(['produce', '--topic', n.topic, '--count', String(count), '--seed', '703', '--rate', String(Math.ceil(count / 12)), '--json', '--report', 'each', '--broker', broker], { timeoutMs: 300_000 });
    // The outage starts once about a sixth of the orders (2 s of the 12) went through the consumer.
    await consumer.waitFor((p) => p.events().length >= count / 6, 60_000);
    kafka('stop');
    // The outage itself: a fault of a chosen length, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    kafka('start');

    const produced = await producer;
    assert.equal(produced.code, 0, produced.stderr);
    const sent = jsonLines(produced.stdout).filter((event) => event.event === 'sent');
    assert.equal(sent.length, count);
    const expected = expectation(sent, seed);
    await untilStatsCount(n, expected.count, 300_000, [consumer], broker);
    t.diagnostic(`${sent.length} orders: ${await assertExact(n, expected, broker)}`);
    consumer.child.kill('SIGTERM');
    const stopped = await consumer.done;
    assert.equal(stopped.code, 0, stopped.stderr);
  });
});


/** Random bytes and broken encodings of real orders, every one of which the codec must reject. */
function* poisonPayloads(random: () => number, nextOrder: () => ReturnType<ReturnType<typeof orderGenerator>>, count: number): Generator<Buffer> {
  const mutations: ((bytes: Buffer) => Buffer)[] = [
    (bytes) => bytes.subarray(0, Math.floor(random() * bytes.length)), // truncated
    (bytes) => Buffer.concat([bytes, Buffer.from([Math.floor(random() * 256)])]), // trailing byte
    (bytes) => Buffer.concat([Buffer.from([0xfe, 0xff, 0xff, 0x0f]), bytes.subarray(1)]), // orderId longer than the record
    (bytes) => Buffer.concat([bytes.subarray(0, 2), Buffer.from([0xff]), bytes.subarray(3)]), // invalid UTF-8 in orderId
    (bytes) => Buffer.from(bytes.toString('hex')), // hex text instead of Avro
  ];
  let made = 0;
  while (made < count) {
    const candidate = made % 2 === 0
      ? Buffer.from(Array.from({ length: 1 + Math.floor(random() * 80) }, () => Math.floor(random() * 256)))
      : (mutations[Math.floor(random() * mutations.length)] ?? ((bytes: Buffer) => bytes))(encodeOrder(nextOrder()));
    try {
      decodeOrder(candidate);
      continue; // random bytes that happen to be a valid Order are not poison
    } catch (error) {
      if (!(error instanceof UndecodableError)) throw error;
    }
    made++;
    yield candidate;
  }
}
