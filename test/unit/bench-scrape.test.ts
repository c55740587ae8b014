import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { freePort, scrapeEvery } from '../../bench/scrape.js';
import { OrdersMetrics } from '../../src/metrics/metrics.js';

// Generous: the unit suite runs two files at once on 2 cores, beside brokers.
const until = async (condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('bench scrape', () => {
  it('finds a port that can be bound again', async (t) => {
    const port = await freePort();
    assert.ok(port >= 1 && port <= 65_535);
    const server = createServer();
    t.after(() => server.close());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    assert.equal((server.address() as AddressInfo).port, port);
  });

  it('scrapes on its interval and reads orders_consumed_total from the exposition orders serves', async (t) => {
    const metrics = new OrdersMetrics();
    let requests = 0;
    const server = createServer((_, response) => {
      requests++;
      metrics.counts.succeeded += 100;
      void metrics.exposition().then((text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text));
    });
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    // Short intervals, but no scrape given up on a loaded machine: a failed scrape here would be a slow test, not a fault.
    await metrics.exposition();
    const scraper = scrapeEvery(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, 100, 60_000);
    await until(() => requests >= 3, 'three scrapes');
    const scrapes = await scraper.stop();
    assert.equal(scrapes.failed, 0);
    assert.equal(scrapes.answered, requests);
    assert.equal(scrapes.consumed, 100 * requests);
  });

  it('counts an answer other than 200 and a dropped connection as failed scrapes, with no count read', async (t) => {
    let requests = 0;
    const server = createServer((request, response) => {
      requests++;
      // Before the consume is up a scrape is refused; as it exits, the connection goes.
      if (requests % 2 === 1) response.writeHead(503).end('orders_consumed_total{outcome="succeeded"} 5\n');
      else request.socket.destroy();
    });
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const scraper = scrapeEvery(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, 20, 60_000);
    await until(() => requests >= 4, 'four scrapes');
    const scrapes = await scraper.stop();
    assert.deepEqual([scrapes.answered, scrapes.failed], [0, requests]);
    assert.ok(Number.isNaN(scrapes.consumed));
  });
});
