import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { AvroDeserializer } from '@confluentinc/schemaregistry/dist/serde/avro.js';
import { SerdeType } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import { ORDER_SCHEMA_TEXT, encodeOrder } from '../../src/avro/codec.js';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { wireHeader } from '../../src/registry/wire.js';
import { createTopic, jsonLines, produceRaw, readAll, runOrders, startOrders, uniqueName, type JsonEvent } from '../helpers.js';
import { AUTH_REGISTRY, AUTH_REGISTRY_USER_INFO, REGISTRY, registerSchema, registryCall, registryProxy } from '../registry-helpers.js';

const ORDER_SCHEMA = JSON.parse(ORDER_SCHEMA_TEXT) as { fields: unknown[] };
// v2 adds a field with a default: BACKWARD-compatible, so the registry takes it after v1.
const V2_SCHEMA = { ...ORDER_SCHEMA, fields: [...ORDER_SCHEMA.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
const v2Type = avro.Type.forSchema(V2_SCHEMA as avro.Schema);

const ofKind = (events: JsonEvent[], kind: string): JsonEvent[] => events.filter((event) => event.event === kind);
const cents = (price: unknown): number => Math.round(Number(price) * 100);

function names(prefix: string) {
  const topic = uniqueName(prefix);
  return { topic, dlq: `${topic}-dlq`, aggregates: `${topic}-agg`, group: `${topic}-group` };
}

type Names = ReturnType<typeof names>;

const consumeArgs = (n: Names, ...flags: string[]): string[] => [
  'consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group, '--json', ...flags,
];

async function produceThrough(registry: string, topic: string, count: number, seed: number, ...flags: string[]): Promise<JsonEvent[]> {
  const run = await runOrders(['produce', '--topic', topic, '--count', String(count), '--seed', String(seed), '--report', 'each', '--json', '--schema-registry', registry, ...flags]);
  assert.equal(run.code, 0, run.stderr);
  return ofKind(jsonLines(run.stdout), 'sent');
}

describe('schema registry mode, against a real registry (Apicurio, Confluent API)', () => {
  it('writes 0x00, the 4-byte id of schemas/order.avsc as registered, then Avro; Confluent\'s own deserializer reads it', async () => {
    const { topic } = names('sr-wire');
    const sent = await produceThrough(REGISTRY, topic, 20, 11);
    const records = await readAll(topic, 20);
    const ids = new Set(records.map((record) => record.value?.readUInt32BE(1)));
    assert.equal(ids.size, 1);
    const [id] = [...ids];
    assert.ok(records.every((record) => record.value?.[0] === 0), 'magic byte');
    // The id resolves to the schema as written, logicalType included.
    const { status, body } = await registryCall(`/schemas/ids/${String(id)}`);
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(String(body.schema)), ORDER_SCHEMA);
    assert.match(String(body.schema), /"logicalType"\s*:\s*"timestamp-millis"/);
    const client = new SchemaRegistryClient({ baseURLs: [REGISTRY] });
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    const byId = new Map(sent.map((event) => [String(event.orderId), event]));
    for (const record of records) {
      const order = (await deserializer.deserialize(topic, record.value ?? Buffer.alloc(0))) as { orderId: string; price: number; product: string };
      const expected = byId.get(order.orderId);
      assert.equal(order.price, expected?.price);
      assert.equal(order.product, expected?.product);
      assert.equal(record.key?.toString(), order.orderId);
    }
    // An identical schema gets its existing id, not a new version.
    await produceThrough(REGISTRY, topic, 1, 12);
    const again = await readAll(topic, 21);
    assert.deepEqual(new Set(again.map((record) => record.value?.readUInt32BE(1))), ids);
  });

  it('reads v1 values and values of a BACKWARD-compatible v2 in one topic: every order once, the aggregate exact to the cent', async () => {
    const n = names('sr-evolve');
    const v1 = await produceThrough(REGISTRY, n.topic, 120, 21);
    // Another producer registers v2 meanwhile; orders keeps writing the id of its own schema.
    const v2Id = await registerSchema(`${n.topic}-value`, V2_SCHEMA);
    const v2Orders = Array.from({ length: 80 }, (_, i) => ({ orderId: `v2-${i}`, product: 'cable', price: 1 + i * 0.37, createdAt: Date.now(), currency: 'USD' }));
    await produceRaw(n.topic, v2Orders.map((order) => ({ key: order.orderId, value: Buffer.concat([wireHeader(v2Id), v2Type.toBuffer(order)]) })));
    const v1Again = await produceThrough(REGISTRY, n.topic, 30, 22);
    const written = await readAll(n.topic, 230);
    assert.equal(new Set(written.map((record) => record.value?.readUInt32BE(1))).size, 2, 'v1 and v2 ids');

    const run = await runOrders([...consumeArgs(n, '--fail-rate', '0', '--exit-at-end'), '--schema-registry', REGISTRY]);
    assert.equal(run.code, 0, run.stderr);
    const processed = ofKind(jsonLines(run.stdout), 'order');
    const expected = [...v1, ...v1Again].map((event) => [String(event.orderId), cents(event.price)] as const).concat(v2Orders.map((order) => [order.orderId, cents(order.price)] as const));
    assert.deepEqual(processed.map((event) => String(event.orderId)).sort(), expected.map(([id]) => id).sort());
    const total = expected.reduce((sum, [, price]) => sum + price, 0);
    const stats = await runOrders(['stats', '--group', n.group, '--topic', n.topic, '--aggregates-topic', n.aggregates, '--json']);
    const [figures] = jsonLines(stats.stdout);
    assert.equal(figures?.count, 230);
    assert.equal(cents(figures?.total_price), total);
  });

  it('dead-letters an unknown id, a missing magic byte, a short value and a truncated body at once, bytes kept, and goes on', async () => {
    const n = names('sr-bad');
    await produceThrough(REGISTRY, n.topic, 30, 31);
    const id = (await readAll(n.topic, 30))[0]?.value?.readUInt32BE(1) ?? -1;
    const body = encodeOrder({ orderId: 'cut', product: 'pen', price: 1, createdAt: 1_700_000_000_000 });
    const poison: Record<string, Buffer> = {
      'unknown-id': Buffer.concat([wireHeader(2_000_000_000), body]),
      'no-magic': body,
      'short': Buffer.from([0, 0, 1]),
      'truncated': Buffer.concat([wireHeader(id), body.subarray(0, body.length - 3)]),
      'trailing': Buffer.concat([wireHeader(id), body, Buffer.from([1, 2])]),
    };
    await produceRaw(n.topic, Object.entries(poison).map(([key, value]) => ({ key, value })));
    await produceThrough(REGISTRY, n.topic, 20, 32);

    const run = await runOrders([...consumeArgs(n, '--fail-rate', '0', '--exit-at-end'), '--schema-registry', REGISTRY]);
    assert.equal(run.code, 0, run.stderr);
    const events = jsonLines(run.stdout);
    assert.equal(ofKind(events, 'order').length, 50);
    const dead = ofKind(events, 'dlq');
    assert.deepEqual(dead.map((event) => [event.reason, event.attempts]), Object.keys(poison).map(() => ['undecodable', 1]));

    const tail = await runOrders(['dlq-tail', '--dlq-topic', n.dlq, '--exit-at-end', '--json', '--schema-registry', REGISTRY]);
    assert.equal(tail.code, 0, tail.stderr);
    const letters = new Map(ofKind(jsonLines(tail.stdout), 'dead_letter').map((letter) => [String(letter.key), letter]));
    assert.equal(letters.size, 5);
    for (const [key, value] of Object.entries(poison)) {
      const letter = letters.get(key);
      assert.equal(letter?.value_base64, value.toString('base64'), `${key}: bytes kept`);
      assert.equal(letter?.order, null);
    }
    assert.match(String(letters.get('unknown-id')?.error), /schema id 2000000000 is not in the schema registry/);
    assert.equal(letters.get('unknown-id')?.schema_id, 2_000_000_000);
    assert.match(String(letters.get('no-magic')?.error), /not the schema registry magic byte/);
    assert.equal(letters.get('no-magic')?.schema_id, null);
    assert.match(String(letters.get('short')?.error), /shorter than the 5-byte schema registry header/);
    assert.match(String(letters.get('truncated')?.error), /not an Avro Order/);
    assert.match(String(letters.get('trailing')?.error), /trailing data/);
    assert.equal(letters.get('trailing')?.schema_id, id);
  });

  it('produce exits 1 with one line when the registry refuses the schema as incompatible, and writes nothing', async () => {
    const { topic } = names('sr-refused');
    await createTopic(topic);
    // The subject's latest version has price as a string: the order schema cannot read that (BACKWARD).
    await registerSchema(`${topic}-value`, { ...ORDER_SCHEMA, fields: [{ name: 'orderId', type: 'string' }, { name: 'price', type: 'string' }] });
    const run = await runOrders(['produce', '--topic', topic, '--count', '5', '--schema-registry', REGISTRY]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^orders: schema registry at .* refused the schema as incompatible .*\(HTTP 409\) registering the schema under subject sr-refused-\S+-value/);
    await readAll(topic, 0);
  });

  it('produce gives one line within --timeout-ms when the registry does not answer', async () => {
    const { topic } = names('sr-down');
    const run = await runOrders(['produce', '--topic', topic, '--count', '5', '--timeout-ms', '2000', '--schema-registry', 'http://127.0.0.1:9/apis/ccompat/v7']);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^orders: schema registry at http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7 did not answer registering the schema .*ECONNREFUSED.*\(gave up after 2000 ms\)/);
    assert.ok(run.elapsedMs < 8_000, `${run.elapsedMs} ms`);
  });

  it('uses basic auth from --config, never shows the password, and refuses a wrong one in one line', { skip: AUTH_REGISTRY === undefined && 'no ORDERS_TEST_AUTH_REGISTRY' }, async () => {
    const n = names('sr-auth');
    const userInfo = AUTH_REGISTRY_USER_INFO ?? '';
    const password = userInfo.slice(userInfo.indexOf(':') + 1);
    const config = join(tmpdir(), `${n.topic}.properties`);
    writeFileSync(config, `schema.registry.url=${AUTH_REGISTRY ?? ''}\nschema.registry.basic.auth.user.info=${userInfo}\n`);
    const env = { LOG_LEVEL: 'debug' };
    const produced = await runOrders(['produce', '--topic', n.topic, '--count', '10', '--config', config], { env });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runOrders([...consumeArgs(n, '--fail-rate', '0', '--exit-at-end'), '--config', config], { env });
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(ofKind(jsonLines(consumed.stdout), 'order').length, 10);
    const wrong = join(tmpdir(), `${n.topic}-wrong.properties`);
    writeFileSync(wrong, `schema.registry.url=${AUTH_REGISTRY ?? ''}\nschema.registry.basic.auth.user.info=orders-test:not-${password}\n`);
    const refused = await runOrders(['produce', '--topic', n.topic, '--count', '1', '--config', wrong], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /orders: schema registry at .* refused the credentials \(HTTP 401\)/);
    // A consumer refused by the registry stops: its orders are not the registry's victims in the DLQ.
    const other = { ...n, group: `${n.group}-2`, dlq: `${n.dlq}-2`, aggregates: `${n.aggregates}-2` };
    const refusedConsumer = await runOrders([...consumeArgs(other, '--fail-rate', '0', '--exit-at-end'), '--config', wrong], { env });
    assert.equal(refusedConsumer.code, 1, refusedConsumer.stderr);
    assert.match(refusedConsumer.stderr, /orders: schema registry at .* refused the credentials \(HTTP 401\) fetching schema id \d+/);
    assert.deepEqual(ofKind(jsonLines(refusedConsumer.stdout), 'dlq'), []);
    await readAll(other.dlq, 0);
    for (const run of [produced, consumed, refused, refusedConsumer]) {
      assert.ok(!`${run.stdout}${run.stderr}`.includes(password), 'the password shows');
    }
  });
});

// The registry is cut twice: before the consumer starts (it must start and wait) and mid-stream, when
// values with a schema id it has not fetched yet arrive. Nothing may be dead-lettered because of it.
for (const guarantee of ['at-least-once', 'exactly-once']) describe(`--guarantee ${guarantee} through a registry outage`, () => {
  it('starts while the registry is cut, waits, goes on once it answers, and stops with its summary on Ctrl-C mid-outage', async (t) => {
    const n = names(`sr-outage-${guarantee.slice(0, 5)}`);
    const seed = 41;
    const rate = 0.3;
    const first = await produceThrough(REGISTRY, n.topic, 150, 42);
    const proxy = await registryProxy(t);
    await proxy.cut();
    const consumer = startOrders(t, [...consumeArgs(n, '--guarantee', guarantee, '--fail-rate', String(rate), '--seed', String(seed), '--backoff-ms', '20'), '--schema-registry', proxy.url], { LOG_LEVEL: 'info' });
    const outcomes = (): JsonEvent[] => consumer.events().filter((event) => event.event === 'order' || event.event === 'dlq');
    await consumer.waitFor((p) => /assigned .* partitions 0, 1, 2/.test(p.stderr), 30_000);
    await consumer.waitFor((p) => /did not answer fetching schema id .*records needing it wait/.test(p.stderr), 10_000);
    // A window in which a wrong consumer would decide (dead-letter) the waiting orders; none may be.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(outcomes(), [], 'nothing may be decided while the registry is cut');

    const restored = performance.now();
    await proxy.restore();
    await consumer.waitFor(() => outcomes().length === 150, 30_000);
    const recoveryMs = performance.now() - restored;
    assert.match(consumer.stderr, /schema registry answers again after/);

    // Mid-stream: values of a schema id the consumer has not seen, while the registry is cut again.
    await proxy.cut();
    const v2Id = await registerSchema(`${n.topic}-value`, V2_SCHEMA);
    const second = Array.from({ length: 60 }, (_, i) => ({ orderId: `late-${i}`, product: 'mug', price: 2 + i * 0.5, createdAt: Date.now(), currency: 'USD' }));
    await produceRaw(n.topic, second.map((order) => ({ key: order.orderId, value: Buffer.concat([wireHeader(v2Id), v2Type.toBuffer(order)]) })));
    await consumer.waitFor((p) => p.stderr.includes(`fetching schema id ${v2Id}`), 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(outcomes().length, 150, 'the new id waits for the registry');
    consumer.child.kill('SIGINT');
    const stopped = await consumer.done;
    assert.equal(stopped.code, 0, stopped.stderr);
    const summary = ofKind(jsonLines(stopped.stdout), 'summary')[0];
    assert.equal(summary?.processed, 150);

    // A second consumer of the group finishes the rest, through the registry.
    const rest = await runOrders([...consumeArgs(n, '--guarantee', guarantee, '--fail-rate', String(rate), '--seed', String(seed), '--backoff-ms', '20', '--exit-at-end'), '--schema-registry', REGISTRY]);
    assert.equal(rest.code, 0, rest.stderr);
    const all = [...outcomes(), ...ofKind(jsonLines(rest.stdout), 'order'), ...ofKind(jsonLines(rest.stdout), 'dlq')];
    const ids = all.map((event) => String(event.orderId));
    const prices = new Map<string, number>([...first.map((event) => [String(event.orderId), cents(event.price)] as const), ...second.map((order) => [order.orderId, cents(order.price)] as const)]);
    assert.deepEqual([...ids].sort(), [...prices.keys()].sort(), 'every order decided exactly once');
    // Dead letters are the simulated failures only, none for the outage.
    const expectedDead = [...prices.keys()].filter((id) => [1, 2, 3].every((attempt) => failsAttempt(seed, id, attempt, rate)));
    const dead = all.filter((event) => event.event === 'dlq');
    assert.deepEqual(dead.map((event) => String(event.orderId)).sort(), expectedDead.sort());
    assert.ok(dead.every((event) => event.reason !== 'undecodable'));
    if (guarantee === 'exactly-once') {
      const stats = await runOrders(['stats', '--group', n.group, '--topic', n.topic, '--aggregates-topic', n.aggregates, '--json']);
      const [figures] = jsonLines(stats.stdout);
      const alive = [...prices].filter(([id]) => !expectedDead.includes(id));
      assert.equal(figures?.count, alive.length);
      assert.equal(cents(figures?.total_price), alive.reduce((sum, [, price]) => sum + price, 0));
    }
    t.diagnostic(`${guarantee}: 150 orders waited through the first cut and were all decided ${Math.round(recoveryMs)} ms after the registry came back`);
  });
});
