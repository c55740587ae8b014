import assert from 'node:assert/strict';
import { failsAttempt } from '../src/processing/simulated-failure.js';
import { eventually, jsonLines, readAll, runOrders, uniqueName, type OrdersProcess } from './helpers.js';

// What the fault tests consume with, and how they check that nothing was lost or counted twice.
export const RETRIES = 2;
export const FAIL_RATE = 0.3;

export interface Names { topic: string; dlq: string; aggregates: string; group: string }

export function names(prefix: string): Names {
  const topic = uniqueName(prefix);
  return { topic, dlq: `${topic}-dlq`, aggregates: `${topic}-agg`, group: `${topic}-group` };
}

export function consumeFlags(n: Names, seed: number, broker?: string): string[] {
  return [
    'consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--aggregates-topic', n.aggregates, '--group', n.group,
    // Few orders in flight and real backoffs: the work lasts long enough for kills to land mid-stream,
    // each one with orders waiting out a retry.
    '--fail-rate', String(FAIL_RATE), '--retries', String(RETRIES), '--seed', String(seed), '--backoff-ms', '20', '--max-in-flight', '100', '--json',
    ...(broker === undefined ? [] : ['--broker', broker]),
  ];
}

export interface Expected { totalCents: number; count: number; dead: string[] }

/** What the consumer must end with, computed from the produced orders alone. */
export function expectation(orders: Record<string, unknown>[], seed: number): Expected {
  let totalCents = 0;
  let count = 0;
  const dead: string[] = [];
  for (const order of orders) {
    const id = String(order.orderId);
    if (Array.from({ length: RETRIES + 1 }, (_, i) => i + 1).every((attempt) => failsAttempt(seed, id, attempt, FAIL_RATE))) {
      dead.push(id);
    } else {
      totalCents += Math.round(Number(order.price) * 100);
      count++;
    }
  }
  return { totalCents, count, dead };
}

export async function statsOf(n: Names, broker?: string): Promise<{ total_price: number; count: number }> {
  const run = await runOrders(['stats', '--group', n.group, '--topic', n.topic, '--aggregates-topic', n.aggregates, '--json', ...(broker === undefined ? [] : ['--broker', broker])]);
  assert.equal(run.code, 0, `stats exited with ${run.code ?? run.signal} after ${Math.round(run.elapsedMs)} ms: ${run.stderr}`);
  const [stats] = jsonLines(run.stdout);
  return { total_price: Number(stats?.total_price), count: Number(stats?.count) };
}

/** stats equals the independent sum exactly, and the read_committed DLQ holds each failing orderId exactly once. */
export async function assertExact(n: Names, expected: Expected, broker?: string): Promise<string> {
  const stats = await statsOf(n, broker);
  assert.equal(stats.count, expected.count, 'count');
  assert.equal(Math.round(stats.total_price * 100), expected.totalCents, 'total_price');
  const letters = await readAll(n.dlq, expected.dead.length, { timeoutMs: 60_000, ...(broker === undefined ? {} : { brokers: broker }) });
  assert.deepEqual(letters.map((letter) => letter.key?.toString()).sort(), [...expected.dead].sort());
  return `stats count=${stats.count} total_price=${stats.total_price.toFixed(2)} = expected; DLQ holds ${letters.length} letters = ${expected.dead.length} failing orderIds, each once`;
}

/** Waits for stats to reach `count`; fails at once, with their stderr, if every consumer has exited. */
export async function untilStatsCount(n: Names, count: number, timeoutMs: number, consumers: OrdersProcess[], broker?: string): Promise<void> {
  let last = 0;
  await eventually(async () => {
    const running = consumers.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    if (running.length === 0) throw new Error(`every consumer exited before stats reached ${count}: ${consumers.map((c) => c.stderr.slice(-1500)).join('\n---\n')}`);
    last = (await statsOf(n, broker)).count;
    return last >= count;
  }, timeoutMs, () => `stats of ${n.group} never reached count ${count} (last ${last}); consumers' stderr: ${consumers.map((c) => c.stderr.slice(-1500)).join('\n---\n')}`);
}

