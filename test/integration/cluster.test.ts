import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, beforeEach, describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { decodeOrder } from '../../src/avro/codec.js';
import { orderGenerator } from '../../src/orders/generate.js';
import { assertExact, consumeFlags, expectation, names, untilStatsCount, type Names } from '../exactness.js';
import { eventually, readAll, runOrders, startOrders, type OrdersProcess } from '../helpers.js';

// The three-node cluster scripts/test.sh started (RF 3, min.insync.replicas=2); its nodes are killed here.
const BROKERS = process.env.ORDERS_TEST_CLUSTER_BROKERS;
const SCRIPT = fileURLToPath(new URL('../../../scripts/kafka-cluster.sh', import.meta.url));
// Long enough for a failover: Kafka fences a dead broker after broker.session.timeout.ms (9 s), then elects.
const TIMEOUT_MS = '30000';
const run = promisify(execFile);

/** Runs scripts/kafka-cluster.sh on the tests' cluster, without blocking the event loop (the children's pipes must drain). */
async function cluster(...args: string[]): Promise<string> {
  const port = BROKERS?.split(',')[0]?.split(':')[1] ?? '17092';
  const { stdout } = await run('bash', [SCRIPT, ...args], { env: { ...process.env, CLUSTER_PORT: port }, timeout: 180_000 });
  return stdout.trim();
}

/** Every node running and every partition in sync: the state each test starts from and leaves. */
async function allNodesUp(): Promise<void> {
  const status = await cluster('status').catch((error: { stdout?: string }) => error.stdout ?? '');
  const stopped = ['1', '2', '3'].filter((node) => !status.includes(`node ${node}: running`));
  // Together: a restarted node waits until every partition is in sync, which needs the others up too.
  await Promise.all(stopped.map((node) => cluster('start-node', node)));
  if (stopped.length === 0) await cluster('start-node', '1');
}

const kafka = new kafkaJavascript.KafkaJS.Kafka({ kafkaJS: { brokers: (BROKERS ?? '').split(','), clientId: 'orders-cluster-tests', logLevel: kafkaJavascript.KafkaJS.logLevel.NOTHING } });

/** The node that leads the most partitions of `topic`. */
async function busiestLeader(topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [metadata] = await admin.fetchTopicMetadata({ topics: [topic] });
    const counts = new Map<number, number>();
    for (const partition of metadata?.partitions ?? []) counts.set(partition.leader, (counts.get(partition.leader) ?? 0) + 1);
    const [leader] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
    assert.ok(leader !== undefined && leader > 0, `no leader for ${topic}`);
    return String(leader);
  } finally {
    await admin.disconnect();
  }
}

/** Records written to `topic` so far (sum of high watermarks). */
async function written(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, entry) => sum + Number(entry.high), 0);
  } catch {
    return 0; // not created yet
  } finally {
    await admin.disconnect();
  }
}

/** The transaction coordinator's node of a transactional id of `group`'s consumers (orders-<group>-<uuid>). */
async function transactionCoordinator(group: string): Promise<string> {
  let node: string | undefined;
  await eventually(async () => {
    const listing = await cluster('tool', 'org.apache.kafka.tools.TransactionsCommand', '--bootstrap-server', BROKERS ?? '', 'list');
    node = listing.split('\n').map((line) => line.trim().split(/\s+/)).find(([id]) => id?.startsWith(`orders-${group}-`))?.[1];
    return node !== undefined;
  }, 60_000, () => `no transactional id of ${group} listed`);
  return node as string;
}

/** The orders in `topic`, read back and decoded; `count` exactly. */
async function ordersIn(topic: string, count: number): Promise<{ orderId: string; price: number }[]> {
  const records = await readAll(topic, count, { brokers: BROKERS, timeoutMs: 120_000 });
  return records.map((record) => decodeOrder(record.value ?? Buffer.alloc(0)));
}

const handled = (consumers: OrdersProcess[]): number =>
  consumers.reduce((sum, c) => sum + c.events().filter((e) => e.event === 'order' || e.event === 'dlq').length, 0);

const alive = (c: OrdersProcess): boolean => c.child.exitCode === null && c.child.signalCode === null;

/**
 * Consumers of `guarantee` in a two-consumer group while, in turn, the transaction (or group)
 * coordinator's broker, a partition leader and one consumer are SIGKILLed; a replacement consumer
 * starts within 2 s of the first kill. Orders keep coming throughout. Returns the consumers, the
 * produced orders and what happened, for the caller's exactness check.
 */
async function throughKills(t: { after: (fn: () => void) => void; diagnostic: (message: string) => void }, n: Names, seed: number, guarantee: string): Promise<{ consumers: OrdersProcess[]; orders: { orderId: string; price: number }[] }> {
  const flags = [...consumeFlags(n, seed, BROKERS), '--guarantee', guarantee, '--timeout-ms', TIMEOUT_MS];
  // Orders keep coming until every kill is done, 1,000 per run; each run must exit 0.
  let feeding = true;
  let runs = 0;
  let feederFailure = '';
  const feeder = (async () => {
    while (feeding) {
      const produced = await runOrders(['produce', '--broker', BROKERS ?? '', '--topic', n.topic, '--count', '1000', '--seed', String(seed * 1000 + runs), '--rate', '1000',
        '--partitions', '6', '--replication-factor', '3', '--timeout-ms', TIMEOUT_MS, '--json', '--report', 'summary'], { timeoutMs: 300_000 });
      if (produced.code !== 0) feederFailure = `produce run ${runs + 1} exited ${produced.code}: ${produced.stderr}`;
      assert.equal(produced.code, 0, produced.stderr);
      runs++;
    }
  })();
  // Swallowed here, asserted below; a stuck count names it (no new orders is not a stuck consumer).
  feeder.catch(() => {});
  t.after(() => { feeding = false; });
  await eventually(async () => (await written(n.topic)) > 0, 60_000, () => `nothing written to ${n.topic}`);
  const consumers = [startOrders(t, flags), startOrders(t, flags)];
  const timeline: string[] = [];
  const started = performance.now();
  const mark = (what: string): void => { timeline.push(`${((performance.now() - started) / 1000).toFixed(1)} s ${what} (handled ${handled(consumers)})`); };
  const stuck = (): string => `stuck at ${handled(consumers)} handled; ${runs} produce runs done ${feederFailure}; timeline: ${timeline.join('; ')}; consumers' stderr: ${consumers.map((c) => c.stderr.slice(-1000)).join('\n---\n')}`;

  await eventually(() => handled(consumers) >= 1_000, 120_000, () => `only ${handled(consumers)} handled`);
  const coordinator = guarantee === 'exactly-once' ? await transactionCoordinator(n.group) : await cluster('coordinator', 'group', n.group);
  await cluster('kill', coordinator);
  mark(`killed node ${coordinator} (${guarantee === 'exactly-once' ? 'transaction' : 'group'} coordinator)`);
  // The replacement starts while the coordinator is still moving.
  const replacement = startOrders(t, flags);
  consumers.push(replacement);
  await replacement.waitFor((p) => p.events().some((e) => e.event === 'order' || e.event === 'dlq'), 180_000);
  mark('replacement consumer handled its first order');
  await cluster('start-node', coordinator);
  mark(`node ${coordinator} back in sync`);

  let before = handled(consumers);
  await eventually(() => handled(consumers) >= before + 1_000, 120_000, stuck);
  const leader = await busiestLeader(n.topic);
  await cluster('kill', leader);
  mark(`killed node ${leader} (leader of most partitions)`);
  before = handled(consumers);
  await eventually(() => handled(consumers) >= before + 1_000, 180_000, () => `after the leader died: ${stuck()}`);
  mark('1,000 more handled');
  await cluster('start-node', leader);
  mark(`node ${leader} back in sync`);

  before = handled(consumers);
  await eventually(() => handled(consumers) >= before + 500, 120_000, stuck);
  consumers[1]?.child.kill('SIGKILL');
  mark('killed consumer 2');

  feeding = false;
  await feeder;
  mark(`${runs} produce runs exited 0`);
  const orders = await ordersIn(n.topic, runs * 1000);
  t.diagnostic(timeline.join('; '));
  return { consumers, orders };
}

describe('a three-broker cluster losing brokers (real cluster)', { concurrency: false, skip: BROKERS === undefined ? 'ORDERS_TEST_CLUSTER_BROKERS not set (scripts/test.sh sets it)' : false }, () => {
  // Whatever a test killed, the next test and the next file find all three nodes up; a test's own
  // processes are killed first (its t.after hooks), so none waits on a restart.
  beforeEach(allNodesUp);
  after(allNodesUp);

  it('produces 50,000 orders while the leader of most partitions is SIGKILLed: exit 0, every order once', async (t) => {
    const n = names('ha-produce');
    const count = 50_000;
    const seed = 9101;
    const producer = runOrders(['produce', '--broker', BROKERS ?? '', '--topic', n.topic, '--count', String(count), '--seed', String(seed), '--rate', '5000',
      '--partitions', '6', '--replication-factor', '3', '--timeout-ms', TIMEOUT_MS, '--json', '--report', 'summary'], { timeoutMs: 300_000 });
    await eventually(async () => (await written(n.topic)) >= 5_000, 120_000, () => `fewer than 5,000 orders written to ${n.topic}`);
    const leader = await busiestLeader(n.topic);
    const killedAt = await written(n.topic);
    await cluster('kill', leader);
    const produced = await producer;
    assert.equal(produced.code, 0, produced.stderr);
    const ids = (await ordersIn(n.topic, count)).map((order) => order.orderId).sort();
    const next = orderGenerator(seed);
    const expected = Array.from({ length: count }, () => next().orderId).sort();
    assert.deepEqual(ids, expected);
    t.diagnostic(`killed node ${leader} after ${killedAt} of ${count} orders; producer exited 0 after ${(produced.elapsedMs / 1000).toFixed(1)} s; read back ${ids.length} orders, each orderId once`);
  });

  it('exactly-once through a killed transaction coordinator, leader and consumer: stats and DLQ exact', async (t) => {
    const n = names('ha-eos');
    const seed = 41;
    const { consumers, orders } = await throughKills(t, n, seed, 'exactly-once');
    const expected = expectation(orders, seed);
    const survivors = consumers.filter(alive);
    await untilStatsCount(n, expected.count, 300_000, survivors, BROKERS);
    t.diagnostic(`${orders.length} orders: ${await assertExact(n, expected, BROKERS)}`);
    assert.equal(expected.count + expected.dead.length, orders.length);
    for (const consumer of survivors) consumer.child.kill('SIGTERM');
    for (const stopped of await Promise.all(survivors.map((c) => c.done))) assert.equal(stopped.code, 0, stopped.stderr);
  });

  it('at-least-once through the same kills: every order processed or dead-lettered, none skipped', async (t) => {
    const n = names('ha-alo');
    const seed = 42;
    const { consumers, orders } = await throughKills(t, n, seed, 'at-least-once');
    const expected = expectation(orders, seed);
    const dead = new Set(expected.dead);
    const wanted = new Set(orders.map((order) => order.orderId));
    const seen = (): Set<string> => new Set(consumers.flatMap((c) => c.events()
      .filter((e) => (e.event === 'order' && e.status === 'ok') || e.event === 'dlq').map((e) => String(e.orderId))));
    await eventually(() => [...wanted].every((id) => seen().has(id)), 300_000, () => `${[...wanted].filter((id) => !seen().has(id)).length} orders never handled`);
    // A dead letter is acknowledged before its offset is committed: the DLQ holds each failing order at least once.
    const letters = await readAll(n.dlq, dead.size, { atLeast: true, brokers: BROKERS, timeoutMs: 120_000 });
    const lettered = new Set(letters.map((letter) => letter.key?.toString()));
    assert.deepEqual([...dead].filter((id) => !lettered.has(id)), []);
    assert.ok(letters.every((letter) => dead.has(String(letter.key))), 'only failing orders are dead-lettered');
    t.diagnostic(`${orders.length} orders all handled; ${dead.size} failing orders in the DLQ (${letters.length} letters, ${letters.length - dead.size} repeated after the kills)`);
    for (const consumer of consumers.filter(alive)) consumer.child.kill('SIGTERM');
  });

  it('two of three brokers down: produce fails with one line in time; after the restart the same command succeeds and a running consumer resumes exactly', async (t) => {
    const n = names('ha-quorum');
    const seed = 43;
    const produce = (orderSeed: number, timeoutMs: string): Promise<Awaited<ReturnType<typeof runOrders>>> => runOrders(['produce', '--broker', BROKERS ?? '', '--topic', n.topic,
      '--count', '2000', '--seed', String(orderSeed), '--replication-factor', '3', '--timeout-ms', timeoutMs, '--json', '--report', 'summary'], { timeoutMs: 300_000 });
    const first = await produce(1, TIMEOUT_MS);
    assert.equal(first.code, 0, first.stderr);
    const consumer = startOrders(t, [...consumeFlags(n, seed, BROKERS), '--timeout-ms', TIMEOUT_MS]);
    await consumer.waitFor((p) => handled([p]) >= 2_000, 120_000);

    await cluster('kill', '2');
    await cluster('kill', '3');
    const down = await produce(2, '10000');
    assert.equal(down.code, 1, down.stderr);
    const lines = down.stderr.trim().split('\n').filter((line) => line.startsWith('orders: '));
    assert.equal(lines.length, 1, down.stderr);
    assert.match(lines[0] ?? '', /NOT_ENOUGH_REPLICAS/);
    // The timeout, plus the process start and the broker probe.
    assert.ok(down.elapsedMs < 10_000 + 8_000, `failed after ${down.elapsedMs} ms`);
    assert.ok(alive(consumer), `the consumer exited while brokers were down: ${consumer.stderr.slice(-1500)}`);

    await allNodesUp();
    const again = await produce(2, TIMEOUT_MS);
    assert.equal(again.code, 0, again.stderr);
    // What the failed run may have written counts too: the topic, read back, is the truth to match.
    const total = await written(n.topic);
    const orders = await ordersIn(n.topic, total);
    const expected = expectation(orders, seed);
    await untilStatsCount(n, expected.count, 300_000, [consumer], BROKERS);
    t.diagnostic(`${lines[0]} (after ${(down.elapsedMs / 1000).toFixed(1)} s); then ${orders.length} orders: ${await assertExact(n, expected, BROKERS)}`);
    consumer.child.kill('SIGTERM');
    const stopped = await consumer.done;
    assert.equal(stopped.code, 0, stopped.stderr);
  });
});
