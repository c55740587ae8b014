import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseProperties } from '../../src/kafka/properties.js';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { jsonLines, runOrders, uniqueName, type JsonEvent, type Run } from '../helpers.js';

// Started by scripts/test.sh: TLS, SASL/SCRAM-SHA-512 and ACLs that let orders-app use names starting with "orders".
const CLIENTS = process.env.ORDERS_TEST_SECURE_CLIENTS ?? '';
const SECURE_BROKERS = process.env.ORDERS_TEST_SECURE_BROKERS ?? '127.0.0.1:19093';
const PLAIN_BROKERS = process.env.ORDERS_TEST_BROKERS ?? '127.0.0.1:19092';
const client = (name: string): string => join(CLIENTS, `${name}.properties`);
const TIMEOUT_MS = 8_000;

interface Names { topic: string; dlq: string; aggregates: string; group: string }

function names(): Names {
  const topic = uniqueName('orders-sec');
  return { topic, dlq: `${topic}-dlq`, aggregates: `${topic}-agg`, group: `${topic}-group` };
}

/** Runs orders with a client file only: the brokers come from its bootstrap.servers, not from KAFKA_BROKERS (the plaintext broker). */
async function secured(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runOrders([...args, '--config', file, '--timeout-ms', String(TIMEOUT_MS)], { env, timeoutMs: 120_000 });
}

async function events(args: string[]): Promise<JsonEvent[]> {
  const run = await secured(client('orders-app'), [...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return jsonLines(run.stdout);
}

function assertOneLine(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? '', pattern);
  assert.ok(run.elapsedMs < TIMEOUT_MS + 6_000, `took ${Math.round(run.elapsedMs)} ms`);
}

describe('a secured cluster: SASL_SSL, SCRAM-SHA-512, ACLs', () => {
  it('has its broker (scripts/test.sh starts it and sets ORDERS_TEST_SECURE_CLIENTS)', () => {
    assert.notEqual(CLIENTS, '', 'ORDERS_TEST_SECURE_CLIENTS is not set: run the tests with npm test');
  });

  for (const guarantee of ['exactly-once', 'at-least-once']) {
    it(`every command works with --config alone, consume ${guarantee}, with exact results`, async (t) => {
      const n = names();
      const seed = 41;
      const sent = (await events(['produce', '--topic', n.topic, '--count', '200', '--seed', '7', '--report', 'each'])).filter((e) => e.event === 'sent');
      assert.equal(sent.length, 200);
      const consumed = await events(['consume', '--guarantee', guarantee, '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates,
        '--group', n.group, '--fail-rate', '0.3', '--seed', String(seed), '--backoff-ms', '1', '--exit-at-end']);
      const expectedDead = sent.map((e) => String(e.orderId)).filter((id) => [1, 2, 3].every((attempt) => failsAttempt(seed, id, attempt, 0.3)));
      const dead = consumed.filter((e) => e.event === 'dlq').map((e) => String(e.orderId));
      const ok = consumed.filter((e) => e.event === 'order');
      assert.deepEqual(dead.sort(), [...expectedDead].sort());
      assert.equal(ok.length + dead.length, 200);
      const expectedCents = sent.filter((e) => !expectedDead.includes(String(e.orderId))).reduce((sum, e) => sum + Math.round(Number(e.price) * 100), 0);
      assert.equal(Math.round(Number(consumed.at(-1)?.total_price) * 100), expectedCents);

      if (guarantee === 'exactly-once') {
        const [stats] = await events(['stats', '--group', n.group, '--topic', n.topic, '--aggregates-topic', n.aggregates]);
        assert.equal(stats?.count, 200 - expectedDead.length);
        assert.equal(Math.round(Number(stats?.total_price) * 100), expectedCents);
      }
      const tail = (await events(['dlq-tail', '--dlq-topic', n.dlq, '--exit-at-end'])).filter((e) => e.event === 'dead_letter');
      assert.equal(tail.length, expectedDead.length);
      const replayed = await events(['dlq-replay', '--dlq-topic', n.dlq, '--group', `${n.group}-replay`]);
      assert.equal(replayed.at(-1)?.replayed, expectedDead.length);
      t.diagnostic(`${guarantee}: 200 orders over SASL_SSL, ${expectedDead.length} dead letters as the seed predicts, total exact, all replayed`);
    });
  }

  it('-X overrides the file: a wrong password from -X fails, the right one from -X over a wrong file works', async () => {
    const password = parseProperties(readFileSync(client('orders-app'), 'utf8'), 'orders-app')['sasl.password'] ?? '';
    const topic = uniqueName('orders-sec-x');
    const wrong = await secured(client('orders-app'), ['produce', '--topic', topic, '-X', 'sasl.password=not-it']);
    assertOneLine(wrong, /^orders: authentication failed at /);
    const right = await secured(client('wrong-password'), ['produce', '--topic', topic, '-X', `sasl.password=${password}`, '--count', '3']);
    assert.equal(right.code, 0, right.stderr);
  });

  const failures: [string, string, string[], RegExp][] = [
    ['a wrong password', 'wrong-password', ['produce'], /^orders: authentication failed at 127\.0\.0\.1:\d+: SASL authentication error: Authentication failed .*invalid credentials/],
    ['an unknown user', 'unknown-user', ['consume'], /^orders: authentication failed at 127\.0\.0\.1:\d+: SASL authentication error/],
    ['an untrusted CA', 'untrusted-ca', ['stats'], /^orders: TLS handshake with 127\.0\.0\.1:\d+ failed \(is ssl\.ca\.location the CA that signed the broker's certificate\?\): .*certificate verify failed/],
    ['a principal with no ACLs', 'orders-noacl', ['produce'], /^orders: not authorized to CREATE topic orders-sec-\S+: /],
  ];
  for (const [what, file, command, pattern] of failures) {
    it(`${what}: one line, exit 1, within the timeout`, async () => {
      const run = await secured(client(file), [...command, '--topic', uniqueName('orders-sec-f')]);
      assertOneLine(run, pattern);
    });
  }

  it('a principal without its transactional ids: exactly-once says so and names the id', async () => {
    const n = names();
    await events(['produce', '--topic', n.topic, '--count', '5']);
    const run = await secured(client('orders-notxn'), ['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group, '--exit-at-end']);
    assertOneLine(run, new RegExp(`^orders: not authorized to WRITE transactional id orders-${n.group}-[0-9a-f-]+: .*Transactional Id authorization failed`));
  });

  it('a group the principal may not read: exit 1 naming it, not a loop that looks like success', async () => {
    const n = names();
    await events(['produce', '--topic', n.topic, '--count', '5']);
    const run = await secured(client('orders-app'), ['consume', '--guarantee', 'at-least-once', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', 'not-granted-group']);
    assertOneLine(run, /^orders: not authorized to READ group not-granted-group: .*Group authorization failed/);
  });

  it('a TLS listener reached in plain text, and a plaintext listener reached with TLS', async () => {
    const plain = await runOrders(['produce', '--broker', SECURE_BROKERS, '--timeout-ms', '4000', '--topic', uniqueName('orders-sec-p')], { timeoutMs: 60_000 });
    assertOneLine(plain, /^orders: no answer from Kafka at .* within 4000 ms while .*; the broker hung up on the first request: is it a TLS or SASL listener \(security\.protocol\)\?$/);
    const tls = await secured(client('orders-app'), ['produce', '--broker', PLAIN_BROKERS, '--topic', uniqueName('orders-sec-t')]);
    assertOneLine(tls, /^orders: TLS handshake with .* failed: .*PLAINTEXT broker listener/);
  });

  it('never shows a password, even at LOG_LEVEL=debug and in failures', async () => {
    const password = parseProperties(readFileSync(client('orders-app'), 'utf8'), 'orders-app')['sasl.password'] ?? '';
    assert.ok(password.length >= 16);
    const topic = uniqueName('orders-sec-debug');
    const runs = [
      // librdkafka's own debug contexts too: every connection, every SASL step.
      await secured(client('orders-app'), ['produce', '--topic', topic, '--count', '5', '-X', 'debug=all'], { LOG_LEVEL: 'debug' }),
      await secured(client('wrong-password'), ['produce', '--topic', topic, '-X', `sasl.password=${password}x`], { LOG_LEVEL: 'debug' }),
      await secured(client('orders-app'), ['consume', '--topic', topic, '--group', `${topic}-g`, '--exit-at-end', '--dlq-topic', `${topic}-dlq`, '--aggregates-topic', `${topic}-agg`], { LOG_LEVEL: 'trace' }),
    ];
    assert.equal(runs[0]?.code, 0, runs[0]?.stderr);
    assert.ok((runs[0]?.stderr.length ?? 0) > 10_000, `debug logging should say a lot, said ${runs[0]?.stderr.length ?? 0} characters`);
    assert.match(runs[0]?.stderr ?? '', /SASL/);
    for (const run of runs) {
      assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password), 'the password appeared in the output');
    }
  });
});
