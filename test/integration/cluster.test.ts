import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, beforeEach, describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { decodeOrder } from '../../src/avro/codec.js';
import { orderGenerator } from '../../src/orders/generate.js';
import { assertExact, consumeFlags, expectation, names, untilStatsCount, type Names } from '../exactness.js';
import { committedOffsets, eventually, jsonLines, offsetsOf, readAll, runOrders, startOrders, type OrdersProcess } from '../helpers.js';

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

const kafka = new kafkaJavascript.KafkaJS.Kafka({ kafkaJS: { brokers: (BROKERS ?? '').split(','), clientId: 'orders-cluster-tests', logLevel: kafkaJavascript.KafkaJS.logLevel.NOTHING } });

/** Whether every partition of every topic, the internal ones included, has all its replicas in sync. */
async function inSync(): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const listed = await admin.listTopics();
    const metadata = listed.length === 0 ? [] : await admin.fetchTopicMetadata({ topics: listed });
    // The internal topics too, once they exist (a fresh cluster makes them on first use).
    for (const internal of ['__consumer_offsets', '__transaction_state'].filter((topic) => !listed.includes(topic))) {
      metadata.push(...await admin.fetchTopicMetadata({ topics: [internal] }).catch(() => []));
    }
    return metadata.every((topic) => topic.partitions.every((p) => p.isr.length === p.replicas.length));
  } catch {
    return false; // a broker still on its way
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Restarts `nodes` and waits until every partition is in sync again: the state each test starts from
 * and leaves. Polled here, not by the script's JVM tool: under the tests' load that took most of a minute.
 */
async function restart(...nodes: string[]): Promise<void> {
  // Together: a node's replicas catch up only once the others are up too.
  await Promise.all(nodes.map((node) => cluster('launch-node', node)));
  await eventually(inSync, 120_000, () => `partitions still under-replicated after restarting node ${nodes.join(', ')}`);
}

async function allNodesUp(): Promise<void> {
  const status = await cluster('status').catch((error: { stdout?: string }) => error.stdout ?? '');
  await restart(...['1', '2', '3'].filter((node) => !status.includes(`node ${node}: running`)));
}

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

/** The node of each partition of `topic` that leads it. */
async function leaders(topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [metadata] = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map((metadata?.partitions ?? []).map((p) => [p.partitionId, String(p.leader)]));
  } finally {
    await admin.disconnect();
  }
}

/** The active KRaft controller's node, as the quorum reports it. */
async function activeController(): Promise<string> {
  return cluster('controller');
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

/**
 * The records in `topic` once its high watermarks hold still for a second: a leader just elected (a node
 * back from a kill) answers with a high watermark behind the records until its followers' next fetch
 * (read once as 2,643 of 4,000 right after a restart). Only for a topic nobody writes to at the time.
 */
async function settledWritten(topic: string): Promise<number> {
  const read = async (): Promise<string> => {
    const ends = await endOffsets(topic).catch(() => new Map<number, number>());
    // A partition without a leader answers no end (or -1): not settled either.
    return ends.size > 0 && [...ends.values()].every((end) => Number.isSafeInteger(end) && end >= 0) ? JSON.stringify([...ends].sort(([a], [b]) => a - b)) : '';
  };
  let last = await read();
  for (const deadline = performance.now() + 60_000; performance.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await read();
    if (now !== '' && now === last) return (JSON.parse(now) as [number, number][]).reduce((sum, [, end]) => sum + end, 0);
    last = now;
  }
  throw new Error(`the high watermarks of ${topic} never held still for a second within 60 s (last ${last})`);
}

/** Each partition's end (high watermark) of `topic`. */
async function endOffsets(topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, Number(entry.high)]));
  } finally {
    await admin.disconnect();
  }
}

const sameOffsets = (a: Map<number, number>, b: Map<number, number>): boolean => a.size === b.size && [...a].every(([partition, offset]) => b.get(partition) === offset);

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

/** Java's String.hashCode, then Kafka's Utils.abs, as a broker places a group on a partition of __consumer_offsets. */
function javaHashAbs(text: string): number {
  let hash = 0;
  for (const char of text) hash = (Math.imul(31, hash) + (char.codePointAt(0) ?? 0)) | 0;
  return hash === -2147483648 ? 0 : Math.abs(hash);
}

/** Asks the controller to give every partition back to its preferred leader (one in sync); refusals are no failure. */
async function preferredLeaders(): Promise<void> {
  await cluster('tool', 'org.apache.kafka.tools.LeaderElectionCommand', '--bootstrap-server', BROKERS ?? '', '--election-type', 'PREFERRED', '--all-topic-partitions').catch(() => '');
}

/**
 * Makes `node` the preferred (first) replica of one partition of __consumer_offsets where it is none:
 * created while `node` was fenced (say just restarted), the topic lists it last everywhere, and no
 * preferred election can then make it lead. The same replicas in another order: nothing moves.
 */
async function preferNode(node: string, partitions: { partitionId: number; replicas: number[] }[]): Promise<void> {
  if (partitions.length === 0 || partitions.some((p) => String(p.replicas[0]) === node)) return;
  const [first] = partitions;
  if (first === undefined) return;
  const replicas = [Number(node), ...first.replicas.filter((replica) => String(replica) !== node)];
  const dir = mkdtempSync(join(tmpdir(), 'orders-reassign-'));
  try {
    const file = join(dir, 'reassign.json');
    writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic: '__consumer_offsets', partition: first.partitionId, replicas }] }));
    await cluster('tool', 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand', '--bootstrap-server', BROKERS ?? '', '--reassignment-json-file', file, '--execute').catch(() => '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A group name starting with `prefix` whose group coordinator is `node`, once `node` leads a partition of __consumer_offsets. */
async function groupCoordinatedBy(node: string, prefix: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let found: string | undefined;
    // A node restarted by the test before leads nothing until its preferred leaderships come back: the
    // controller's own rebalance usually does it within seconds, but once left node 1 without any for 60 s.
    let tries = 0;
    await eventually(async () => {
      const [offsets] = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      if (tries++ % 20 === 0) {
        await preferNode(node, offsets?.partitions ?? []);
        await preferredLeaders();
      }
      const leaders = new Map((offsets?.partitions ?? []).map((p) => [p.partitionId, String(p.leader)]));
      for (let i = 0; i < 1_000 && found === undefined; i++) {
        if (leaders.get(javaHashAbs(`${prefix}-${i}`) % leaders.size) === node) found = `${prefix}-${i}`;
      }
      return found !== undefined;
    }, 60_000, () => `node ${node} leads no partition of __consumer_offsets`);
    return found as string;
  } finally {
    await admin.disconnect();
  }
}

type Guarantee = 'exactly-once' | 'at-least-once';

/** One consumer group of the scenario: its names, seed, flags and every consumer it ran. */
interface Group {
  guarantee: Guarantee;
  n: Names;
  seed: number;
  flags: string[];
  consumers: OrdersProcess[];
}

function group(topic: string, name: string, guarantee: Guarantee, seed: number): Omit<Group, 'flags' | 'consumers'> {
  return { guarantee, seed, n: { topic, dlq: `${name}-dlq`, aggregates: `${name}-agg`, group: name } };
}

/** What the scenario did and measured, for the checks and the test's diagnostics. */
interface Scenario {
  eos: Group;
  alo: Group;
  orders: { orderId: string; price: number }[];
  timeline: string[];
  /** Kill to first order of each replacement consumer, ms. */
  replacementMs: Map<Guarantee, number>;
  /** Leader kill to 1,000 more orders handled by each group, ms. */
  leaderRecoveryMs: Map<Guarantee, number>;
}

// How long a group may take to handle orders again after a broker dies: failover (fencing after 9 s,
// election) plus a rebalance and a restore; a stuck consumer fails it instead of a generic timeout.
const RECOVERY_BOUND_MS = 60_000;

/**
 * An exactly-once and an at-least-once group of two consumers each read one topic while orders keep
 * coming and, in turn, the broker that is the exactly-once group's transaction coordinator and the
 * at-least-once group's group coordinator, the leader of most partitions and one consumer of each
 * group are SIGKILLed; a replacement consumer of each group starts right after the broker kill.
 */
async function throughKills(t: { after: (fn: () => unknown) => void }): Promise<Scenario> {
  const topic = names('ha-kills').topic;
  const eos = { ...group(topic, `${topic}-eos`, 'exactly-once', 41), flags: [] as string[], consumers: [] as OrdersProcess[] };
  const flagsOf = (g: Omit<Group, 'flags' | 'consumers'>): string[] => [...consumeFlags(g.n, g.seed, BROKERS), '--guarantee', g.guarantee, '--timeout-ms', TIMEOUT_MS];
  eos.flags = flagsOf(eos);
  // Orders keep coming until every kill is done, 1,000 per run; each run must exit 0.
  let feeding = true;
  let runs = 0;
  let feederFailure = '';
  // Runs that took long (a second of sending, and the process start): a slow feeder looks like a slow consumer.
  const slowRuns: string[] = [];
  const feeder = (async () => {
    while (feeding) {
      const produced = await runOrders(['produce', '--broker', BROKERS ?? '', '--topic', topic, '--count', '1000', '--seed', String(7000 + runs), '--rate', '1000',
        '--partitions', '6', '--replication-factor', '3', '--timeout-ms', TIMEOUT_MS, '--json', '--report', 'summary'], { timeoutMs: 300_000 });
      if (produced.code !== 0) feederFailure = `produce run ${runs + 1} exited ${produced.code}: ${produced.stderr}`;
      if (produced.elapsedMs > 5_000) slowRuns.push(`run ${runs + 1} took ${(produced.elapsedMs / 1000).toFixed(1)} s`);
      assert.equal(produced.code, 0, produced.stderr);
      runs++;
    }
  })();
  // Swallowed here, asserted below; a stuck count names it (no new orders is not a stuck consumer).
  feeder.catch(() => {});
  t.after(() => { feeding = false; });
  await eventually(async () => (await written(topic)) > 0, 60_000, () => `nothing written to ${topic}`);
  eos.consumers.push(startOrders(t, eos.flags), startOrders(t, eos.flags));

  const timeline: string[] = [];
  const started = performance.now();
  let alo: Group | undefined;
  const groups = (): Group[] => [eos, ...(alo === undefined ? [] : [alo])];
  const counts = (): string => groups().map((g) => `${g.guarantee} ${handled(g.consumers)}`).join(', ');
  const mark = (what: string): void => { timeline.push(`${((performance.now() - started) / 1000).toFixed(1)} s ${what} (handled: ${counts()})`); };
  const stuck = (): string => `stuck at ${counts()}; ${runs} produce runs done (${slowRuns.join(', ')}) ${feederFailure}; timeline: ${timeline.join('; ')}; consumers' stderr: ${groups().flatMap((g) => g.consumers).map((c) => c.stderr.slice(-1000)).join('\n---\n')}`;
  // Each group handles `more` orders past where it is now.
  const progress = async (more: number, timeoutMs: number, what: () => string): Promise<Map<Guarantee, number>> => {
    const from = performance.now();
    const took = new Map<Guarantee, number>();
    await Promise.all(groups().map(async (g) => {
      const before = handled(g.consumers);
      await eventually(() => handled(g.consumers) >= before + more, timeoutMs, () => `${g.guarantee}: ${what()}`);
      took.set(g.guarantee, performance.now() - from);
    }));
    return took;
  };

  await progress(1_000, 120_000, stuck);
  const coordinator = await transactionCoordinator(eos.n.group);
  // The at-least-once group's coordinator is on the same broker: one kill moves both coordinators.
  const aloGroup = await groupCoordinatedBy(coordinator, `${topic}-alo`);
  alo = { ...group(topic, aloGroup, 'at-least-once', 42), flags: [], consumers: [] };
  alo.flags = flagsOf(alo);
  alo.consumers.push(startOrders(t, alo.flags), startOrders(t, alo.flags));
  await progress(1_000, 120_000, stuck);
  mark(`node ${coordinator} coordinates the exactly-once transactions and the at-least-once group`);

  await cluster('kill', coordinator);
  const killedAt = performance.now();
  mark(`killed node ${coordinator}`);
  // The replacements start while the coordinators are still moving (within 2 s of the kill).
  for (const g of groups()) g.consumers.push(startOrders(t, g.flags));
  const spawnedMs = performance.now() - killedAt;
  assert.ok(spawnedMs < 2_000, `replacements spawned ${spawnedMs} ms after the kill`);
  const replacementMs = new Map<Guarantee, number>();
  await Promise.all(groups().map(async (g) => {
    const replacement = g.consumers[g.consumers.length - 1] as OrdersProcess;
    await replacement.waitFor((p) => handled([p]) > 0, RECOVERY_BOUND_MS);
    replacementMs.set(g.guarantee, performance.now() - killedAt);
  }));
  mark('each replacement consumer handled its first order');
  // Orders go on while the node comes back; the next kill waits for both.
  const back = restart(coordinator);
  back.catch(() => {});
  await progress(500, 120_000, stuck);
  await back;
  mark(`node ${coordinator} back in sync`);
  const leader = await busiestLeader(topic);
  await cluster('kill', leader);
  mark(`killed node ${leader} (leader of most partitions)`);
  const leaderRecoveryMs = await progress(1_000, RECOVERY_BOUND_MS, () => `after the leader died: ${stuck()}`);
  mark('1,000 more handled by each group');
  for (const g of groups()) g.consumers[1]?.child.kill('SIGKILL');
  mark('killed consumer 2 of each group');
  // The last checks run while the leader comes back; the test waits for it before it ends.
  const restarting = restart(leader);
  restarting.catch(() => {});
  t.after(() => restarting);

  feeding = false;
  await feeder;
  mark(`${runs} produce runs exited 0${slowRuns.length > 0 ? ` (${slowRuns.join(', ')})` : ''}`);
  const orders = await ordersIn(topic, runs * 1000);
  return { eos, alo, orders, timeline, replacementMs, leaderRecoveryMs };
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
    // The topic's own count first: a shortfall here is produce's, past it the reader's.
    assert.equal(await settledWritten(n.topic), count, `the topic's high watermarks after produce exited 0 (partition ends ${JSON.stringify([...await endOffsets(n.topic)])})`);
    const ids = (await ordersIn(n.topic, count)).map((order) => order.orderId).sort();
    const next = orderGenerator(seed);
    const expected = Array.from({ length: count }, () => next().orderId).sort();
    assert.deepEqual(ids, expected);
    t.diagnostic(`killed node ${leader} after ${killedAt} of ${count} orders; producer exited 0 after ${(produced.elapsedMs / 1000).toFixed(1)} s; read back ${ids.length} orders, each orderId once`);
  });

  it('produces 60,000 orders with stock timeouts while the node that is the active controller and leads partitions is SIGKILLed: exit 0, every order once', async (t) => {
    const n = names('ha-controller');
    const count = 60_000;
    const seed = 9102;
    // The topic first, led by all three nodes (preferred leaders), so the controller leads some of it by construction.
    const made = await runOrders(['produce', '--broker', BROKERS ?? '', '--topic', n.topic, '--count', '0', '--partitions', '6', '--replication-factor', '3']);
    assert.equal(made.code, 0, made.stderr);
    await preferredLeaders();
    const controller = await activeController();
    let led: number[] = [];
    await eventually(async () => {
      led = [...await leaders(n.topic)].filter(([, node]) => node === controller).map(([partition]) => partition);
      return led.length > 0;
    }, 60_000, () => `the active controller, node ${controller}, leads no partition of ${n.topic}`);
    // --timeout-ms stays at its default (10 s): a failover is waited out by the delivery timeout, not by it.
    const producer = runOrders(['produce', '--broker', BROKERS ?? '', '--topic', n.topic, '--count', String(count), '--seed', String(seed), '--rate', '5000',
      '--json', '--report', 'summary'], { timeoutMs: 300_000 });
    const started = performance.now();
    await eventually(async () => (await written(n.topic)) >= 5_000, 120_000, () => `fewer than 5,000 orders written to ${n.topic}`);
    const before = await written(n.topic);
    await cluster('kill', controller);
    const killedAt = performance.now();
    // The first order written after the kill (the high watermarks move only once acks=all is met).
    let firstAfterMs: number | undefined;
    const watching = (async () => {
      while (firstAfterMs === undefined && performance.now() - killedAt < 120_000) {
        if ((await written(n.topic)) > before) firstAfterMs = performance.now() - killedAt;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const produced = await producer;
    await watching;
    assert.equal(produced.code, 0, produced.stderr);
    const [summary] = jsonLines(produced.stdout);
    assert.deepEqual([summary?.acknowledged, summary?.refused, summary?.unknown], [count, 0, 0]);
    assert.equal(await settledWritten(n.topic), count, `the topic's high watermarks after produce exited 0 (partition ends ${JSON.stringify([...await endOffsets(n.topic)])})`);
    const ids = (await ordersIn(n.topic, count)).map((order) => order.orderId).sort();
    const next = orderGenerator(seed);
    const expected = Array.from({ length: count }, () => next().orderId).sort();
    assert.deepEqual(ids, expected);
    t.diagnostic(`node ${controller} was the active controller and led partitions ${led.join(', ')}; killed ${((killedAt - started) / 1000).toFixed(1)} s in, after ${before} of ${count} orders; `
      + `first order written after the kill ${((firstAfterMs ?? NaN) / 1000).toFixed(1)} s after it; producer exited 0 after ${(produced.elapsedMs / 1000).toFixed(1)} s; read back ${ids.length} orders, each orderId once`);
  });

  it('exactly-once and at-least-once groups through a killed coordinator, leader and consumer', async (t) => {
    const scenario = await throughKills(t);
    const { eos, alo, orders } = scenario;
    const seconds = (ms: number | undefined): string => `${((ms ?? NaN) / 1000).toFixed(1)} s`;
    t.diagnostic(scenario.timeline.join('; '));
    t.diagnostic(`time to recover: replacement's first order ${[...scenario.replacementMs].map(([g, ms]) => `${g} ${seconds(ms)}`).join(', ')} after the coordinator kill; `
      + `1,000 more orders ${[...scenario.leaderRecoveryMs].map(([g, ms]) => `${g} ${seconds(ms)}`).join(', ')} after the leader kill`);

    await t.test('exactly-once: stats equal the independent sum, the read_committed DLQ holds each failing order once', async (s) => {
      const expected = expectation(orders, eos.seed);
      assert.equal(expected.count + expected.dead.length, orders.length);
      const survivors = eos.consumers.filter(alive);
      await untilStatsCount(eos.n, expected.count, 300_000, survivors, BROKERS);
      s.diagnostic(`${orders.length} orders: ${await assertExact(eos.n, expected, BROKERS)}`);
      for (const consumer of survivors) consumer.child.kill('SIGTERM');
      for (const stopped of await Promise.all(survivors.map((c) => c.done))) assert.equal(stopped.code, 0, stopped.stderr);
    });

    await t.test('at-least-once: every order processed or dead-lettered, none skipped', async (s) => {
      const expected = expectation(orders, alo.seed);
      // The source of truth for "none skipped": the group's committed offsets pass every record written.
      const ends = await endOffsets(alo.n.topic);
      // Read while the killed leader comes back: a coordinator moving or loading is an answer to wait out.
      let lastRead = 'nothing read yet';
      await eventually(async () => {
        try {
          const now = offsetsOf(await committedOffsets(BROKERS ?? '', alo.n.group, alo.n.topic, [...ends.keys()]));
          lastRead = JSON.stringify([...now]);
          return sameOffsets(now, ends);
        } catch (error) {
          lastRead = String(error);
          return false;
        }
      }, 120_000, () => `the group's commits never reached the ends ${JSON.stringify([...ends])}: last read ${lastRead}`);
      const survivors = alo.consumers.filter(alive);
      for (const consumer of survivors) consumer.child.kill('SIGTERM');
      for (const stopped of await Promise.all(survivors.map((c) => c.done))) assert.equal(stopped.code, 0, stopped.stderr);
      // At-least-once commits an order's offset only once its line left the process (test/integration/lines-first.test.ts),
      // so a SIGKILL cannot take the line of an order the group passed: one it took was read again by another.
      const processed = new Set(alo.consumers.flatMap((c) => c.events().filter((e) => e.event === 'order' && e.status === 'ok').map((e) => String(e.orderId))));
      // The DLQ, read back read_committed with the tool's own dlq-tail.
      const tail = await runOrders(['dlq-tail', '--broker', BROKERS ?? '', '--dlq-topic', alo.n.dlq, '--exit-at-end', '--json', '--timeout-ms', TIMEOUT_MS]);
      assert.equal(tail.code, 0, tail.stderr);
      const letters = jsonLines(tail.stdout).filter((e) => e.event === 'dead_letter').map((e) => String(e.key));
      const lettered = new Set(letters);
      const dead = new Set(expected.dead);
      // Exact sets: each valid order processed and never dead-lettered (a broker down is no reason), each failing one in the DLQ.
      assert.deepEqual(orders.map((o) => o.orderId).filter((id) => !dead.has(id) && !processed.has(id)), [], 'valid orders never processed');
      assert.deepEqual([...lettered].filter((id) => !dead.has(id)), [], 'valid orders dead-lettered');
      assert.deepEqual([...dead].filter((id) => !lettered.has(id)), [], 'failing orders missing from the DLQ');
      assert.deepEqual([...processed].filter((id) => dead.has(id)), [], 'failing orders counted as processed');
      assert.equal(processed.size + lettered.size, orders.length, 'processed + dead-lettered = produced');
      s.diagnostic(`${orders.length} orders: commits at the ends; ${processed.size} processed + ${lettered.size} dead-lettered = ${orders.length} produced (${letters.length} letters, ${letters.length - lettered.size} repeated after the kills)`);
    });
  });

  it('two of three brokers down: produce fails with the leader\'s own NOT_ENOUGH_REPLICAS in one line in time, its counts match the topic; after the restart the same command succeeds and a running consumer resumes exactly', async (t) => {
    const n = names('ha-quorum');
    const seed = 43;
    const produce = (orderSeed: number, timeoutMs: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Awaited<ReturnType<typeof runOrders>>> => runOrders(['produce', '--broker', BROKERS ?? '', '--topic', n.topic,
      '--count', '2000', '--seed', String(orderSeed), '--replication-factor', '3', '--timeout-ms', timeoutMs, '--json', '--report', 'summary', ...extra], { timeoutMs: 300_000, env });
    // librdkafka's eos debug names the broker that gave the producer its id: that broker holds a block of
    // ids from the controller, and can give the next producer one without the controller quorum.
    const first = await produce(1, TIMEOUT_MS, ['-X', 'debug=eos'], { LOG_LEVEL: 'debug' });
    assert.equal(first.code, 0, first.stderr);
    const survivor = [...first.stderr.matchAll(/:\d+\/(\d+): Acquiring ProducerId/g)].pop()?.[1];
    assert.ok(survivor !== undefined, `no broker named for the producer id: ${first.stderr.slice(-2000)}`);
    const consumer = startOrders(t, [...consumeFlags(n, seed, BROKERS), '--timeout-ms', TIMEOUT_MS]);
    await consumer.waitFor((p) => handled([p]) >= 2_000, 120_000);

    // Stopped, not killed: each leaves the in-sync replicas as it goes, so the survivor leads with itself
    // alone and answers NOT_ENOUGH_REPLICAS. (Killed, the quorum is gone before anyone is fenced: the ISR
    // never shrinks, no broker answers, and produce waits for its delivery timeout: docs/failures.md.)
    for (const node of ['1', '2', '3'].filter((node) => node !== survivor)) await cluster('stop-node', node);
    const down = await produce(2, '10000');
    assert.equal(down.code, 1, down.stderr);
    const lines = down.stderr.trim().split('\n').filter((line) => line.startsWith('orders: '));
    assert.equal(lines.length, 1, down.stderr);
    assert.match(lines[0] ?? '', /answered NOT_ENOUGH_REPLICAS \(Broker: Not enough in-sync replicas\)/);
    // The timeout, plus the process start and the broker probe.
    assert.ok(down.elapsedMs < 10_000 + 8_000, `failed after ${down.elapsedMs} ms`);
    assert.ok(alive(consumer), `the consumer exited while brokers were down: ${consumer.stderr.slice(-1500)}`);
    const [summary] = jsonLines(down.stdout);
    const acknowledged = Number(summary?.acknowledged);
    const refused = Number(summary?.refused);
    const unknown = Number(summary?.unknown);
    assert.equal(acknowledged + refused + unknown, 2000, down.stdout);
    assert.equal(summary?.failed, refused + unknown);

    await allNodesUp();
    // What the failed run wrote, read back: at least what it called acknowledged, at most that and the unknown.
    const afterFailure = await ordersIn(n.topic, await settledWritten(n.topic));
    const next = orderGenerator(2);
    const secondRun = new Set(Array.from({ length: 2000 }, () => next().orderId));
    const found = afterFailure.filter((order) => secondRun.has(order.orderId)).length;
    assert.ok(found >= acknowledged && found <= acknowledged + unknown, `the topic holds ${found} of the failed run's orders; it said ${acknowledged} acknowledged, ${refused} refused, ${unknown} unknown`);
    await allNodesUp();
    const again = await produce(2, TIMEOUT_MS);
    assert.equal(again.code, 0, again.stderr);
    // What the failed run may have written counts too: the topic, read back, is the truth to match.
    const total = await settledWritten(n.topic);
    const orders = await ordersIn(n.topic, total);
    const expected = expectation(orders, seed);
    await untilStatsCount(n, expected.count, 300_000, [consumer], BROKERS);
    t.diagnostic(`${lines[0]} (after ${(down.elapsedMs / 1000).toFixed(1)} s); the topic then held ${found} of its orders; then ${orders.length} orders: ${await assertExact(n, expected, BROKERS)}`);
    consumer.child.kill('SIGTERM');
    const stopped = await consumer.done;
    assert.equal(stopped.code, 0, stopped.stderr);
  });
});
