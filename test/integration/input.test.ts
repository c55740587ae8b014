import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { BIN, jsonLines, produceRaw, readAll, runCommand, runOrders, startOrders, topicExists, uniqueName, type RawRecord } from '../helpers.js';

// The reader knows the schema file and avsc, not the tool's codec.
const orderSchema = avro.Type.forSchema(JSON.parse(readFileSync(new URL('../../../schemas/order.avsc', import.meta.url), 'utf8')) as avro.Schema);

interface Expected { orderId: string; product: string; price: number; createdAt: number }

function decoded(record: RawRecord): Expected {
  assert.ok(record.value !== null);
  return { ...(orderSchema.fromBuffer(record.value) as Expected) };
}

const STACK_LINE = /^\s+at /m;
const errorLines = (stderr: string): string[] => stderr.trimEnd().split('\n').filter((line) => line.startsWith('orders: '));

// Lines and the order each must become: ISO and epoch createdAt, unicode, a negative and a -0 price,
// three orders of one key (their order within the key is the file's), a blank line, CRLF ends.
const ORDERS: { line: string; order?: Expected }[] = [
  { line: '{"orderId":"k-1","product":"desk","price":12.5,"createdAt":"2026-11-27T10:00:00.123Z"}', order: { orderId: 'k-1', product: 'desk', price: 12.5, createdAt: Date.UTC(2026, 10, 27, 10, 0, 0, 123) } },
  { line: '{"orderId":"same","product":"first","price":1,"createdAt":0}', order: { orderId: 'same', product: 'first', price: 1, createdAt: 0 } },
  { line: '' },
  { line: '{ "createdAt": "2026-11-27T11:00:00+01:00", "price": -3.25, "product": "lampe à poser 💡", "orderId": "k-2" }\r', order: { orderId: 'k-2', product: 'lampe à poser 💡', price: -3.25, createdAt: Date.UTC(2026, 10, 27, 10) } },
  { line: '{"orderId":"same","product":"second","price":0.1,"createdAt":1764237600000}', order: { orderId: 'same', product: 'second', price: 0.1, createdAt: 1_764_237_600_000 } },
  { line: '{"orderId":"k-3","product":"","price":-0,"createdAt":"1969-12-31T23:59:59.9Z"}', order: { orderId: 'k-3', product: '', price: -0, createdAt: -100 } },
  { line: '{"orderId":"same","product":"third","price":1e-7,"createdAt":-4503599627370496}', order: { orderId: 'same', product: 'third', price: 1e-7, createdAt: -(2 ** 52) } },
];
const GOOD = ORDERS.flatMap(({ line, order }) => (order === undefined ? [] : [{ line, order }]));
const fileText = `\uFEFF${ORDERS.map(({ line }) => line).join('\n')}\n`;

/** Every record of `topic` decoded, in the order its key was written, checked against `expected` in file order. */
function assertSameOrders(records: RawRecord[], expected: Expected[]): void {
  assert.equal(records.length, expected.length);
  const byOffset = [...records].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  for (const key of new Set(expected.map(({ orderId }) => orderId))) {
    const written = byOffset.filter((record) => record.key?.toString() === key);
    assert.ok(new Set(written.map(({ partition }) => partition)).size === 1, `key ${key} in one partition`);
    assert.deepEqual(written.map(decoded), expected.filter(({ orderId }) => orderId === key), `orders of key ${key}`);
  }
}

describe('orders produce --input', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'orders-input-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('sends every line of a file as the order it says, exactly, keyed by orderId and stamped when sent', async () => {
    const topic = uniqueName('input-file');
    const path = file('orders.jsonl', fileText);
    const sentFrom = Date.now();
    const run = await runOrders(['produce', '--topic', topic, '--input', path, '--json', '--seed', '5']);
    assert.equal(run.code, 0, run.stderr);
    const events = jsonLines(run.stdout);
    assert.deepEqual(events.at(-1), { ...events.at(-1), event: 'summary', requested: 6, sent: 6, failed: 0, seed: null, input: path });
    // Six orders: a line per order, as for up to 1,000 random ones.
    assert.equal(events.filter((event) => event.event === 'sent').length, 6);
    assert.match(run.stderr, /--seed has no meaning with --input: ignored/);
    const records = await readAll(topic, GOOD.length);
    assertSameOrders(records, GOOD.map(({ order }) => order));
    assert.ok(records.every((record) => Number(record.timestamp) >= sentFrom - 1_000), records.map(({ timestamp }) => timestamp).join());
  });

  it('refuses a file with bad lines, each named, and sends nothing: the topic is not even made', async () => {
    const topic = uniqueName('input-bad');
    const lines = [
      ...GOOD.map(({ line }) => line),
      '{"orderId":"b-1","product":"desk","price":"12,50","createdAt":0}',
      '{"orderId":"b-2","product":"desk","price":1,"createdAt":0,"colour":"red"}',
      '{"orderId":"b-3","product":"desk","price":1}',
      '{"orderId":"b-4","product":"desk","price":1,"createdAt":"2026-02-30T10:00:00Z"}',
      '{"orderId":"b-5","product":"desk","price":1e999,"createdAt":0}',
      `orderId=b-6 ${'x'.repeat(100_000)}`,
      ...Array.from({ length: 7 }, (_, i) => `{"orderId":${i},"product":"desk","price":1,"createdAt":0}`),
    ];
    const path = file('bad.jsonl', lines.join('\n'));
    const run = await runOrders(['produce', '--topic', topic, '--input', path]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.doesNotMatch(run.stderr, STACK_LINE);
    assert.deepEqual(errorLines(run.stderr), [
      `orders: ${path} line 7: price must be a number, got "12,50"`,
      `orders: ${path} line 8: unknown field "colour" (an order has orderId, product, price, createdAt)`,
      `orders: ${path} line 9: createdAt is missing`,
      `orders: ${path} line 10: createdAt is not a valid date: "2026-02-30T10:00:00Z"`,
      `orders: ${path} line 11: price must be a finite number, got Infinity (the number is too large for a double)`,
      `orders: ${path} line 12: not JSON: "orderId=b-6 ${'x'.repeat(28)}…"`,
      ...[0, 1, 2, 3].map((i) => `orders: ${path} line ${13 + i}: orderId must be a string, got ${i}`),
      'orders: ... and 3 more bad lines',
    ]);
    assert.equal(await topicExists(topic), false);
  });

  it('says in one line, exit 2, that a file does not exist or cannot be read', async () => {
    for (const [path, why] of [[join(dir, 'nothere.jsonl'), 'no such file or directory \\(ENOENT\\)'], [dir, 'illegal operation on a directory \\(EISDIR\\)']] as const) {
      const run = await runOrders(['produce', '--topic', uniqueName('input-missing'), '--input', path]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`^orders: --input ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} cannot be read: ${why}\n$`));
    }
  });

  it('--count caps the orders sent, and the lines past them are not read', async () => {
    const topic = uniqueName('input-count');
    const path = file('capped.jsonl', `${fileText}this line is never read\n`);
    const run = await runOrders(['produce', '--topic', topic, '--input', path, '--count', '4', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(jsonLines(run.stdout).at(-1), { ...jsonLines(run.stdout).at(-1), event: 'summary', requested: 4, sent: 4 });
    assertSameOrders(await readAll(topic, 4), GOOD.slice(0, 4).map(({ order }) => order));
  });

  it('sends stdin as it comes; at a bad line it sends exactly the lines before it and exits 1, without waiting for the end', async (t) => {
    const topic = uniqueName('input-stdin');
    const producer = startOrders(t, ['produce', '--topic', topic, '--input', '-', '--json', '--report', 'each'], {}, 'pipe');
    const stdin = producer.child.stdin;
    assert.ok(stdin !== null);
    stdin.write(`${GOOD.slice(0, 3).map(({ line }) => line).join('\n')}\n`);
    // Acknowledged while stdin is still open: sent as they come.
    await producer.waitFor((process) => process.events().filter((event) => event.event === 'sent').length === 3);
    stdin.write(`\n${GOOD[3]?.line ?? ''}\n{"orderId":"bad","product":"desk","price":"12,50","createdAt":0}\n${GOOD[4]?.line ?? ''}\n`);
    const run = await producer.done;
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(errorLines(run.stderr), ['orders: stdin line 6: price must be a number, got "12,50"; stopped there, after sending the 4 orders before it']);
    assert.deepEqual(jsonLines(run.stdout).at(-1), { ...jsonLines(run.stdout).at(-1), event: 'summary', requested: 4, sent: 4, failed: 0, seed: null, input: 'stdin' });
    assertSameOrders(await readAll(topic, 4), GOOD.slice(0, 4).map(({ order }) => order));
  });

  it('takes back the orders dlq-tail --json shows, as the README says (jq -c \'select(.order) | .order\')', async (t) => {
    if (spawnSync('jq', ['--version']).error !== undefined) {
      t.skip('jq is not installed: the README\'s pipeline needs it');
      return;
    }
    const topic = uniqueName('input-dlq');
    const dlq = `${topic}-dlq`;
    const again = `${topic}-again`;
    const sent = await runOrders(['produce', '--topic', topic, '--input', file('dlq.jsonl', fileText)]);
    assert.equal(sent.code, 0, sent.stderr);
    // An undecodable dead letter too: it has no order, and the jq filter leaves it out.
    await produceRaw(topic, [{ key: 'poison', value: Buffer.from([0xff, 0x01]) }]);
    const consumed = await runOrders(['consume', '--topic', topic, '--dlq-topic', dlq, '--group', `${topic}-group`, '--fail-rate', '1', '--retries', '0', '--exit-at-end']);
    assert.equal(consumed.code, 0, consumed.stderr);
    const pipeline = `set -o pipefail; node ${BIN} dlq-tail --dlq-topic ${dlq} --exit-at-end --json | jq -c 'select(.order) | .order' | node ${BIN} produce --topic ${again} --input -`;
    const run = await runCommand(t, 'bash', ['-c', pipeline], 120_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Produced 6 of 6 orders to ${again} in .* from stdin$`, 'm'));
    // dlq-tail prints what JSON.stringify makes of a price of -0: 0.
    assertSameOrders(await readAll(again, GOOD.length), GOOD.map(({ order }) => ({ ...order, price: order.price + 0 })));
  });
});
