import { createServer, type Server } from 'node:http';
import { UsageError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OrdersMetrics } from './metrics.js';

/** The metrics server of a command run: /metrics, /healthz, /readyz. */
export interface MetricsServer {
  /** The address it listens on, host:port. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Listens on host:port before the command touches Kafka, so a port in use is a usage error (exit 2)
 * before anything is consumed. /metrics is Prometheus text; /healthz is 200 while the command's loop
 * turns; /readyz is 200 while it is ready (consume: partitions assigned and restored), 503 otherwise.
 */
export async function serveMetrics(metrics: OrdersMetrics, host: string, port: number, logger: Logger): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') answer(405, 'method not allowed\n');
    else if (path === '/metrics') {
      metrics.exposition().then((text) => answer(200, text, metrics.contentType), (error: unknown) => answer(500, `${messageOf(error)}\n`));
    } else if (path === '/healthz') answer(metrics.alive() ? 200 : 503, metrics.alive() ? 'ok\n' : 'the consume loop has not turned lately\n');
    else if (path === '/readyz') answer(metrics.ready() ? 200 : 503, metrics.ready() ? 'ready\n' : 'not ready\n');
    else answer(404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  // A scraper's idle connection must not hold the process open at the end.
  server.keepAliveTimeout = 5_000;
  await listen(server, host, port);
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info(`metrics at http://${address}/metrics, health at /healthz and /readyz`);
  return {
    address,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is in use by another process'
        : error.code === 'EACCES' ? 'may not be bound by this user'
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' ? 'is not an address of this machine'
            : `cannot be listened on: ${messageOf(error)}`;
      reject(new UsageError(`--metrics-port ${port}: ${host}:${port} ${why}`, error));
    });
    server.listen(port, host, () => resolve());
  });
}
