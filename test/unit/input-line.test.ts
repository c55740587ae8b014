import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOrder, encodeOrder, type Order } from '../../src/avro/codec.js';
import { BadLine, isoMillis, parseOrderLine } from '../../src/orders/input-line.js';

const good: Order = { orderId: 'o-1', product: 'desk', price: 12.5, createdAt: Date.UTC(2026, 10, 27, 10, 0, 0, 123) };
const line = (fields: Record<string, unknown>): string => JSON.stringify({ orderId: 'o-1', product: 'desk', price: 12.5, createdAt: '2026-11-27T10:00:00.123Z', ...fields });

function reason(text: string): string {
  const parsed = parseOrderLine(text);
  assert.ok(parsed instanceof BadLine, `${text} was taken as ${JSON.stringify(parsed)}`);
  return parsed.reason;
}

describe('one line of --input', () => {
  it('reads an order with createdAt as ISO-8601 or epoch milliseconds, to the same order', () => {
    assert.deepEqual(parseOrderLine(line({})), good);
    assert.deepEqual(parseOrderLine(line({ createdAt: good.createdAt })), good);
    assert.deepEqual(parseOrderLine(line({ createdAt: '2026-11-27T11:00:00.123+01:00' })), good);
    assert.deepEqual(parseOrderLine(line({ createdAt: '2026-11-27T05:30:00.123-0430' })), good);
    // The fields in any order, with spaces, and a CR of a CRLF file.
    assert.deepEqual(parseOrderLine(` { "createdAt": ${good.createdAt}, "price": 12.5, "product": "desk", "orderId": "o-1" }\r`), good);
  });

  it('skips a blank line', () => {
    for (const blank of ['', ' ', '\t \r', '\r']) assert.equal(parseOrderLine(blank), undefined, JSON.stringify(blank));
  });

  it('names an unknown field, listing the fields an order has', () => {
    assert.equal(reason(line({ colour: 'red' })), 'unknown field "colour" (an order has orderId, product, price, createdAt)');
    assert.equal(reason(line({ __proto__x: 1 })), 'unknown field "__proto__x" (an order has orderId, product, price, createdAt)');
  });

  it('names a missing field', () => {
    for (const field of ['orderId', 'product', 'price', 'createdAt']) {
      const fields = JSON.parse(line({})) as Record<string, unknown>;
      delete fields[field];
      assert.equal(reason(JSON.stringify(fields)), `${field} is missing`);
    }
  });

  it('names a field of the wrong type, quoting a short value', () => {
    assert.equal(reason(line({ price: '12,50' })), 'price must be a number, got "12,50"');
    assert.equal(reason(line({ orderId: 42 })), 'orderId must be a string, got 42');
    assert.equal(reason(line({ product: null })), 'product must be a string, got null');
    assert.equal(reason(line({ product: ['desk'] })), 'product must be a string, got an array');
    assert.equal(reason(line({ createdAt: true })), 'createdAt must be an ISO-8601 date-time or epoch milliseconds, got true');
    assert.equal(reason(line({ orderId: '' })), 'orderId must not be empty');
    assert.equal(reason(line({ product: 'a\uFFFDb' })), 'product holds U+FFFD, what invalid UTF-8 decodes to; consumers would dead-letter it');
    const long = 'x'.repeat(5_000);
    assert.equal(reason(line({ price: long })), `price must be a number, got "${'x'.repeat(40)}…"`);
  });

  it('refuses an invalid date, one without a zone, and more than millisecond precision', () => {
    assert.equal(reason(line({ createdAt: '2026-02-30T10:00:00Z' })), 'createdAt is not a valid date: "2026-02-30T10:00:00Z"');
    assert.equal(reason(line({ createdAt: '2026-11-27T24:00:00Z' })), 'createdAt is not a valid date: "2026-11-27T24:00:00Z"');
    assert.equal(reason(line({ createdAt: '2026-11-27 10:00:00' })), 'createdAt must be an ISO-8601 date-time with a zone (2026-11-27T10:00:00Z) or epoch milliseconds, got "2026-11-27 10:00:00"');
    assert.match(reason(line({ createdAt: 'yesterday' })), /^createdAt must be an ISO-8601 date-time with a zone/);
    assert.equal(reason(line({ createdAt: '2026-11-27T10:00:00.1234Z' })), 'createdAt must be whole milliseconds, got "2026-11-27T10:00:00.1234Z" (4 digits of a second)');
    assert.equal(reason(line({ createdAt: 1.5 })), 'createdAt must be whole epoch milliseconds, got 1.5');
    // avsc would write -2^52 - 1 as a long that decodes to +2^52.
    assert.equal(reason(line({ createdAt: -(2 ** 52) - 1 })), 'createdAt must be within ±2^52 ms of 1970, got -4503599627370497');
    assert.equal(reason(line({ createdAt: '+275760-09-13T00:00:00.000Z' })), 'createdAt must be within ±2^52 ms of 1970 (about 142,000 years), got "+275760-09-13T00:00:00.000Z"');
  });

  it('refuses a price that is not finite', () => {
    assert.equal(reason('{"orderId":"o-1","product":"desk","price":1e999,"createdAt":1}'), 'price must be a finite number, got Infinity (the number is too large for a double)');
    assert.equal(reason('{"orderId":"o-1","product":"desk","price":-1e999,"createdAt":1}'), 'price must be a finite number, got -Infinity (the number is too large for a double)');
  });

  it('says a line that is not JSON, or not an object, is no order, without echoing it whole', () => {
    const text = `orderId=1, price=2 ${'y'.repeat(10_000)}`;
    const message = reason(text);
    assert.equal(message, `not JSON: "${text.slice(0, 40)}…"`);
    assert.equal(reason('{"orderId":"o-1",'), 'not JSON: "{\\"orderId\\":\\"o-1\\","');
    assert.equal(reason('[1,2]'), 'not a JSON object of an order, got an array');
    assert.equal(reason('42'), 'not a JSON object of an order, got 42');
    assert.equal(reason('null'), 'not a JSON object of an order, got null');
  });

  it('gives orders whose Avro bytes decode to exactly the line\'s values', () => {
    const lines = [
      line({ price: 0.1 }), line({ price: -0 }), line({ price: 1.7976931348623157e308 }), line({ price: 5e-324 }),
      line({ orderId: 'ünïcødé 🚀', product: '' }), line({ createdAt: 0 }), line({ createdAt: -(2 ** 52) }), line({ createdAt: 2 ** 52 }), line({ createdAt: '+100000-01-01T00:00:00.000Z' }),
    ];
    for (const text of lines) {
      const order = parseOrderLine(text);
      assert.ok(order !== undefined && !(order instanceof BadLine), text);
      const fields = JSON.parse(text) as Order & { createdAt: unknown };
      assert.deepEqual({ ...decodeOrder(encodeOrder(order)) }, { ...fields, createdAt: order.createdAt }, text);
    }
  });
});

describe('ISO-8601 date-times', () => {
  it('agree with Date.parse wherever both read a date-time with a zone', () => {
    const texts = [
      '2026-11-27T10:00:00Z', '2026-11-27T10:00Z', '2024-02-29T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.9Z',
      '2000-03-01T00:00:00+14:00', '1900-02-28T12:00:00-12:00', '0001-01-01T00:00:00Z', '-000001-06-30T12:00:00Z', '+100000-09-13T00:00:00Z',
    ];
    for (const text of texts) assert.equal(isoMillis(text), Date.parse(text), text);
    // Date.UTC would take the year 50 for 1950.
    const fifty = new Date(0);
    fifty.setUTCFullYear(50, 0, 1);
    assert.equal(isoMillis('0050-01-01T00:00:00Z'), fifty.getTime());
  });

  it('reads what JavaScript and Python write (Z and +HH:MM, with and without milliseconds) as Date.parse does, and refuses near misses', () => {
    let instant = -62_135_596_800_000; // 0001-01-01
    for (let step = 0; step < 2_000; step++) {
      instant += 1_234_567_891_013 + step * 7; // ~14 days and odd milliseconds, through years 1 to 9999
      if (instant > 253_402_300_799_999) break;
      const iso = new Date(instant).toISOString();
      for (const text of [iso, `${iso.slice(0, -1)}+00:00`, `${iso.slice(0, 19)}Z`, `${iso.slice(0, -1)}-05:30`, `${iso.slice(0, 19)}+13:45`]) {
        assert.equal(isoMillis(text), Date.parse(text), text);
      }
    }
    for (const text of ['2026-11-27T10:00:00.12Z', '2026-11-27T10:00:00.1234Z', '2026-11-27T24:00:00.000Z', '2026-11-27T10:60:00Z', '2026-11-27T10:00:60+00:00',
      '2026-11-27T10:00:00.000+24:00', '2026-11-27T10:00:00+01:60', '2026-11-27 10:00:00.000Z', '2026-11-2710:00:00.000Z', '2026-1a-27T10:00:00.000Z', '2026-11-27T10:00:00.000z']) {
      const millis = isoMillis(text);
      // The near misses the regex takes (two digits of a second) still agree with Date.parse; the rest are refused.
      if (typeof millis === 'number') assert.equal(millis, Date.parse(text), text);
      else assert.ok(millis instanceof BadLine, text);
    }
    assert.ok(isoMillis('2026-11-27T10:00:00.1234Z') instanceof BadLine);
    assert.ok(isoMillis('2026-11-27T24:00:00.000Z') instanceof BadLine);
  });

  it('refuses days a month does not have', () => {
    for (const text of ['2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z']) {
      assert.ok(isoMillis(text) instanceof BadLine, text);
    }
    assert.equal(isoMillis('2000-02-29T00:00:00Z'), Date.UTC(2000, 1, 29));
  });
});
