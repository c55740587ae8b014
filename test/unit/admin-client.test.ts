import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdminClient, type Admin } from '../../src/kafka/admin/admin-client.js';
import { AdminRequests } from '../../src/kafka/admin/admin-requests.js';
import { LibraryLog } from '../../src/kafka/library-log.js';
import { StepRunner } from '../../src/kafka/step.js';
import { silentLogger as quiet } from '../../src/logger.js';

const TIMEOUT_MS = 2_000;

/** An admin client whose group requests record the timeout librdkafka would get, and answer after `answerMs`. */
function fakeAdmin(answerMs: number): { admin: Admin; timeouts: number[]; disconnects: number } {
  const state = { timeouts: [] as number[], disconnects: 0, admin: undefined as unknown as Admin };
  const answer = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), answerMs));
  state.admin = {
    connect: async () => {},
    disconnect: async () => {
      state.disconnects++;
    },
    describeGroups: (_groups: string[], options: { timeout: number }) => {
      state.timeouts.push(options.timeout);
      return answer({ groups: [{ groupId: 'g', state: 3, protocolType: 'consumer', protocol: 'range', members: [] }] });
    },
    fetchOffsets: (options: { timeout: number }) => {
      state.timeouts.push(options.timeout);
      return answer([]);
    },
  } as unknown as Admin;
  return state;
}

function requests(admin: Admin): { requests: AdminRequests; clients: AdminClient[] } {
  const controller = new AbortController();
  const scope = {
    brokers: ['127.0.0.1:1'], timeoutMs: TIMEOUT_MS, logger: quiet, signal: controller.signal,
    failed: new AbortController().signal, failure: undefined, hungUpEarly: false, abandon: () => {},
  };
  const steps = new StepRunner(scope);
  const clients: AdminClient[] = [];
  return {
    clients,
    requests: new AdminRequests({
      brokers: scope.brokers, timeoutMs: TIMEOUT_MS, steps, log: new LibraryLog(scope.brokers, quiet, () => {}),
      makeAdmin: () => {
        const client = new AdminClient(admin);
        clients.push(client);
        return client;
      },
      connectNew: async (make) => {
        const client = make();
        await client.connect();
        return client;
      },
      forget: () => {},
    }),
  };
}

describe('admin requests to a group coordinator', () => {
  it('never let librdkafka time them out before the step gives up (librdkafka#5397: an abort a moment later)', async () => {
    const fake = fakeAdmin(1);
    const { requests: admin } = requests(fake.admin);
    await admin.describeGroup('g');
    assert.equal(fake.timeouts.length, 1);
    for (const timeout of fake.timeouts) assert.ok(timeout > TIMEOUT_MS + 10_000, `a coordinator request with a librdkafka timeout of ${timeout} ms, the step's is ${TIMEOUT_MS} ms`);
  });

  it('disconnect the admin client only after its requests ended', async () => {
    const fake = fakeAdmin(50);
    const { requests: admin, clients } = requests(fake.admin);
    const described = admin.describeGroup('g');
    while (clients.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const closing = clients[0]?.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fake.disconnects, 0, 'disconnected under a request in flight');
    await described;
    await closing;
    assert.equal(fake.disconnects, 1);
  });
});
