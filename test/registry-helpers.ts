import { createServer, connect, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/** The open schema registry that scripts/test.sh started, and the one that wants basic auth. */
export const REGISTRY = process.env.ORDERS_TEST_REGISTRY ?? 'http://127.0.0.1:18081/apis/ccompat/v7';
export const AUTH_REGISTRY = process.env.ORDERS_TEST_AUTH_REGISTRY;
export const AUTH_REGISTRY_USER_INFO = process.env.ORDERS_TEST_AUTH_REGISTRY_USER_INFO;

/** One call of the registry's REST API; the parsed body and the status. */
export async function registryCall(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${REGISTRY}${path}`, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Registers an Avro schema under `subject` and returns its id; fails on any refusal. */
export async function registerSchema(subject: string, schema: unknown): Promise<number> {
  const { status, body } = await registryCall(`/subjects/${subject}/versions`, { method: 'POST', body: { schema: JSON.stringify(schema) } });
  if (status !== 200 || typeof body.id !== 'number') throw new Error(`registering under ${subject}: HTTP ${status} ${JSON.stringify(body)}`);
  return body.id;
}

/**
 * A TCP proxy on 127.0.0.1 in front of the registry that a test can cut (connections reset, new ones
 * refused) and restore on the same port: an outage without restarting the in-memory registry.
 */
export interface RegistryProxy {
  /** The registry's URL through the proxy. */
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

export async function registryProxy(t: Pick<TestContext, 'after'>): Promise<RegistryProxy> {
  const target = new URL(REGISTRY);
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let server: Server | undefined;
  const listen = (port: number): Promise<number> => new Promise((resolve, reject) => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      track(client);
      track(upstream);
      client.pipe(upstream).pipe(client);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server?.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
  };
  const port = await listen(0);
  t.after(close);
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    cut: close,
    restore: async () => { await listen(port); },
  };
}
