import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Latency, Restore, ScrapedConsume, SlowOrders, Throughput } from '../../bench/phases.js';
import { markdown, summarise, type Rounds } from '../../bench/report.js';
import { parseSettings, takeGuarantee } from '../../bench/settings.js';

const CODEC = { orders: 1, encodesPerSecond: [2e6], decodesPerSecond: [2e6], medianEncodesPerSecond: 2e6, medianDecodesPerSecond: 2e6 };
const MACHINE = { commit: 'abc', nproc: 2, cpuModel: 'cpu', memoryGiB: 4, node: '20', librdkafka: '2', kafka: '4', kcat: '1.7', loadAverageAtStart: [0] };

const run = (ordersPerSecond: number, peakRssMb = 100): Throughput => ({
  wallMs: 1000, ordersPerSecond, steadyOrdersPerSecond: ordersPerSecond, selfReportedOrdersPerSecond: undefined, peakRssMb, cpuSeconds: 1, brokerCpuSeconds: 1,
});
const latency = (from: { rate: number; seconds: number; guarantee: 'at-least-once' | 'exactly-once' }, p99: number): Latency => ({
  ...from, samples: 100, redelivered: 0, p50: 1, p99, p999: p99, max: p99, producedOrdersPerSecond: undefined, consumerPeakRssMb: 90,
});

// Issue 18's rounds, none measured: what a run of other phases leaves.
const NO_ISSUE18 = { floorConsume: [], pythonConsume: [], slowOrders: { 'at-least-once': [], 'exactly-once': [] }, restore: { deep: [], shallow: [] } } satisfies Partial<Rounds>;
const slow = (decidedMs: number): SlowOrders => ({ decidedMs, decided: 18_000, peakRssMb: 180 });
const restored = (restoreMs: number): Restore => ({ restoreMs, startToRestoredMs: 500 + restoreMs });
const scraped = (ordersPerSecond: number, peakRssMb = 420, answered = 12): ScrapedConsume =>
  ({ ...run(ordersPerSecond, peakRssMb), metricsPort: 40_000, scrapes: { answered, failed: 1, consumed: 99_000 } });

describe('bench report', () => {
  it('takes --guarantee out of --consume-args, in either spelling', () => {
    assert.deepEqual(takeGuarantee(['--guarantee', 'at-least-once', '--retries', '2']), { rest: ['--retries', '2'], guarantee: 'at-least-once' });
    assert.deepEqual(takeGuarantee(['--guarantee=exactly-once']), { rest: [], guarantee: 'exactly-once' });
    assert.deepEqual(takeGuarantee(['--retries', '2']), { rest: ['--retries', '2'], guarantee: undefined });
    assert.throws(() => takeGuarantee(['--guarantee', 'twice']), /at-least-once or exactly-once, got twice/);
  });

  it('runs both guarantees by default, and only the one --consume-args names', () => {
    const both = parseSettings(['--quick']);
    assert.deepEqual(both.guarantees, ['at-least-once', 'exactly-once']);
    assert.deepEqual(both.latency.map(({ rate, guarantee }) => `${rate} ${guarantee}`), ['1000 at-least-once', '1000 exactly-once', '10000 exactly-once']);
    assert.equal(both.registryGuarantee, 'exactly-once');
    const one = parseSettings(['--consume-args=--guarantee at-least-once --retries 2']);
    assert.deepEqual(one.guarantees, ['at-least-once']);
    assert.deepEqual(one.consumeArgs, ['--retries', '2']);
    assert.deepEqual(one.latency.map(({ guarantee }) => guarantee), ['at-least-once']);
    assert.equal(one.registryGuarantee, 'at-least-once');
  });

  it('judges each guarantee against kcat -G with its own target, and registry consume against the same guarantee', () => {
    const settings = parseSettings(['--quick']);
    const rounds: Rounds = {
      ordersProduce: [run(100)], ordersProduceEach: [run(80)], ordersProduceInput: [run(90)], kcatProduce: [run(200)],
      ordersConsume: { 'at-least-once': [run(45, 200)], 'exactly-once': [run(42, 210)] }, metricsConsume: [], kcatConsume: [run(100, 20)],
      latency: settings.latency.map((each) => [latency(each, each.rate === 10_000 ? 60 : 9)]),
      retries: {}, registryProduce: [run(95)], registryConsume: [run(40)], ...NO_ISSUE18,
    };
    const { targets } = summarise(settings, rounds, CODEC, 58 * settings.orders);
    assert.deepEqual([targets.consumeAtLeastOnce.figure, targets.consumeAtLeastOnce.pass], [0.45, false]);
    assert.deepEqual([targets.consumeExactlyOnce.figure, targets.consumeExactlyOnce.pass], [0.42, true]);
    assert.deepEqual([targets.consumeRssAtLeastOnce.pass, targets.consumeRssExactlyOnce.pass], [true, false]);
    assert.deepEqual([targets.latencyAtLeastOnce1k.pass, targets.latencyExactlyOnce1k.pass, targets.latencyExactlyOnce10k.pass], [true, true, false]);
    assert.equal(targets.latencyExactlyOnce10k.bound, 50);
    // 40 against the exactly-once 42, not the at-least-once 45.
    assert.equal(targets.registryConsume.figure, 40 / 42);
  });

  it('judges produce --input by its wall against plain produce, shows its send loop beside it, and its peak RSS', () => {
    const settings = parseSettings(['--quick', '--only', 'input']);
    assert.deepEqual([settings.produceOnly, settings.inputOnly], [true, true]);
    assert.throws(() => parseSettings(['--only', 'everything']), /--only must be produce, input, consume, slow-orders, restore, got everything/);
    const looping = (wall: number, loop: number, peakRssMb = 100): Throughput => ({ ...run(wall, peakRssMb), selfReportedOrdersPerSecond: loop });
    const rounds: Rounds = {
      ordersProduce: [looping(100, 120)], ordersProduceEach: [], ordersProduceInput: [looping(79, 114, 160)], kcatProduce: [],
      ordersConsume: { 'at-least-once': [], 'exactly-once': [] }, metricsConsume: [], kcatConsume: [], latency: [], retries: {}, registryProduce: [], registryConsume: [], ...NO_ISSUE18,
    };
    const summary = summarise(settings, rounds, CODEC, 58 * settings.orders);
    assert.deepEqual([summary.targets.produceInput.figure, summary.targets.produceInput.pass], [0.79, false]);
    assert.equal(summary.produce.inputSendRatio, 0.95);
    assert.deepEqual([summary.targets.produceInputRss.figure, summary.targets.produceInputRss.pass], [160, false]);
    const table = markdown(settings, MACHINE, summary);
    assert.match(table, /\| Produce 100,000 from a file with `--input` .*\| 79 \| \| 0\.79 \| ≥ 0\.8 × plain \| \*\*FAIL\*\* \|/);
    assert.match(table, /\| Produce `--input`, send loop alone .*\(120\) \| 114 \| \| 0\.95 \| \| \|/);
    assert.match(table, /\| Peak RSS, produce 100,000 with `--input`, MB \| 160 \| \| \| ≤ 150 MB \| \*\*FAIL\*\* \|/);
    assert.match(table, /\| orders produce --input \| 1\.0 \| 1\.0 \| 1\.0 \|/);
    // A run without the input phase reads n/a there, not FAIL.
    const without = markdown(settings, MACHINE, summarise(settings, { ...rounds, ordersProduceInput: [] }, CODEC, 58 * settings.orders));
    assert.match(without, /from a file with `--input` .*\| n\/a \| \| n\/a \| ≥ 0\.8 × plain \| not measured \|/);
  });

  it('says "not measured" for a guarantee left out, not FAIL', () => {
    const settings = parseSettings(['--quick', '--consume-args=--guarantee exactly-once']);
    const rounds: Rounds = {
      ordersProduce: [run(100)], ordersProduceEach: [run(80)], ordersProduceInput: [run(90)], kcatProduce: [run(200)],
      ordersConsume: { 'at-least-once': [], 'exactly-once': [run(42)] }, metricsConsume: [], kcatConsume: [run(100)],
      latency: settings.latency.map((each) => [latency(each, 20)]), retries: {}, registryProduce: [], registryConsume: [], ...NO_ISSUE18,
    };
    const summary = summarise(settings, rounds, CODEC, 58 * settings.orders);
    const table = markdown(settings, MACHINE, summary);
    assert.match(table, /Consume \+ aggregate 100,000 at-least-once, .*≥ 0\.5 × kcat \| not measured \|/);
    assert.match(table, /Consume \+ aggregate 100,000 exactly-once, .*≥ 0\.4 × kcat \| \*\*PASS\*\* \|/);
    assert.match(table, /at 1,000\/s for 10 s, exactly-once, .*p99 ≤ 25 ms \| \*\*PASS\*\* \|/);
  });

  it('judges issue 18\'s rows and issue 27\'s: consume against the floor loop (the Python loop beside it), the slow orders\' 90 % time, restore after a long history against one transaction', () => {
    const settings = parseSettings(['--quick']);
    assert.deepEqual([parseSettings(['--only', 'restore']).only, parseSettings(['--only', 'restore']).produceOnly], ['restore', false]);
    const rounds: Rounds = {
      ordersProduce: [run(100)], ordersProduceEach: [run(80)], ordersProduceInput: [run(90)], kcatProduce: [run(200)],
      ordersConsume: { 'at-least-once': [run(45, 100)], 'exactly-once': [run(42, 101)] }, metricsConsume: [], kcatConsume: [run(100)],
      // The floor's medians are 47 orders/s and 80 MB: at-least-once 45 / 47 passes 0.95, exactly-once 42 / 47 misses 0.9;
      // at-least-once's 100 MB is exactly 1.25 x the floor's, exactly-once's 101 MB is above it.
      floorConsume: [run(47, 120), run(40, 80), run(60, 70)],
      pythonConsume: [run(19), run(21), run(30)],
      latency: [], retries: {}, registryProduce: [], registryConsume: [],
      slowOrders: { 'at-least-once': [slow(2_400), slow(2_600), slow(9_000)], 'exactly-once': [slow(6_500)] },
      // Medians 3.3 and 2.5 ms over the restarts: 1.32.
      restore: { deep: [restored(3.3), restored(3.1), restored(9)], shallow: [restored(2.5), restored(2), restored(2.6)] },
    };
    const summary = summarise(settings, rounds, CODEC, 58 * settings.orders);
    const { targets } = summary;
    assert.equal(summary.consume.python.ordersPerSecond, 21);
    assert.equal(summary.consume.orders['exactly-once'].pythonRatio, 2);
    assert.deepEqual([summary.consume.floor.ordersPerSecond, summary.consume.floor.peakRssMb], [47, 80]);
    assert.deepEqual([targets.consumeFloorAtLeastOnce.figure, targets.consumeFloorAtLeastOnce.pass, targets.consumeFloorAtLeastOnce.bound], [45 / 47, true, 0.95]);
    assert.deepEqual([targets.consumeFloorExactlyOnce.figure, targets.consumeFloorExactlyOnce.pass, targets.consumeFloorExactlyOnce.bound], [42 / 47, false, 0.9]);
    assert.deepEqual([targets.consumeFloorRssAtLeastOnce.figure, targets.consumeFloorRssAtLeastOnce.pass], [1.25, true]);
    assert.deepEqual([targets.consumeFloorRssExactlyOnce.pass, targets.consumeFloorRssExactlyOnce.comparison], [false, '<=']);
    assert.deepEqual([targets.consumeRssExactlyOnce.bound, targets.consumeRssExactlyOnce.pass], [200, true]);
    assert.deepEqual([targets.slowOrdersAtLeastOnce.figure, targets.slowOrdersAtLeastOnce.pass], [2.6, true]);
    assert.deepEqual([targets.slowOrdersExactlyOnce.figure, targets.slowOrdersExactlyOnce.pass, targets.slowOrdersExactlyOnce.comparison], [6.5, false, '<=']);
    assert.deepEqual([summary.restore.history, summary.restore.deepMs, summary.restore.shallowMs], [10_000, 3.3, 2.5]);
    assert.deepEqual([targets.restore.figure, targets.restore.pass, targets.restore.bound], [3.3 / 2.5, true, 1.5]);
    const table = markdown(settings, MACHINE, summary);
    assert.match(table, /\| Consume \+ aggregate 100,000 at-least-once, orders\/s \(wall\); ratio to the same job as a Python loop \(confluent-kafka \+ avro, 21;.*\) \| 45 \| \| 2\.14 \| \| \|/);
    assert.match(table, /\| Floor: the bare KafkaConsumer loop .*\| 47 \| 100 \| 0\.47 \| \| \|/);
    assert.match(table, /\| Consume \+ aggregate 100,000 exactly-once, orders\/s \(wall\); ratio to the floor loop \(47\) \| 42 \| \| 0\.89 \| ≥ 0\.9 × floor \| \*\*FAIL\*\* \|/);
    assert.match(table, /\| Peak RSS, consume 100,000 at-least-once \/ the floor loop's \| 1\.25 \| \| \| ≤ 1\.25 × floor \| \*\*PASS\*\* \|/);
    assert.match(table, /\| the floor loop \(bench\/floor-consume\.ts\) \| 1\.0 \| 1\.0 \| 1\.0 \|/);
    assert.match(table, /\| 20,000 orders exactly-once, fail-rate 0\.3, `--retries 8 --backoff-ms 1000`: s from start until 90 % are decided and committed \(peak RSS 180 MB\) \| 6\.5 \| \| \| ≤ 6 s \| \*\*FAIL\*\* \|/);
    assert.match(table, /\| 20,000 orders at-least-once, .* until 90 % are decided \(peak RSS 180 MB\) \| 2\.6 \| \| \| ≤ 6 s \| \*\*PASS\*\* \|/);
    assert.match(table, /\| Restore of the assigned partitions \(assigned → restored\), ms, after 10,000 exactly-once transactions \/ after 1 \(start → restored: 503 \/ 503 ms\) \| 3\.3 \/ 2\.5 \| \| 1\.32 \| ≤ 1\.5 × \| \*\*PASS\*\* \|/);
    assert.match(table, /\| python_consume\.py \| 1\.0 \| 1\.0 \| 1\.0 \|/);
  });

  it('says "not measured" for issue 18\'s rows when their phases did not run', () => {
    const settings = parseSettings(['--quick', '--only', 'produce']);
    const rounds: Rounds = {
      ordersProduce: [run(100)], ordersProduceEach: [], ordersProduceInput: [], kcatProduce: [], ordersConsume: { 'at-least-once': [], 'exactly-once': [] }, metricsConsume: [], kcatConsume: [],
      latency: [], retries: {}, registryProduce: [], registryConsume: [], ...NO_ISSUE18,
    };
    const table = markdown(settings, MACHINE, summarise(settings, rounds, CODEC, 58 * settings.orders));
    assert.match(table, /ratio to the floor loop \(n\/a\) \| n\/a \| \| n\/a \| ≥ 0\.95 × floor \| not measured \|/);
    assert.match(table, /until 90 % are decided and committed \(peak RSS n\/a MB\) \| n\/a \| \| \| ≤ 6 s \| not measured \|/);
    assert.match(table, /after 1 \(start → restored: n\/a \/ n\/a ms\) \| n\/a \/ n\/a \| \| n\/a \| ≤ 1\.5 × \| not measured \|/);
  });
  it('judges issue 20\'s row: exactly-once with --metrics-port, scraped, against the plain exactly-once run of its own round', () => {
    const settings = parseSettings(['--quick', '--only', 'consume']);
    const rounds: Rounds = {
      ordersProduce: [run(100)], ordersProduceEach: [], ordersProduceInput: [], kcatProduce: [run(200)],
      // Rounds of 100, 90 and 80 orders/s plain: 0.98, 0.944 and 0.9875 with --metrics-port, median 0.98 (median over median would be 85 / 90).
      ordersConsume: { 'at-least-once': [run(45), run(45), run(45)], 'exactly-once': [run(100), run(90), run(80)] },
      metricsConsume: [scraped(98, 430, 11), scraped(85, 410, 12), scraped(79, 450, 13)], kcatConsume: [run(200)],
      latency: [], retries: {}, registryProduce: [], registryConsume: [], ...NO_ISSUE18,
    };
    const summary = summarise(settings, rounds, CODEC, 58 * settings.orders);
    const { metrics } = summary.consume;
    assert.deepEqual([metrics.orders.ordersPerSecond, metrics.ratio, metrics.scrapes, metrics.failedScrapes, metrics.orders.peakRssMb], [85, 0.98, 12, 1, 430]);
    assert.deepEqual([summary.targets.consumeMetrics.figure, summary.targets.consumeMetrics.bound, summary.targets.consumeMetrics.pass], [0.98, 0.97, true]);
    const table = markdown(settings, MACHINE, summary);
    assert.match(table, /\| Consume \+ aggregate 100,000 exactly-once with `--metrics-port`, \/metrics scraped every second \(12 scrapes a run\), orders\/s \(wall\); ratio to plain consume exactly-once of the same round \(90\), median of the rounds \| 85 \| \| 0\.98 \| ≥ 0\.97 × plain \| \*\*PASS\*\* \|/);
    assert.match(table, /\| Peak RSS, consume 100,000 exactly-once with `--metrics-port`, scraped, MB \(without: 100\) \| 430 \| \| \| \| \|/);
    assert.match(table, /\| orders consume --guarantee exactly-once --json --metrics-port \(scraped\) \| 1\.0 \| 1\.0 \| 1\.0 \|/);
    // Every existing consume row is still there.
    assert.match(table, /\| Consume \+ aggregate 100,000 exactly-once, orders\/s \(wall, incl\. start-up \+ group join; kcat -G\) \| 90 \|/);
    const slower = summarise(settings, { ...rounds, metricsConsume: [scraped(96), scraped(85), scraped(76)] }, CODEC, 58 * settings.orders);
    assert.deepEqual([slower.targets.consumeMetrics.figure, slower.targets.consumeMetrics.pass], [0.95, false]);
    assert.match(markdown(settings, MACHINE, slower), /median of the rounds \| 85 \| \| 0\.95 \| ≥ 0\.97 × plain \| \*\*FAIL\*\* \|/);
  });

  it('says "not measured" for the --metrics-port row when consume did not run, or exactly-once was left out', () => {
    const settings = parseSettings(['--quick', '--only', 'produce']);
    const rounds: Rounds = {
      ordersProduce: [run(100)], ordersProduceEach: [run(80)], ordersProduceInput: [run(90)], kcatProduce: [run(200)], ordersConsume: { 'at-least-once': [], 'exactly-once': [] },
      metricsConsume: [], kcatConsume: [], latency: [], retries: {}, registryProduce: [], registryConsume: [], ...NO_ISSUE18,
    };
    const table = markdown(settings, MACHINE, summarise(settings, rounds, CODEC, 58 * settings.orders));
    assert.match(table, /with `--metrics-port`, \/metrics scraped every second \(n\/a scrapes a run\), .* \(n\/a\), median of the rounds \| n\/a \| \| n\/a \| ≥ 0\.97 × plain \| not measured \|/);
    assert.match(table, /\| Peak RSS, consume 100,000 exactly-once with `--metrics-port`, scraped, MB \(without: n\/a\) \| n\/a \| \| \| \| \|/);
    // At least once only: there is no plain exactly-once run to hold it against, so the bench does not run it.
    const atLeastOnce = parseSettings(['--quick', '--consume-args=--guarantee at-least-once']);
    const only = { ...rounds, ordersConsume: { 'at-least-once': [run(45)], 'exactly-once': [] }, kcatConsume: [run(100)] };
    assert.match(markdown(atLeastOnce, MACHINE, summarise(atLeastOnce, only, CODEC, 58 * atLeastOnce.orders)), /median of the rounds \| n\/a \| \| n\/a \| ≥ 0\.97 × plain \| not measured \|/);
  });
});
