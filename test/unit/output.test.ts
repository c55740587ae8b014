import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { Writable } from 'node:stream';
import { consumeView } from '../../src/output/consume-view.js';
import { drained } from '../../src/output/terminal.js';
import { orderLine, sentJson } from '../../src/output/json-lines.js';
import { orderGenerator } from '../../src/orders/generate.js';
import { average, totalPrice } from '../../src/processing/aggregate.js';

describe('lines out of the process before a commit (at-least-once)', () => {
  // A reader that takes each write only when told: what it has not taken stays queued in the stream.
  function slowReader(): { stream: Writable; take: () => void } {
    const waiting: Array<() => void> = [];
    const stream = new Writable({ write: (_chunk, _encoding, done) => { waiting.push(done); } });
    return { stream, take: () => { for (const done of waiting.splice(0)) done(); } };
  }

  it('resolves once what was written before has been taken, not before', async () => {
    const { stream, take } = slowReader();
    stream.write('{"event":"order"}\n');
    let out: boolean | undefined;
    void drained(stream, new AbortController().signal).then((result) => { out = result; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(out, undefined, 'the line is still queued: no commit yet');
    take();
    await new Promise((resolve) => setImmediate(resolve));
    take();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(out, true);
  });

  it('resolves false at a stop, so a reader that never reads cannot hold Ctrl-C', async () => {
    const { stream } = slowReader();
    stream.write('{"event":"order"}\n');
    const stop = new AbortController();
    const waiting = drained(stream, stop.signal);
    stop.abort();
    assert.equal(await waiting, false);
    assert.equal(await drained(new Writable({ write: (_chunk, _encoding, done) => done() }), stop.signal), true, 'nothing queued: at once');
  });

  it('resolves false when the write fails (EPIPE: the reader went away), so nothing is committed for lines that never left', async () => {
    const waiting: Array<(error: Error) => void> = [];
    const stream = new Writable({ write: (_chunk, _encoding, done) => { waiting.push(done); } });
    stream.on('error', () => {});
    stream.write('{"event":"order"}\n');
    const out = drained(stream, new AbortController().signal);
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    for (const done of waiting.splice(0)) done(epipe);
    assert.equal(await out, false);
  });
});

describe('the consume progress line', () => {
  it('shows the orders in flight and in backoff each second while retries wait, though nothing else is printed', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const lines: string[] = [];
      const view = consumeView({ json: false, interactive: false, out: (line) => lines.push(line) }, 'orders-dlq');
      view.flight?.({ inFlight: 7, backingOff: 3 });
      mock.timers.tick(1000);
      assert.equal(lines.length, 1);
      assert.match(lines[0] ?? '', /in_flight=7 backing_off=3/);
      view.flight?.({ inFlight: 0, backingOff: 0 });
      mock.timers.tick(1000);
      assert.equal(lines.length, 1, 'a quiet consumer with nothing waiting prints nothing');
      view.close();
    } finally {
      mock.timers.reset();
    }
  });
});

describe('the sent line of produce --json', () => {
  it('is what JSON.stringify makes of the event, for ordinary and awkward orders', () => {
    const next = orderGenerator(5);
    const orders = [next(), next(), { orderId: 'quote " back \\ slash \u2028 é', product: 'tab\there', price: Number.NaN, createdAt: 0 }];
    for (const order of orders) {
      const expected = JSON.stringify({
        event: 'sent', orderId: order.orderId, product: order.product, price: order.price,
        createdAt: new Date(order.createdAt).toISOString(), partition: 2, offset: '12345',
      });
      assert.equal(sentJson(order, 2, '12345'), expected);
    }
  });
});

describe('the order line of consume --json', () => {
  it('is what JSON.stringify makes of the event, for ordinary and awkward orders', () => {
    const next = orderGenerator(9);
    const orders = [next(), { orderId: 'quote " back \\ slash \u2028 é', product: 'tab\there', price: Number.NaN, createdAt: 0 }];
    const aggregates = [{ count: 3, totalCents: 12_345 }, { count: 0, totalCents: 0 }];
    for (const order of orders) {
      for (const aggregate of aggregates) {
        const line = orderLine(order, 1, '77', 2, 14, aggregate);
        const expected = JSON.stringify({
          event: 'order', orderId: order.orderId, partition: 1, offset: '77', status: 'ok', attempts: 2, price: order.price,
          product: order.product, latency_ms: 14, total_price: totalPrice(aggregate), count: aggregate.count, avg: average(aggregate),
        });
        assert.equal(line, expected);
      }
    }
  });

  it('reaches stdout in one write per turn of the event loop, in order, the summary last', async () => {
    const writes: string[] = [];
    const view = consumeView({ json: true, interactive: false, out: (text) => writes.push(text) }, 'orders-dlq');
    const order = orderGenerator(3)();
    for (let offset = 0; offset < 5; offset++) {
      view.processed({ order, partition: 0, offset: String(offset), attempts: 1, aggregate: { count: offset + 1, totalCents: 100 }, latencyMs: 1 });
    }
    view.summary({ processed: 5, succeeded: 5, deadLettered: 0, aggregate: { count: 5, totalCents: 100 }, seed: 1 });
    const lines = writes.join('\n').split('\n');
    assert.equal(lines.length, 6);
    assert.equal(writes.length, 1, 'the five order lines and the summary in one write');
    assert.match(lines[5] ?? '', /"event":"summary"/);
    view.close();
  });

  it('writes what it holds when asked whether it is out, as at-least-once does before each commit', () => {
    const writes: string[] = [];
    const view = consumeView({ json: true, interactive: false, out: (text) => writes.push(text) }, 'orders-dlq');
    view.processed({ order: orderGenerator(4)(), partition: 0, offset: '0', attempts: 1, aggregate: { count: 1, totalCents: 100 }, latencyMs: 1 });
    assert.equal(writes.length, 0, 'held until the end of the turn');
    void view.written?.(new AbortController().signal);
    assert.equal(writes.length, 1, 'out before the commit is asked for');
    view.close();
  });
});
