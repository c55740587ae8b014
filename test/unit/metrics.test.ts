import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupLag } from '../../src/commands/stats.js';
import { ProgressTracker, etaText, partitionView, progressBar, progressText } from '../../src/consume/progress.js';
import { parseStatistics } from '../../src/kafka/statistics.js';
import { OrdersMetrics } from '../../src/metrics/metrics.js';
import { PlainHistogram } from '../../src/metrics/plain-histogram.js';
import { lagOf, readableEnd } from '../../src/processing/lag.js';

// The shape librdkafka 2.x writes (trimmed): a logical coordinator broker, the -1 partition, microsecond rtt.
const CONSUMER_STATISTICS = JSON.stringify({
  name: 'orders-consumer#consumer-1', client_id: 'orders-consumer', type: 'consumer', replyq: 2, msg_cnt: 0,
  brokers: {
    '127.0.0.1:9092/1': { name: '127.0.0.1:9092/1', nodeid: 1, state: 'UP', outbuf_cnt: 0, waitresp_cnt: 1, rtt: { avg: 1500, p99: 4200, cnt: 10 } },
    'GroupCoordinator': { name: 'GroupCoordinator', nodeid: -1, state: 'UP', outbuf_cnt: 0, waitresp_cnt: 0, rtt: { avg: 0, p99: 0 } },
  },
  topics: {
    orders: {
      topic: 'orders',
      partitions: {
        0: { partition: 0, lo_offset: 0, hi_offset: 120, ls_offset: 118, committed_offset: 100, consumer_lag: 18, fetchq_cnt: 5 },
        '-1': { partition: -1, lo_offset: -1, hi_offset: -1, ls_offset: -1, committed_offset: -1001, consumer_lag: -1, fetchq_cnt: 0 },
      },
    },
  },
});

describe("librdkafka's statistics", () => {
  it('reads brokers with a node id (rtt in seconds) and real partitions, leaving out the coordinator alias and partition -1', () => {
    assert.deepEqual(parseStatistics(CONSUMER_STATISTICS), {
      type: 'consumer', replyq: 2, msgCount: 0,
      brokers: [{ name: '127.0.0.1:9092/1', nodeId: 1, state: 'UP', rttAvgSeconds: 0.0015, rttP99Seconds: 0.0042, outbufCount: 0, waitrespCount: 1 }],
      partitions: [{ topic: 'orders', partition: 0, loOffset: 0, hiOffset: 120, lsOffset: 118, committedOffset: 100, consumerLag: 18, fetchqCount: 5 }],
    });
  });

  it('gives -1 for what is missing, and nothing for text that is not a JSON object', () => {
    const sparse = parseStatistics('{"type":"producer","brokers":{"b/2":{"nodeid":2}},"topics":{"t":{"topic":"t","partitions":{"3":{"partition":3}}}}}');
    assert.equal(sparse?.brokers[0]?.rttAvgSeconds, -1);
    assert.equal(sparse?.partitions[0]?.hiOffset, -1);
    assert.equal(sparse?.msgCount, -1);
    assert.equal(parseStatistics('{"brokers":'), undefined);
    assert.equal(parseStatistics('null'), undefined);
    assert.equal(parseStatistics(undefined), undefined);
  });
});

describe('lag', () => {
  it('is the end minus the committed offset, or minus the log start when nothing is committed', () => {
    assert.equal(lagOf(100, 150, 0), 50);
    assert.equal(lagOf(-1, 150, 30), 120);
    assert.equal(lagOf(150, 150, 0), 0);
    // A log truncated past an old commit still has no negative lag.
    assert.equal(lagOf(200, 150, 0), 0);
    assert.equal(lagOf(10, -1, 0), undefined);
  });

  it('ends where read_committed stops: the last stable offset when known', () => {
    assert.equal(readableEnd(120, 118), 118);
    assert.equal(readableEnd(120, -1), 120);
  });

  it("of a group: each partition's committed offset, ends, lag and owner, and the total", () => {
    const lag = groupLag(
      { state: 'Stable', protocolType: 'consumer', protocol: 'range', members: [{ memberId: 'm-1', clientId: 'orders-consumer', host: '/127.0.0.1', partitions: [{ topic: 'orders', partition: 1 }, { topic: 'other', partition: 0 }] }] },
      'orders',
      new Map([[0, { offset: 40 }], [1, { offset: -1 }]]),
      new Map([[0, { low: 0, high: 50 }], [1, { low: 5, high: 25 }], [2, { low: 0, high: 0 }]]),
      new Map([[0, { high: 48 }], [1, { high: 25 }], [2, { high: 0 }]]),
    );
    assert.deepEqual(lag, {
      state: 'Stable', protocolType: 'consumer', protocol: 'range', members: 1, total: 30,
      partitions: [
        { partition: 0, committed: 40, logEnd: 50, lastStable: 48, lag: 10, owner: undefined },
        { partition: 1, committed: -1, logEnd: 25, lastStable: 25, lag: 20, owner: { memberId: 'm-1', clientId: 'orders-consumer', host: '/127.0.0.1' } },
        { partition: 2, committed: -1, logEnd: 0, lastStable: 0, lag: 0, owner: undefined },
      ],
    });
  });
});

describe('progress toward the end', () => {
  it("takes the larger of our commit and librdkafka's committed offset, and the stable end", () => {
    assert.deepEqual(partitionView({ committedOffset: 100, hiOffset: 120, lsOffset: 118, loOffset: 0 }, 110), { committed: 110, end: 118, start: 0 });
    // Exactly-once commits go through the producer: the consumer's own figure stays where it was at assignment.
    assert.deepEqual(partitionView({ committedOffset: -1001, hiOffset: 120, lsOffset: -1, loOffset: 3 }, -1), { committed: -1, end: 120, start: 3 });
  });

  it('sums the lag, smooths the rate, and measures the bar from where each partition stood when first seen', () => {
    const tracker = new ProgressTracker(true);
    tracker.see(0, { committed: 0, end: 1000, start: 0 });
    tracker.see(1, { committed: 500, end: 1500, start: 0 });
    assert.deepEqual(tracker.tick(0, 0), { lag: 2000, ratePerSecond: 0, moved: false, toEnd: { done: 0, total: 2000, etaSeconds: undefined } });
    tracker.see(0, { committed: 500, end: 1200, start: 0 });
    tracker.see(1, { committed: 1000, end: 1500, start: 0 });
    const report = tracker.tick(1000, 1000);
    assert.equal(report.lag, 1200);
    assert.equal(report.ratePerSecond, 1000);
    assert.equal(report.moved, true);
    // The bar's end stays where it was first seen (1000 and 1500): what arrives later is lag, not a moving target.
    assert.deepEqual(report.toEnd, { done: 1000, total: 2000, etaSeconds: 1 });
    // The next second decides 500 more: 0.3 of 500 and 0.7 of 1000.
    assert.equal(tracker.tick(2000, 1500).ratePerSecond, 850);
    tracker.forget(1);
    assert.equal(tracker.tick(3000, 1500).lag, 700);
    // Our own commit moves it at once, before the next statistics.
    tracker.committed(0, 1100);
    assert.equal(tracker.tick(4000, 1500).lag, 100);
  });

  it('has no bar without --exit-at-end, and no lag before the first statistics', () => {
    const tracker = new ProgressTracker(false);
    assert.deepEqual(tracker.tick(0, 0), { lag: undefined, ratePerSecond: 0, moved: false });
    tracker.see(2, { committed: 7, end: 10, start: 0 });
    assert.deepEqual(tracker.tick(1000, 0), { lag: 3, ratePerSecond: 0, moved: false });
  });

  it('shows eta - once the rate decays near 0, not a time of billions of hours (issue 25, point 1)', () => {
    const tracker = new ProgressTracker(true);
    tracker.see(0, { committed: 0, end: 60_000, start: 0 });
    tracker.tick(0, 0);
    tracker.tick(1000, 433);
    tracker.see(0, { committed: 433, end: 60_000, start: 0 });
    let report = tracker.tick(2000, 433);
    // Stalled: the smoothed rate only decays, 0.7 a second.
    for (let second = 3; second <= 60; second++) report = tracker.tick(second * 1000, 433);
    assert.ok(report.ratePerSecond > 0 && report.ratePerSecond < 0.1, `rate ${report.ratePerSecond}`);
    assert.equal(report.toEnd?.etaSeconds, undefined);
    assert.match(progressText(report), / 433\/60,000 eta -$/);
  });

  it('draws the bar, the time left and the line', () => {
    assert.equal(progressBar(0, 100, 10), '[----------] 0%');
    assert.equal(progressBar(55, 100, 10), '[######----] 55%');
    assert.equal(progressBar(100, 100, 10), '[##########] 100%');
    assert.equal(progressBar(0, 0, 10), '[##########] 100%');
    assert.equal(etaText(undefined), '-');
    assert.equal(etaText(4.2), '5 s');
    assert.equal(etaText(200), '3 min 20 s');
    assert.equal(etaText(7500), '2 h 5 min');
    assert.equal(progressText({ lag: 12_345, ratePerSecond: 4_980.4, moved: true }), 'lag=12,345 rate=4,980/s');
    assert.equal(progressText({ lag: undefined, ratePerSecond: 0, moved: false }), 'lag=? rate=0/s');
    assert.equal(progressText({ lag: 12_000, ratePerSecond: 4_000, moved: true, toEnd: { done: 12_000, total: 24_000, etaSeconds: 3 } }),
      'lag=12,000 rate=4,000/s [##########----------] 50% 12,000/24,000 eta 3 s');
  });
});

describe('metrics', () => {
  it('a plain histogram exposes cumulative buckets, sum and count as Prometheus text', async () => {
    const metrics = new OrdersMetrics();
    metrics.latency.observe(0.004);
    metrics.latency.observe(0.02);
    metrics.latency.observe(1000);
    const text = await metrics.exposition();
    assert.match(text, /^# TYPE orders_end_to_end_latency_seconds histogram$/m);
    assert.match(text, /^orders_end_to_end_latency_seconds_bucket\{le="0\.005"\} 1$/m);
    assert.match(text, /^orders_end_to_end_latency_seconds_bucket\{le="0\.025"\} 2$/m);
    assert.match(text, /^orders_end_to_end_latency_seconds_bucket\{le="300"\} 2$/m);
    assert.match(text, /^orders_end_to_end_latency_seconds_bucket\{le="\+Inf"\} 3$/m);
    assert.match(text, /^orders_end_to_end_latency_seconds_count 3$/m);
    assert.match(text, /^orders_end_to_end_latency_seconds_sum 1000\.024$/m);
  });

  it('counters read the plain numbers at scrape time; lag and librdkafka figures come from their sources', async () => {
    const metrics = new OrdersMetrics();
    metrics.counts.succeeded = 7;
    metrics.counts.deadLettered = 2;
    metrics.watchConsumer({ flight: () => ({ inFlight: 4, backingOff: 1 }), lag: () => [{ topic: 'orders', partition: 0, lag: 18 }], assigned: () => 3 });
    metrics.libraryStatistics('consumer', CONSUMER_STATISTICS);
    const text = await metrics.exposition();
    for (const line of [
      'orders_consumed_total{outcome="succeeded"} 7', 'orders_consumed_total{outcome="dead_lettered"} 2', 'orders_in_flight 4', 'orders_backing_off 1',
      'orders_assigned_partitions 3', 'orders_consumer_lag{topic="orders",partition="0"} 18',
      'orders_kafka_broker_rtt_seconds{client="consumer",broker="127.0.0.1:9092/1"} 0.0015', 'orders_kafka_reply_queue{client="consumer"} 2',
      'orders_kafka_fetch_queue_messages{client="consumer"} 5',
    ]) assert.ok(text.split('\n').includes(line), `${line} in:\n${text}`);
    // prom-client's process and Node.js default metrics, in this registry.
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it('the produced counter never goes down, though its estimate from the queue may', async () => {
    const metrics = new OrdersMetrics();
    let acknowledged = 100;
    metrics.watchProducer(() => acknowledged);
    assert.match(await metrics.exposition(), /^orders_produced_total 100$/m);
    acknowledged = 90;
    assert.match(await metrics.exposition(), /^orders_produced_total 100$/m);
  });

  it('is ready only when its source says so and it is not stopping; alive while the loop beats', () => {
    const metrics = new OrdersMetrics();
    assert.equal(metrics.ready(), false);
    metrics.readyWhen(() => true);
    assert.equal(metrics.ready(), true);
    metrics.stop();
    assert.equal(metrics.ready(), false);
    metrics.beat();
    assert.equal(metrics.alive(), true);
    assert.equal(metrics.alive(performance.now() + 61_000), false);
  });

  it('a histogram of its own bounds puts a value on a bound in that bucket, as Prometheus le means', () => {
    const histogram = new PlainHistogram('x_seconds', 'x', [1, 2]);
    histogram.observe(1);
    histogram.observe(2.5);
    assert.deepEqual(histogram.get().values.map((v) => v.value), [1, 1, 2, 3.5, 2]);
  });
});
