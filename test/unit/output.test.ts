import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { consumeView } from '../../src/output.js';

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
