import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { consumeView, sentJson } from '../../src/output.js';
import { orderGenerator } from '../../src/orders/generate.js';

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
