import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Order } from '../../src/avro/codec.js';
import { InputOrders, checkLines } from '../../src/orders/order-source.js';
import { readLines, type LineBatch } from '../../src/read-lines.js';

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function allLines(batches: AsyncIterable<LineBatch>): Promise<[number, string | null][]> {
  const lines: [number, string | null][] = [];
  for await (const { first, lines: texts } of batches) texts.forEach((text, at) => lines.push([first + at, text]));
  return lines;
}

const orderLine = (id: string, price: unknown = 1): string => JSON.stringify({ orderId: id, product: 'desk', price, createdAt: 1_700_000_000_000 });

describe('reading input as lines', () => {
  it('numbers lines across chunks, joins a line split between chunks, and keeps a last line without newline', async () => {
    assert.deepEqual(await allLines(readLines(chunks('a\nb', 'c\n\nd\r\n', 'e'))), [[1, 'a'], [2, 'bc'], [3, ''], [4, 'd\r'], [5, 'e']]);
    assert.deepEqual(await allLines(readLines(chunks('a\n'))), [[1, 'a']]);
    assert.deepEqual(await allLines(readLines(chunks())), []);
  });

  it('drops a UTF-8 BOM at the start, also when split, and only there', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    assert.deepEqual(await allLines(readLines(chunks(Buffer.concat([bom, Buffer.from('a\n')]), Buffer.concat([bom, Buffer.from('b')])))), [[1, 'a'], [2, '\uFEFFb']]);
    assert.deepEqual(await allLines(readLines(chunks(bom.subarray(0, 2), Buffer.concat([bom.subarray(2), Buffer.from('a')])))), [[1, 'a']]);
  });

  it('decodes a character split between chunks', async () => {
    const text = Buffer.from('prix 12 €\n');
    const at = text.indexOf(0xe2) + 1;
    assert.deepEqual(await allLines(readLines(chunks(text.subarray(0, at), text.subarray(at)))), [[1, 'prix 12 €']]);
  });

  it('gives a line longer than the limit as null, holding at most the limit of it, and goes on after it', async () => {
    assert.deepEqual(await allLines(readLines(chunks('ok\n', 'x'.repeat(8), 'x'.repeat(8), 'x\nnext\n', 'y'.repeat(11)), 10)), [[1, 'ok'], [2, null], [3, 'next'], [4, null]]);
  });
});

describe('orders of an input', () => {
  it('checks every line, keeping the first few problems and counting the rest', async () => {
    const bad = Array.from({ length: 13 }, (_, i) => orderLine(`bad-${i}`, 'cheap'));
    const check = await checkLines(readLines(chunks(`${orderLine('a')}\n\n${bad.join('\n')}\n${orderLine('b')}\n`)), Number.POSITIVE_INFINITY, 10);
    assert.equal(check.orders, 2);
    assert.equal(check.bad, 13);
    assert.deepEqual(check.firstBad.map(({ line }) => line), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(check.firstBad[0]?.reason, 'price must be a number, got "cheap"');
  });

  it('checks only up to the limit-th order', async () => {
    const check = await checkLines(readLines(chunks(`${orderLine('a')}\n${orderLine('b')}\nnot json\n`)), 2, 10);
    assert.deepEqual(check, { orders: 2, bad: 0, firstBad: [] });
  });

  it('gives the orders before the first bad line, then stops there and reads no further', async () => {
    let chunksRead = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for (const part of [`${orderLine('a')}\n\n${orderLine('b')}\n`, `${orderLine('c', '1,5')}\n`, `${orderLine('d')}\n`]) {
        chunksRead++;
        yield Buffer.from(part);
      }
    }
    const source = new InputOrders(readLines(counted()), new AbortController().signal);
    const orders: Order[] = [];
    for (;;) {
      const order = source.next();
      if (order !== undefined) orders.push(order);
      else if (!(await source.more())) break;
    }
    assert.deepEqual(orders.map(({ orderId }) => orderId), ['a', 'b']);
    assert.deepEqual(source.stoppedAt, { line: 4, reason: 'price must be a number, got "1,5"' });
    assert.equal(chunksRead, 2);
  });

  it('says where a read failed, and that an abort is an end, not a failure', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from(`${orderLine('a')}\n`);
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5 });
    }
    const source = new InputOrders(readLines(failing()), new AbortController().signal);
    assert.equal(await source.more(), true);
    assert.equal(source.next()?.orderId, 'a');
    assert.equal(await source.more(), false);
    assert.deepEqual(source.stoppedAt, { line: 2, reason: 'cannot be read further: i/o error (EIO)' });
    const aborted = new AbortController();
    aborted.abort();
    const stopped = new InputOrders(readLines(failing()), aborted.signal);
    assert.equal(await stopped.more(), true);
    assert.equal(await stopped.more(), false);
    assert.equal(stopped.stoppedAt, undefined);
  });
});
