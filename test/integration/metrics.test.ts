import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { BROKERS, committedOffsets, eventually, jsonLines, runOrders, startOrders, uniqueName, type JsonEvent } from '../helpers.js';

const { Kafka, logLevel } = kafkaJavascript.KafkaJS;

/** The Prometheus server scripts/test.sh started (scripts/prometheus.sh), and the folder it reads scrape targets from. */
const PROMETHEUS = process.env.ORDERS_TEST_PROMETHEUS ?? 'http://127.0.0.1:19090';
const TARGETS = process.env.ORDERS_TEST_PROMETHEUS_TARGETS ?? fileURLToPath(new URL('../../../.prometheus/prometheus-19090/targets', import.meta.url));

interface Names { topic: string; dlq: string; group: string }
const names = (prefix: string): Names => {
  const topic = uniqueName(prefix);
  return { topic, dlq: `${topic}-dlq`, group: `${topic}-group` };
};

async function events(args: string[]): Promise<JsonEvent[]> {
  const run = await runOrders([...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return jsonLines(run.stdout);
}

const produce = (n: Names, count: number, seed: number) => events(['produce', '--topic', n.topic, '--count', String(count), '--seed', String(seed), '--report', 'summary']);

/** A port nobody listens on right now (the kernel's pick, let go again). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** GET url: status and body, or status 0 when nothing listens. */
function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 2_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', () => resolve({ status: 0, body: '' }));
    request.on('timeout', () => request.destroy());
  });
}

/** One instant query to Prometheus's HTTP API: each series' labels and value. */
async function query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const { status, body } = await fetchText(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(promql)}`);
  assert.equal(status, 200, body);
  const answer = JSON.parse(body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return answer.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
}

describe('operating it: lag in stats, /metrics scraped by Prometheus, /healthz and /readyz', () => {
  let admin: KafkaJS.Admin;
  before(async () => {
    admin = new Kafka({ kafkaJS: { brokers: BROKERS.split(','), clientId: 'orders-tests-lag', logLevel: logLevel.ERROR } }).admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
  });

  /** Each partition's lag as an independent client reads it: high watermark minus committed offset. */
  const independentLag = async (n: Names): Promise<Map<number, number>> => {
    const ends = await admin.fetchTopicOffsets(n.topic);
    // Not the admin's fetchOffsets: see committedOffsets.
    const offsets = await committedOffsets(BROKERS, n.group, n.topic, ends.map((end) => end.partition));
    return new Map(ends.map((end) => [end.partition, Number(end.high) - Math.max(Number(end.low), offsets.get(end.partition)?.offset ?? -1)]));
  };

  it('stats: a group that does not exist is one line; then each partition\'s lag matches an admin client\'s, before and after more orders', async () => {
    const n = names('lag');
    await produce(n, 300, 2001);
    const missing = await runOrders(['stats', '--group', n.group, '--topic', n.topic]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr.trimEnd().split('\n').at(-1) ?? '', new RegExp(`^orders: group ${n.group} does not exist on `));

    const consumed = await events(['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--group', n.group, '--fail-rate', '0.1', '--backoff-ms', '1', '--seed', '5', '--exit-at-end']);
    const summary = consumed.at(-1);
    await produce(n, 200, 2002);

    const lines = await events(['stats', '--group', n.group, '--topic', n.topic, '--lag']);
    // The totals line stays first and as it was: what scripts read.
    assert.deepEqual(Object.keys(lines[0] ?? {}), ['event', 'group', 'topic', 'total_price', 'count', 'avg']);
    assert.equal(lines[0]?.count, summary?.succeeded);
    const partitions = lines.filter((line) => line.event === 'partition');
    const independent = await independentLag(n);
    assert.equal(partitions.length, independent.size);
    for (const line of partitions) {
      assert.equal(line.lag, independent.get(Number(line.partition)), JSON.stringify(line));
      assert.equal(line.log_end_offset, line.last_stable_offset, 'an idempotent producer leaves no open transaction');
      assert.equal(line.member_id, null, 'nobody reads it now');
    }
    const group = lines.at(-1);
    assert.equal(group?.event, 'group');
    assert.equal(group?.lag, 200);
    assert.equal(group?.state, 'Empty');

    // Half of it read: --exit-at-end reads to the ends seen at start, so the rest is produced after.
    await events(['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--group', n.group, '--fail-rate', '0', '--exit-at-end']);
    await produce(n, 50, 2003);
    const text = await runOrders(['stats', '--group', n.group, '--topic', n.topic]);
    assert.equal(text.code, 0, text.stderr);
    // The group's assignor follows its protocol: "consumer (uniform)" under KIP-848, "consumer (cooperative-sticky)" under classic.
    assert.match(text.stdout, /^ {2}state Empty, protocol consumer( \([\w-]+\))?, 0 members; lag 50 over 3 partitions$/m);
    const again = await independentLag(n);
    for (const [partition, lag] of again) assert.match(text.stdout, new RegExp(`^ {2}partition ${partition}: committed \\d+ end \\d+ lag ${lag}, no owner$`, 'm'));
  });

  it('consume --metrics-port: /readyz 503 -> 200 -> 503 across start, assignment and SIGTERM; Prometheus scrapes the figures the summary prints', async (t) => {
    const n = names('metrics');
    await produce(n, 2000, 2004);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const consumer = startOrders(t, ['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--group', n.group, '--fail-rate', '0.2', '--backoff-ms', '1',
      '--seed', '7', '--metrics-port', String(port), '--json']);

    // Start-up: the server answers before Kafka is reached, 503 until the partitions are assigned and restored.
    const ready: number[] = [];
    await eventually(async () => {
      const { status } = await fetchText(`${base}/readyz`);
      if (status !== 0 && status !== ready.at(-1)) ready.push(status);
      return status === 200;
    }, 60_000, () => `readyz answered ${ready.join(' -> ')}; stderr: ${consumer.stderr}`);
    assert.deepEqual(ready, [503, 200]);
    assert.equal((await fetchText(`${base}/healthz`)).status, 200);

    // Prometheus scrapes it every second from now on.
    mkdirSync(TARGETS, { recursive: true });
    const targetFile = join(TARGETS, `${n.topic}.json`);
    writeFileSync(targetFile, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { run: n.topic } }]));
    t.after(() => rmSync(targetFile, { force: true }));

    await consumer.waitFor((c) => c.events().filter((e) => e.event === 'order' || e.event === 'dlq').length >= 2000, 120_000);
    const exposition = await fetchText(`${base}/metrics`);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: exposition.body, encoding: 'utf8' });
    assert.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);

    const outcomes = new Map<string, number>();
    await eventually(async () => {
      for (const { metric, value } of await query(`orders_consumed_total{run="${n.topic}"}`)) outcomes.set(String(metric.outcome), value);
      return (outcomes.get('succeeded') ?? 0) + (outcomes.get('dead_lettered') ?? 0) === 2000;
    }, 60_000, () => `Prometheus has ${JSON.stringify([...outcomes])}`);
    let lag: { metric: Record<string, string>; value: number }[] = [];
    await eventually(async () => {
      lag = await query(`orders_consumer_lag{run="${n.topic}"}`);
      return lag.length === 3 && lag.every((series) => series.value === 0);
    }, 60_000, () => `lag in Prometheus: ${JSON.stringify(lag)}`);
    assert.deepEqual(lag.map((series) => series.metric.partition).sort(), ['0', '1', '2']);
    assert.ok((await query(`orders_kafka_broker_rtt_seconds{run="${n.topic}",client="consumer"}`)).length >= 1, 'librdkafka broker rtt scraped');
    assert.ok((await query(`orders_end_to_end_latency_seconds_count{run="${n.topic}"}`))[0]?.value === outcomes.get('succeeded'), 'one latency per succeeded order');

    // SIGTERM: not ready from the signal on, while it drains, until the server closes.
    consumer.child.kill('SIGTERM');
    const stopping: number[] = [];
    for (let status = -1; status !== 0;) {
      status = (await fetchText(`${base}/readyz`)).status;
      stopping.push(status);
    }
    // A request can reach the server before the process has handled the signal; once it answered 503, never 200 again.
    const notReady = stopping.indexOf(503);
    assert.ok(notReady >= 0, `readyz after SIGTERM: ${stopping.join(' ')}`);
    assert.ok(!stopping.slice(notReady).includes(200), `readyz after SIGTERM: ${stopping.join(' ')}`);
    const run = await consumer.done;
    assert.equal(run.code, 0, run.stderr);
    const summary = jsonLines(run.stdout).at(-1);
    assert.equal(summary?.event, 'summary');
    assert.equal(outcomes.get('succeeded'), summary?.succeeded);
    assert.equal(outcomes.get('dead_lettered'), summary?.dlq);
    t.diagnostic(`Prometheus: orders_consumed_total succeeded=${outcomes.get('succeeded')} dead_lettered=${outcomes.get('dead_lettered')} = summary; readyz ${ready.join(' -> ')} -> ${stopping.join(' ')}`);
  });

  it('a metrics port in use is one line and exit 2, before anything is consumed', async (t) => {
    const n = names('port');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const run = await runOrders(['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--group', n.group, '--metrics-port', String(port)]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.deepEqual(run.stderr.trimEnd().split('\n'), [`orders: --metrics-port ${port}: 127.0.0.1:${port} is in use by another process`]);
    // Not even its topics were made: Kafka was never reached.
    assert.ok(!(await admin.listTopics()).includes(n.topic));
  });
});
