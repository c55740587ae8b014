import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOrder, encodeOrder } from '../../src/avro/codec.js';
import { parseConsumeOptions } from '../../src/config/flags.js';
import { orderProcessor } from '../../src/consume/process-order.js';
import type { SourceRecord } from '../../src/kafka/record.js';
import { FlightGate } from '../../src/processing/flight.js';
import type { RetryNotice } from '../../src/consume/tally.js';

const ORDER = { orderId: 'order-1', product: 'desk', price: 12.5, createdAt: 1_700_000_000_000 };
const record = (partition: number, offset: string): SourceRecord =>
  ({ topic: 'orders', partition, offset, timestamp: '0', key: Buffer.from(ORDER.orderId), value: encodeOrder(ORDER), headers: {} });

describe('one record through decode, the simulated step and its retries', () => {
  it('processes an order at fail-rate 0 at once, without a promise', () => {
    const process = orderProcessor(parseConsumeOptions({ failRate: '0' }, {}), { decode: decodeOrder }, { retrying: () => assert.fail('no retry') }, new FlightGate(10));
    const outcome = process(record(0, '5'));
    assert.ok(!(outcome instanceof Promise));
    assert.deepEqual(outcome, { kind: 'processed', order: decodeOrder(encodeOrder(ORDER)), attempts: 1 });
  });

  it('says each retry with its own record\'s partition and offset, then dead-letters, at fail-rate 1', async () => {
    const retries: RetryNotice[] = [];
    const options = parseConsumeOptions({ failRate: '1', retries: '2', backoffMs: '0' }, {});
    const process = orderProcessor(options, { decode: decodeOrder }, { retrying: (event) => retries.push(event) }, new FlightGate(10));
    const [first, second] = await Promise.all([process(record(1, '7')), process(record(2, '9'))]);
    assert.deepEqual([first.kind, first.attempts, second.kind, second.attempts], ['dead-letter', 3, 'dead-letter', 3]);
    assert.deepEqual(retries.map(({ partition, offset, attempt }) => `${partition}@${offset}#${attempt}`).sort(), ['1@7#1', '1@7#2', '2@9#1', '2@9#2']);
    assert.match(retries[0]?.errorMessage ?? '', /order-1/);
  });
});
