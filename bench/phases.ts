import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { Admin } from './admin.js';
import { CONSUMER_TUNING } from '../src/kafka/tuning.js';
import { kcatOptions, type ClientSettings } from './client-settings.js';
import { mismatch, type Payload } from './payload.js';
import { cpuSecondsOf, launch, succeeded, within, type Finished, type Running } from './proc.js';
import { freePort, scrapeEvery, type Scrapes } from './scrape.js';
import type { Guarantee, LatencyRun } from './settings.js';
import { percentile, perSecond } from './stats.js';

const BIN = fileURLToPath(new URL('../../bin/orders.js', import.meta.url));
const PYTHON_CONSUME = fileURLToPath(new URL('../../bench/python_consume.py', import.meta.url));
const FLOOR_CONSUME = fileURLToPath(new URL('./floor-consume.js', import.meta.url));
const SCHEMA = fileURLToPath(new URL('../../schemas/order.avsc', import.meta.url));
// Debian's python3-confluent-kafka and python3-avro, which a pyenv python3 on PATH would not see.
const PYTHON = '/usr/bin/python3';
const PARTITIONS = 3;
// A minute plus 1 ms per order: generous for a working CLI, yet a stuck one fails the bench instead of hanging it.
const limitFor = (count: number): number => 60_000 + count;
// The CLI logs each start and stop at info on stderr; the bench only needs its warnings.
const QUIET = { LOG_LEVEL: 'warn' };

export interface Bench {
  broker: string;
  brokerPid: number | undefined;
  admin: Admin;
  /** Extra flags for every `orders consume` (never --guarantee: each run passes its own). */
  consumeArgs: string[];
  /** orders' own producer and consumer settings, for kcat. */
  clients: ClientSettings;
}

export interface Throughput {
  wallMs: number;
  /** Orders over the process's whole life: start-up, connecting and group join included. */
  ordersPerSecond: number;
  /** Orders after the first one arrived, over the time until the last one did (consumers only). */
  steadyOrdersPerSecond: number | undefined;
  /** What `orders produce` reports for itself: sending only, without start-up. */
  selfReportedOrdersPerSecond: number | undefined;
  peakRssMb: number;
  cpuSeconds: number;
  brokerCpuSeconds: number;
}

export interface Latency extends LatencyRun {
  samples: number;
  /** Orders processed again after a rebalance (at least once), not counted in the percentiles. */
  redelivered: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  producedOrdersPerSecond: number | undefined;
  consumerPeakRssMb: number;
}

function orders(...args: string[]): [string, string[]] {
  return [process.execPath, [BIN, ...args]];
}

/** `orders produce`; `extra` flags such as --schema-registry. */
export async function ordersProduce(bench: Bench, topic: string, count: number, seed: number, extra: string[] = []): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const run = launch(...orders('produce', '--count', String(count), '--topic', topic, '--broker', bench.broker, '--seed', String(seed), '--partitions', String(PARTITIONS), ...extra), 'pipe', QUIET);
  const output = text(run.stdout);
  const result = await succeeded(run, 'orders produce', limitFor(count));
  await expectRecords(bench, topic, count);
  return { ...throughput(bench, result, count, brokerCpu), selfReportedOrdersPerSecond: reportedRate(output()) };
}

/** `orders produce --input <file>` of a file of `count` JSON lines: checked whole, then sent. */
export async function ordersProduceInput(bench: Bench, topic: string, file: string, count: number): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const run = launch(...orders('produce', '--input', file, '--topic', topic, '--broker', bench.broker, '--partitions', String(PARTITIONS)), 'pipe', QUIET);
  const output = text(run.stdout);
  const result = await succeeded(run, 'orders produce --input', limitFor(count));
  await expectRecords(bench, topic, count);
  return { ...throughput(bench, result, count, brokerCpu), selfReportedOrdersPerSecond: reportedRate(output()) };
}

/** `orders produce --report each --json`: a JSON line per acknowledged order, then the summary. */
export async function ordersProduceEach(bench: Bench, topic: string, count: number, seed: number): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const run = launch(...orders('produce', '--count', String(count), '--topic', topic, '--broker', bench.broker, '--seed', String(seed), '--partitions', String(PARTITIONS), '--report', 'each', '--json'), 'pipe', QUIET);
  const clock = clockLines(run, count);
  const result = await succeeded(run, 'orders produce --report each --json', limitFor(count));
  const summary = JSON.parse(clock.lastLine()) as { event?: unknown; sent?: unknown; orders_per_s?: unknown };
  if (summary.event !== 'summary' || summary.sent !== count || clock.lines() !== count + 1) {
    throw new Error(`orders produce --report each printed ${clock.lines()} lines for ${count} orders: ${clock.lastLine()}`);
  }
  await expectRecords(bench, topic, count);
  const selfReported = typeof summary.orders_per_s === 'number' ? summary.orders_per_s : undefined;
  return { ...throughput(bench, result, count, brokerCpu), selfReportedOrdersPerSecond: selfReported };
}

export async function kcatProduce(bench: Bench, topic: string, payload: Payload): Promise<Throughput> {
  await createTopic(bench, topic);
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  // orders' producer settings: the same durability (acks=all, idempotent), linger and compression.
  const run = launch('kcat', [
    '-P', '-q', '-b', bench.broker, '-t', topic, '-K', payload.keyDelimiter, '-D', payload.delimiter, '-l', payload.file,
    ...kcatOptions(bench.clients.producer),
  ], 'ignore');
  const result = await succeeded(run, 'kcat -P', limitFor(payload.count));
  await expectRecords(bench, topic, payload.count);
  return throughput(bench, result, payload.count, brokerCpu);
}

/** Reads the kcat-produced topic back and compares every key and value byte with the payload. */
export async function verifyKcatTopic(bench: Bench, topic: string, payload: Payload): Promise<void> {
  const run = launch('kcat', ['-C', '-e', '-q', '-o', 'beginning', '-b', bench.broker, '-t', topic, '-f', '%k\t%S\n%s'], 'pipe');
  const chunks: Buffer[] = [];
  run.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  await succeeded(run, 'kcat -C (verification)', limitFor(payload.count));
  const problem = mismatch(Buffer.concat(chunks), payload);
  if (problem !== undefined) throw new Error(`kcat did not produce the payload byte-exactly: ${problem}`);
}

/**
 * `orders consume --guarantee` of `count` orders from `topic` to its end. `name` is the run's own:
 * its group, dead-letter and aggregates topics, so no run restores (or reads through) another's snapshots.
 */
export async function ordersConsume(bench: Bench, topic: string, name: string, guarantee: Guarantee, count: number, extra: string[] = []): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const run = launch(...orders(
    'consume', '--guarantee', guarantee, '--fail-rate', '0', '--exit-at-end', '--topic', topic, '--dlq-topic', `${name}-dlq`, '--aggregates-topic', `${name}-aggregates`,
    '--group', `${name}-group`, '--json', '--broker', bench.broker, '--partitions', String(PARTITIONS), ...bench.consumeArgs, ...extra,
  ), 'pipe', QUIET);
  const clock = clockLines(run, count);
  const result = await succeeded(run, `orders consume --guarantee ${guarantee}`, limitFor(count));
  const summary = JSON.parse(clock.lastLine()) as { event?: unknown; processed?: unknown; dlq?: unknown };
  if (summary.event !== 'summary' || summary.processed !== count || summary.dlq !== 0) {
    throw new Error(`orders consume --guarantee ${guarantee} did not process ${count} orders: ${clock.lastLine()}`);
  }
  return { ...throughput(bench, result, count, brokerCpu), steadyOrdersPerSecond: clock.steady() };
}

/** A consume with --metrics-port, and what its scraper saw. */
export interface ScrapedConsume extends Throughput {
  /** The port it served /metrics on, free when the run began. */
  metricsPort: number;
  scrapes: Scrapes;
}

/**
 * Issue 20: `orders consume --guarantee exactly-once --metrics-port <a free port>`, otherwise as
 * ordersConsume, with /metrics scraped once a second while it runs, as Prometheus would, so its cost
 * includes being scraped. Fails when no scrape read `orders_consumed_total`: then it was not scraped.
 */
export async function ordersConsumeScraped(bench: Bench, topic: string, name: string, count: number): Promise<ScrapedConsume> {
  const metricsPort = await freePort();
  const scraper = scrapeEvery(`http://127.0.0.1:${metricsPort}/metrics`);
  let figures: Throughput;
  try {
    figures = await ordersConsume(bench, topic, name, 'exactly-once', count, ['--metrics-port', String(metricsPort)]);
  } catch (error) {
    await scraper.stop();
    throw error;
  }
  const scrapes = await scraper.stop();
  if (Number.isNaN(scrapes.consumed)) {
    throw new Error(`orders consume --metrics-port ${metricsPort}: no scrape of /metrics read orders_consumed_total (${scrapes.answered} answered, ${scrapes.failed} failed)`);
  }
  return { ...figures, metricsPort, scrapes };
}

/** The retries figures: 100,000 orders at a fail-rate, default backoff, under one guarantee. */
export const RETRY_ORDERS = 100_000;

/** `orders consume` at `failRate` under `guarantee` to the end of `topic`; every order must end processed or dead-lettered. */
export async function ordersRetries(bench: Bench, topic: string, group: string, guarantee: string, failRate: number): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const run = launch(...orders(
    'consume', '--guarantee', guarantee, '--fail-rate', String(failRate), '--seed', '7', '--exit-at-end', '--topic', topic, '--dlq-topic', `${topic}-dlq`,
    '--aggregates-topic', `${topic}-aggregates`, '--group', group, '--json', '--broker', bench.broker, '--partitions', String(PARTITIONS),
  ), 'pipe', QUIET);
  const clock = clockLines(run, RETRY_ORDERS);
  const result = await succeeded(run, `orders consume --guarantee ${guarantee} --fail-rate ${failRate}`, limitFor(RETRY_ORDERS) * 4);
  const summary = JSON.parse(clock.lastLine()) as { event?: unknown; processed?: unknown };
  if (summary.event !== 'summary' || summary.processed !== RETRY_ORDERS) throw new Error(`orders consume did not handle ${RETRY_ORDERS} orders: ${clock.lastLine()}`);
  return { ...throughput(bench, result, RETRY_ORDERS, brokerCpu), steadyOrdersPerSecond: clock.steady() };
}

/** kcat as a group consumer with orders' consumer settings, like `orders consume`: it joins a group, then reads to the end. */
export async function kcatConsume(bench: Bench, topic: string, group: string, count: number): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const run = launch('kcat', [
    '-G', group, '-e', '-q', '-o', 'beginning', '-b', bench.broker, '-f', '%S\n', ...kcatOptions(bench.clients.consumer), topic,
  ], 'pipe');
  const clock = clockLines(run, count);
  const result = await succeeded(run, 'kcat -G', limitFor(count));
  if (clock.lines() !== count) throw new Error(`kcat -G read ${clock.lines()} of ${count} records`);
  return { ...throughput(bench, result, count, brokerCpu), steadyOrdersPerSecond: clock.steady() };
}

/**
 * The same job as a plain Python loop (bench/python_consume.py: confluent-kafka's consume(1000), the avro
 * package's DatumReader, a running total and count), measured like kcat -G: a fresh group from the
 * beginning, wall time over the whole process, with kcat's librdkafka settings (the same Debian librdkafka).
 */
export async function pythonConsume(bench: Bench, topic: string, group: string, count: number): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const settings = Object.entries(bench.clients.consumer).map(([name, value]) => `${name}=${value}`);
  const run = launch(PYTHON, [PYTHON_CONSUME, bench.broker, topic, group, String(count), SCHEMA, ...settings], 'pipe');
  const output = text(run.stdout);
  const result = await succeeded(run, 'python consume', limitFor(count) * 2);
  if (!output().startsWith(`count=${count} `)) throw new Error(`the Python loop read other than ${count} records: ${output().trim()}`);
  return throughput(bench, result, count, brokerCpu);
}

/**
 * Issue 27's floor: the bare loop on orders' own binding (bench/floor-consume.ts), with orders' own
 * consumer tuning and read_committed, a line per order to a pipe: what no consume on this stack beats.
 */
export async function floorConsume(bench: Bench, topic: string, group: string, count: number): Promise<Throughput> {
  const brokerCpu = cpuSecondsOf(bench.brokerPid);
  const settings = Object.entries({ ...CONSUMER_TUNING, 'isolation.level': 'read_committed' }).map(([name, value]) => `${name}=${value}`);
  const run = launch(process.execPath, [FLOOR_CONSUME, bench.broker, topic, group, String(count), ...settings], 'pipe');
  const clock = clockLines(run, count);
  const result = await succeeded(run, 'floor consume', limitFor(count));
  if (clock.lines() !== count + 1 || !clock.lastLine().startsWith(`count=${count} `)) throw new Error(`the floor loop read other than ${count} records: ${clock.lastLine()}`);
  return { ...throughput(bench, result, count, brokerCpu), steadyOrdersPerSecond: clock.steady() };
}

/** Issue 18's slow orders: this many orders at fail-rate 0.3 with --retries 8 --backoff-ms 1000. */
export const SLOW_ORDERS = 20_000;
const SLOW_DECIDED = 0.9;

export interface SlowOrders {
  /** From the consumer's launch to the line of the 90th percent order decided (`order` or `dlq`), ms. */
  decidedMs: number;
  /** Distinct orders whose line came before the consumer was stopped. */
  decided: number;
  peakRssMb: number;
}

/**
 * `orders consume --fail-rate 0.3 --retries 8 --backoff-ms 1000 --json` of SLOW_ORDERS orders, clocked by
 * line as the latency phase clocks them, until 90 % are decided; then stopped (SIGTERM), since the last
 * few orders back off for up to two minutes. Exactly-once prints an `order` or `dlq` line only after its
 * transaction committed, so the figure is decided-and-committed time. At-least-once prints a line when
 * the order is decided and commits it within a second (its commit tick): there it is decided time.
 */
export async function slowOrders(bench: Bench, topic: string, name: string, guarantee: Guarantee): Promise<SlowOrders> {
  const wanted = Math.ceil(SLOW_ORDERS * SLOW_DECIDED);
  const started = performance.now();
  const consumer = launch(...orders(
    'consume', '--guarantee', guarantee, '--fail-rate', '0.3', '--retries', '8', '--backoff-ms', '1000', '--seed', '7', '--json', '--exit-at-end',
    '--topic', topic, '--dlq-topic', `${name}-dlq`, '--aggregates-topic', `${name}-aggregates`, '--group', `${name}-group`,
    '--broker', bench.broker, '--partitions', String(PARTITIONS),
  ), 'pipe', QUIET);
  const decided = new Set<unknown>();
  let decidedMs = Number.NaN;
  let reached = (): void => {};
  const enough = new Promise<void>((resolve) => { reached = resolve; });
  eachLine(consumer.stdout, (line) => {
    // Only `order` and `dlq` lines decide an order; `retry` lines say it waits.
    if (!line.startsWith('{"event":"order"') && !line.startsWith('{"event":"dlq"')) return;
    decided.add((JSON.parse(line) as { orderId?: unknown }).orderId);
    if (Number.isNaN(decidedMs) && decided.size >= wanted) {
      decidedMs = performance.now() - started;
      reached();
    }
  });
  const what = `orders consume --guarantee ${guarantee} --fail-rate 0.3 --retries 8 --backoff-ms 1000`;
  const early = consumer.finished.then((result) => { throw new Error(`${what} exited with ${String(result.code)} after ${decided.size} of ${wanted} orders: ${result.stderrTail.trim()}`); });
  try {
    await within(Promise.race([enough, early]), limitFor(SLOW_ORDERS) * 2, `${what} to decide ${wanted} orders`);
  } finally {
    consumer.terminate();
  }
  const stopped = await within(consumer.finished, 60_000, `${what} to stop on SIGTERM`);
  return { decidedMs, decided: decided.size, peakRssMb: stopped.peakRssMb };
}

export interface Restore {
  /** From the consumer's `assigned` log line to its `restored` line: the restore itself, ms. */
  restoreMs: number;
  /** From the consumer's launch to its `restored` line: start-up, group join and restore, ms. */
  startToRestoredMs: number;
}

/**
 * `orders consume --guarantee exactly-once --exit-at-end` started on a group whose offsets are
 * committed at the end of `topic` (nothing left to read), clocking its `assigned` and `restored`
 * info lines on stderr as they arrive.
 */
export async function restoreRun(bench: Bench, topic: string, group: string): Promise<Restore> {
  const started = performance.now();
  const consumer = launch(...orders(
    'consume', '--guarantee', 'exactly-once', '--fail-rate', '0', '--exit-at-end', '--topic', topic, '--dlq-topic', `${group}-dlq`,
    '--aggregates-topic', `${group}-aggregates`, '--group', group, '--json', '--broker', bench.broker, '--partitions', String(PARTITIONS),
  ), 'ignore', { LOG_LEVEL: 'info' });
  let assignedAt = Number.NaN;
  let restoredAt = Number.NaN;
  eachLine(consumer.child.stderr, (line) => {
    // pino's JSON lines; the first assignment and the restore that follows it.
    let msg: unknown;
    try {
      ({ msg } = JSON.parse(line) as { msg?: unknown });
    } catch {
      return;
    }
    if (typeof msg !== 'string') return;
    if (Number.isNaN(assignedAt) && msg.startsWith(`assigned ${topic} partitions `) && !msg.endsWith(' none')) assignedAt = performance.now();
    else if (Number.isNaN(restoredAt) && !Number.isNaN(assignedAt) && msg.startsWith(`restored ${topic} partitions `)) restoredAt = performance.now();
  });
  await succeeded(consumer, `orders consume of ${group} (restore)`, 120_000);
  if (Number.isNaN(restoredAt)) throw new Error(`orders consume of ${group} logged no restore after its assignment`);
  return { restoreMs: restoredAt - assignedAt, startToRestoredMs: restoredAt - started };
}

/** A consumer under the run's guarantee that is already assigned, then orders at a steady rate; latency is what the consumer reports. */
export async function latencyRun(bench: Bench, topic: string, group: string, { rate, seconds, guarantee }: LatencyRun): Promise<Latency> {
  const consumer = launch(...orders(
    'consume', '--guarantee', guarantee, '--json', '--fail-rate', '0', '--topic', topic, '--dlq-topic', `${topic}-dlq`, '--aggregates-topic', `${topic}-aggregates`,
    '--group', group, '--broker', bench.broker, '--partitions', String(PARTITIONS), ...bench.consumeArgs,
  ), 'pipe', QUIET);
  const latencies: number[] = [];
  const seen = new Set<unknown>();
  let redelivered = 0;
  let check = (): void => {};
  const reach = (wanted: number): Promise<void> => new Promise((resolve) => {
    check = () => { if (seen.size >= wanted) resolve(); };
    check();
  });
  eachLine(consumer.stdout, (line) => {
    const event = JSON.parse(line) as { event?: unknown; orderId?: unknown; latency_ms?: unknown };
    if (event.event !== 'order') return;
    // At least once: after a rebalance an order may come twice; its latency is that of the first time.
    if (seen.has(event.orderId)) { redelivered++; return; }
    seen.add(event.orderId);
    // The first order is the warm-up that proves the consumer is assigned; it waited for the join.
    if (seen.size > 1 && typeof event.latency_ms === 'number') latencies.push(event.latency_ms);
    check();
  });
  const count = Math.round(rate * seconds);
  let produced = '';
  try {
    await succeeded(launch(...orders('produce', '--count', '1', '--topic', topic, '--broker', bench.broker), 'ignore', QUIET), 'warm-up produce', 60_000);
    await within(reach(1), 60_000, `the consumer of ${topic} to receive the warm-up order`);
    const producer = launch(...orders('produce', '--rate', String(rate), '--count', String(count), '--topic', topic, '--broker', bench.broker), 'pipe', QUIET);
    const output = text(producer.stdout);
    await succeeded(producer, `orders produce --rate ${rate}`, 60_000 + seconds * 1000);
    produced = output();
    await within(reach(1 + count), 60_000, `the consumer of ${topic} to receive ${count} orders`);
  } catch (error) {
    consumer.terminate();
    const stopped = await within(consumer.finished, 30_000, 'the latency consumer to stop').catch(() => undefined);
    throw new Error(`${error instanceof Error ? error.message : String(error)}; consumer stderr: ${stopped?.stderrTail.trim() ?? '(consumer still running)'}`);
  }
  consumer.terminate();
  const stopped = await within(consumer.finished, 30_000, 'the latency consumer to stop on SIGTERM');
  const sorted = latencies.sort((a, b) => a - b);
  return {
    rate, seconds, guarantee, samples: sorted.length, redelivered,
    p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted[sorted.length - 1] ?? Number.NaN,
    producedOrdersPerSecond: reportedRate(produced), consumerPeakRssMb: stopped.peakRssMb,
  };
}

function throughput(bench: Bench, result: Finished, count: number, brokerCpuBefore: number): Throughput {
  return {
    wallMs: result.wallMs,
    ordersPerSecond: perSecond(count, result.wallMs),
    steadyOrdersPerSecond: undefined,
    selfReportedOrdersPerSecond: undefined,
    peakRssMb: result.peakRssMb,
    cpuSeconds: result.cpuSeconds,
    brokerCpuSeconds: cpuSecondsOf(bench.brokerPid) - brokerCpuBefore,
  };
}

async function createTopic(bench: Bench, topic: string): Promise<void> {
  await bench.admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
}

// The broker's own count, so a tool that exits 0 after losing records cannot pass. Asked again for up
// to 10 s, saying so, since twice under load a count came short of the acknowledged records once.
async function expectRecords(bench: Bench, topic: string, count: number): Promise<void> {
  const started = performance.now();
  const counts: number[] = [];
  for (;;) {
    const offsets = await bench.admin.fetchTopicOffsets(topic);
    counts.push(offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0));
    const waited = Math.round(performance.now() - started);
    if (counts.at(-1) === count) {
      if (counts.length > 1) process.stderr.write(`bench: ${topic} held ${counts.join(', then ')} records over ${waited} ms; expected ${count}\n`);
      return;
    }
    if (waited >= 10_000) throw new Error(`${topic} holds ${counts.join(', then ')} records over ${waited} ms, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// "Produced N of N orders to T in 1.23 s (45678 orders/s), ..." is the human summary of `orders produce`.
function reportedRate(output: string): number | undefined {
  const match = /\((\d+) orders\/s\)/.exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function text(stream: Readable | null): () => string {
  let collected = '';
  stream?.setEncoding('utf8').on('data', (chunk: string) => { collected += chunk; });
  return () => collected;
}

function eachLine(stream: Readable | null, handle: (line: string) => void): void {
  let rest = '';
  stream?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line !== '') handle(line);
  });
}

interface LineClock {
  lines(): number;
  lastLine(): string;
  steady(): number | undefined;
}

/**
 * Counts output lines as they arrive, without parsing them (a million JSON.parse calls would compete
 * for the same two cores), and notes when the first line and the `count`-th line arrived.
 */
function clockLines(run: Running, count: number): LineClock {
  let lines = 0;
  let firstAt = Number.NaN;
  let firstLines = 0;
  let lastAt = Number.NaN;
  let tail = Buffer.alloc(0);
  run.stdout?.on('data', (chunk: Buffer) => {
    const now = performance.now();
    let found = 0;
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) found++;
    if (lines === 0 && found > 0) { firstAt = now; firstLines = found; }
    lines += found;
    if (Number.isNaN(lastAt) && lines >= count) lastAt = now;
    tail = Buffer.concat([tail, chunk]).subarray(-4096);
  });
  return {
    lines: () => lines,
    lastLine: () => tail.toString('utf8').trimEnd().split('\n').pop() ?? '',
    steady: () => (lastAt > firstAt ? perSecond(count - firstLines, lastAt - firstAt) : undefined),
  };
}
