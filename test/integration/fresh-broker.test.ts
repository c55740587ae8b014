import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { names } from '../exactness.js';
import { ownBroker, runOrders } from '../helpers.js';

// Issue 26: on a broker just started, the group coordinator answers NOT_COORDINATOR / LOAD_IN_PROGRESS
// for a moment. librdkafka's admin OffsetFetch then dereferenced a null group handle, and the binding
// converted the group error of describeGroups through strlen(NULL): consume --exit-at-end and stats died
// of SIGSEGV (4 of 4 exactly-once runs, caught with gdb). Its own broker, new for each round.
const PORT = Number(process.env.ORDERS_FRESH_BROKER_PORT ?? String(Number(process.env.KAFKA_PORT ?? '19092') + 80));
const BROKER = `127.0.0.1:${PORT}`;
const ROUNDS = 3;

const kafka = ownBroker(PORT);

describe('a broker just started (issue 26: no SIGSEGV while its group coordinator loads)', { concurrency: false }, () => {
  after(() => kafka('reset'));

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: consume --exit-at-end (exactly-once) first on the new broker, then stats: each exits by itself, never by a signal`, async () => {
      kafka('reset');
      kafka('start');
      const n = names(`fresh-${round}`);
      const produced = await runOrders(['produce', '--broker', BROKER, '--topic', n.topic, '--count', '3000', '--partitions', '1', '--seed', String(round)]);
      assert.equal(produced.code, 0, produced.stderr);
      const common = ['--broker', BROKER, '--topic', n.topic, '--group', n.group];
      const consumed = await runOrders(['consume', ...common, '--dlq-topic', n.dlq, '--fail-rate', '0.3', '--retries', '3', '--backoff-ms', '2000', '--seed', '3', '--exit-at-end'], { timeoutMs: 120_000 });
      assert.equal(consumed.signal, null, `consume died of ${consumed.signal}: ${consumed.stderr.slice(-2000)}`);
      assert.equal(consumed.code, 0, consumed.stderr.slice(-2000));
      const stats = await runOrders(['stats', ...common], { timeoutMs: 60_000 });
      assert.equal(stats.signal, null, `stats died of ${stats.signal}`);
      assert.equal(stats.code, 0, stats.stderr);
    });
  }
});
