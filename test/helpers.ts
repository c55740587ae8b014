import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { NativeConsumer, type CommittedOffset } from '../src/kafka/consumer/native-consumer.js';

const { Kafka, logLevel } = kafkaJavascript.KafkaJS;

const KAFKA_SH = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url));

/** A test's own broker on `port`: runs `scripts/kafka.sh action` (reset, start, stop) there, with `env` beside. */
export function ownBroker(port: number, env: Record<string, string> = {}): (action: string) => void {
  return (action) => {
    const result = spawnSync('bash', [KAFKA_SH, action], { env: { ...process.env, KAFKA_PORT: String(port), ...env }, encoding: 'utf8', timeout: 180_000 });
    assert.equal(result.status, 0, `kafka.sh ${action}: ${result.stderr}`);
  };
}

/** Reads a group's committed offsets again and again over one connection; `close` when done. */
export interface OffsetsReader {
  read(topic: string, partitions: number[]): Promise<Map<number, CommittedOffset>>;
  close(): Promise<void>;
}

/** How a reader reads: each request's timeout, and whether it waits out open transactions. */
export interface OffsetsReading {
  timeoutMs?: number;
  stable?: boolean;
}

/**
 * `group`'s committed offsets, read by a consumer that never joins it, as orders reads them
 * (src/kafka/consumer/group-offsets.ts): librdkafka's admin OffsetFetch answered NOT_COORDINATOR (a
 * coordinator moving or loading) crashes the process (issue 26), and that would be the test's own.
 */
export async function offsetsReader(brokers: string, group: string, { timeoutMs = 10_000, stable = false }: OffsetsReading = {}): Promise<OffsetsReader> {
  // read_uncommitted: the last offsets committed, at once, as the admin's fetchOffsets read them; `stable`
  // (read_committed): librdkafka asks for stable offsets and waits until no transaction holds one pending.
  const consumer = new NativeConsumer({ 'group.id': group, 'metadata.broker.list': brokers, 'enable.auto.commit': false, 'isolation.level': stable ? 'read_committed' : 'read_uncommitted' }, () => {});
  await consumer.connect(timeoutMs);
  return {
    read: async (topic, partitions) => new Map((await consumer.committed(topic, partitions, timeoutMs)).map((entry) => [entry.partition, entry])),
    close: () => consumer.disconnect(),
  };
}

/** `group`'s committed offset of each of `partitions` of `topic` (-1: none), by one reader made for it. */
export async function committedOffsets(brokers: string, group: string, topic: string, partitions: number[], reading: OffsetsReading = {}): Promise<Map<number, CommittedOffset>> {
  const reader = await offsetsReader(brokers, group, reading);
  try {
    return await reader.read(topic, partitions);
  } finally {
    await reader.close();
  }
}

/** The offsets alone, by partition. */
export function offsetsOf(found: Map<number, CommittedOffset>): Map<number, number> {
  return new Map([...found].map(([partition, { offset }]) => [partition, offset]));
}

/** The broker that scripts/test.sh started. */
export const BROKERS = process.env.ORDERS_TEST_BROKERS ?? '127.0.0.1:9092';

export const BIN = fileURLToPath(new URL('../../bin/orders.js', import.meta.url));

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** A running process whose output is collected as it arrives; its test kills it when the test ends. */
export class OrdersProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<Run>;
  private readonly started = performance.now();

  constructor(t: Pick<TestContext, 'after'>, args: string[], env: NodeJS.ProcessEnv = {}, command: string[] = [process.execPath, BIN], stdin: 'ignore' | 'pipe' = 'ignore') {
    const [file = process.execPath, ...before] = command;
    this.child = spawn(file, [...before, ...args], {
      env: { ...process.env, KAFKA_BROKERS: BROKERS, LOG_LEVEL: 'warn', ...env },
      stdio: [stdin, 'pipe', 'pipe'],
    });
    // A process that exits while the test still writes to it must not fail the test with EPIPE.
    this.child.stdin?.on('error', () => {});
    // Also when an assertion fails half way: no process outlives its test.
    t.after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, elapsedMs: performance.now() - this.started }));
    });
  }

  /** The JSON events printed so far: complete lines only, as the last one may still be being written. */
  events(): JsonEvent[] {
    return jsonLines(this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1));
  }

  /** Waits until `condition` holds for the output so far; fails after `timeoutMs`. */
  async waitFor(condition: (process: OrdersProcess) => boolean, timeoutMs = 30_000): Promise<void> {
    await eventually(() => condition(this), timeoutMs, () => `orders ${this.child.spawnargs.slice(2).join(' ')}: stdout=${this.stdout.slice(-500)} stderr=${this.stderr.slice(-500)}`);
  }
}

/** Starts `orders` in the background, its stdin a pipe the test writes if asked; the test that started it kills it at its end. */
export function startOrders(t: Pick<TestContext, 'after'>, args: string[], env: NodeJS.ProcessEnv = {}, stdin: 'ignore' | 'pipe' = 'ignore'): OrdersProcess {
  return new OrdersProcess(t, args, env, [process.execPath, BIN], stdin);
}

/** Runs `orders` to completion; a run that outlives `timeoutMs` is killed and fails the test. */
export async function runOrders(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return finish(args, (cleanup) => new OrdersProcess({ after: cleanup }, args, options.env), options.timeoutMs ?? 120_000);
}

/** Runs any command to completion within `timeoutMs`, killed at the test's end if still running. */
export async function runCommand(t: Pick<TestContext, 'after'>, command: string, args: string[], timeoutMs: number): Promise<Run> {
  return finish([command, ...args], () => new OrdersProcess(t, args, {}, [command]), timeoutMs);
}

async function finish(what: string[], start: (cleanup: () => void) => OrdersProcess, timeoutMs: number): Promise<Run> {
  const process = start(() => {});
  const timer = setTimeout(() => process.child.kill('SIGKILL'), timeoutMs);
  const run = await process.done;
  clearTimeout(timer);
  if (run.signal === 'SIGKILL') throw new Error(`${what.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${run.stderr}`);
  return run;
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers: a broker that hangs. Closed at the test's end. */
export async function silentBroker(t: Pick<TestContext, 'after'>): Promise<{ port: number; connections: number }> {
  const sockets = new Set<Socket>();
  const state = { port: 0, connections: 0 };
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.port = typeof address === 'object' && address !== null ? address.port : 0;
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return state;
}

export type JsonEvent = Record<string, unknown> & { event: string };

export function jsonLines(text: string): JsonEvent[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as JsonEvent);
}

export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const kafka = new Kafka({ kafkaJS: { brokers: BROKERS.split(','), clientId: 'orders-tests', logLevel: logLevel.ERROR } });

export interface RawRecord {
  partition: number;
  offset: string;
  /** Milliseconds since the epoch, as Kafka gives it. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Sends records as given, bypassing the codec (for poison and hand-made records). */
export async function produceRaw(topic: string, messages: KafkaJS.Message[]): Promise<void> {
  const producer = kafka.producer({ kafkaJS: { acks: -1 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Whether the broker has `topic`; asking does not create it. */
export async function topicExists(topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(topic: string, partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the records of `topic` from the beginning: exactly `expected` of them, failing on fewer or on
 * more arriving within a short grace; with `atLeast`, any number from `expected` up.
 */
export async function readAll(topic: string, expected: number, options: { atLeast?: boolean; timeoutMs?: number; brokers?: string } = {}): Promise<RawRecord[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const records: RawRecord[] = [];
  const client = options.brokers === undefined ? kafka : new Kafka({ kafkaJS: { brokers: options.brokers.split(','), clientId: 'orders-tests', logLevel: logLevel.ERROR } });
  const consumer = client.consumer({ kafkaJS: { groupId: uniqueName('test-reader'), fromBeginning: true, autoCommit: false } });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
        records.push({ partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value: message.value, headers });
      },
    });
    await eventually(() => records.length >= expected, timeoutMs, () => `reading ${topic}: ${records.length} of ${expected} records`);
    // Give extra records a moment to show up, so "exactly" means exactly.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  if (records.length !== expected && !options.atLeast) throw new Error(`${topic} holds ${records.length} records, expected ${expected}`);
  return records;
}
