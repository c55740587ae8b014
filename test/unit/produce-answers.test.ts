import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { ProduceAnswers, describeAnswer, parseAnswer, parseImplicitAck } from '../../src/kafka/producer/produce-answers.js';

// Lines as librdkafka 2.15 logs them with debug=msg (seen on the three-node cluster).
const line = (partition: number, outcome: string, broker = '127.0.0.1:17092/1'): string =>
  `[thrd:${broker}]: ${broker}: orders [${partition}]: MessageSet with 514 message(s) (MsgId 6, BaseSeq 5) ${outcome}`;
const NER = 'encountered error: Broker: Not enough in-sync replicas (actions Retry,MsgNotPersisted)';
const TIMED_OUT = 'encountered error: Local: Timed out (actions Retry,MsgPossiblyPersisted)';
const NOT_LEADER = 'encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted)';

// librdkafka's debug log is not an API: lines of each version the lockfile allows, as that version writes them
// (delivered: `orders produce` with LOG_LEVEL=debug on one broker; refused: on the three-node cluster, min.insync.replicas unmet).
const LINES_BY_VERSION: Readonly<Record<string, { delivered: string; refused: string; implicitAck: string }>> = {
  '2.15.1': {
    // Seen on the three-node cluster: the order this acknowledged was never written (the loss below).
    implicitAck: '[thrd:127.0.0.1:20921/2]: 127.0.0.1:20921/2: loss-a-1796687163 [3] 1 message(s) implicitly acked by subsequent batch success (msgids 1..1, last acked 7)',
    delivered: '[thrd:127.0.0.1:20600/1]: 127.0.0.1:20600/1: perf-p-count-11534 [0]: MessageSet with 1036 message(s) (MsgId 12580, BaseSeq 12579) delivered',
    refused: '[thrd:127.0.0.1:17092/1]: 127.0.0.1:17092/1: orders [3]: MessageSet with 514 message(s) (MsgId 6, BaseSeq 5) encountered error: Broker: Not enough in-sync replicas (actions Retry,MsgNotPersisted)',
  },
};

describe('librdkafka\'s msg debug lines, per version the lockfile allows', () => {
  it('pins one binding, whose librdkafka has lines here', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    // An exact version: a range would let npm install a librdkafka whose lines nobody has read.
    assert.match(manifest.dependencies['@confluentinc/kafka-javascript'] ?? '', /^\d+\.\d+\.\d+$/);
    const version = kafkaJavascript.librdkafkaVersion;
    assert.ok(Object.hasOwn(LINES_BY_VERSION, version), `librdkafka ${version} has no lines here: capture a delivered and a refused one (debug=msg) and add them`);
  });

  it('reads each version\'s delivered and refused lines', () => {
    for (const [version, { delivered, refused, implicitAck }] of Object.entries(LINES_BY_VERSION)) {
      assert.deepEqual(parseImplicitAck(implicitAck), { topic: 'loss-a-1796687163', partition: 3, first: 1, last: 1 }, version);
      assert.equal(parseAnswer(delivered)?.error, undefined, version);
      assert.equal(parseAnswer(delivered)?.partition, 0, version);
      assert.deepEqual(parseAnswer(refused), { broker: '127.0.0.1:17092/1', topic: 'orders', partition: 3, error: 'Broker: Not enough in-sync replicas', first: 6, count: 514, notWritten: true }, version);
    }
  });
});

// One partition's requests as librdkafka logged them when an order was lost (produce runs back to back on the
// three-node cluster while a node was killed and restarted, as in cluster.test's throughKills): the first request, refused by a leader that had just
// lost the partition, then by the new leader before it knew; the second, sent meanwhile, accepted by the new
// leader (it had no state of this producer, so it took sequence 1 without 0); librdkafka then counted the first delivered.
const LOSS = [
  '[thrd:127.0.0.1:20922/3]: 127.0.0.1:20922/3: loss-a-1796687163 [3]: MessageSet with 1 message(s) (MsgId 1, BaseSeq 0) encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted)',
  '[thrd:127.0.0.1:20922/3]: 127.0.0.1:20922/3: loss-a-1796687163 [3]: MessageSet with 6 message(s) (MsgId 2, BaseSeq 1) encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted) [NOT LEADER]',
  '[thrd:127.0.0.1:20921/2]: 127.0.0.1:20921/2: loss-a-1796687163 [3]: MessageSet with 1 message(s) (MsgId 1, BaseSeq 0) encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted)',
  '[thrd:127.0.0.1:20921/2]: 127.0.0.1:20921/2: loss-a-1796687163 [3]: MessageSet with 6 message(s) (MsgId 2, BaseSeq 1) delivered',
  '[thrd:127.0.0.1:20921/2]: 127.0.0.1:20921/2: loss-a-1796687163 [3] 1 message(s) implicitly acked by subsequent batch success (msgids 1..1, last acked 7)',
  '[thrd:127.0.0.1:20921/2]: 127.0.0.1:20921/2: loss-a-1796687163 [3]: MessageSet with 171 message(s) (MsgId 8, BaseSeq 7) delivered',
];

describe('orders librdkafka counts delivered that no request wrote', () => {
  it('finds the lost order of a refused first request acknowledged by a later one', () => {
    const answers = new ProduceAnswers();
    for (const seen of LOSS) answers.seen(seen);
    assert.deepEqual(answers.ackedUnwritten(), { count: 1, partitions: ['loss-a-1796687163 [3]'] });
  });

  it('finds none when the refused request was delivered on a retry before the later one', () => {
    const answers = new ProduceAnswers();
    const [refusedOld, , refusedNew, delivered, implicit] = LOSS as [string, string, string, string, string];
    for (const seen of [refusedOld, refusedNew, refusedNew.replace(/encountered error: .*$/, 'delivered'), delivered, implicit]) answers.seen(seen);
    assert.equal(answers.ackedUnwritten(), undefined);
  });

  it('finds none when the earlier request may have been written (a timeout): that is what the implicit acknowledgement is for', () => {
    const answers = new ProduceAnswers();
    const [, , refusedNew, delivered, implicit] = LOSS as [string, string, string, string, string];
    for (const seen of [refusedNew.replace(/encountered error: .*$/, 'encountered error: Local: Timed out (actions Retry,MsgPossiblyPersisted)'), delivered, implicit]) answers.seen(seen);
    assert.equal(answers.ackedUnwritten(), undefined);
  });

  it('counts only the refused messages an acknowledgement covers, per partition', () => {
    const answers = new ProduceAnswers();
    answers.seen('[thrd:b/1]: b/1: orders [0]: MessageSet with 3 message(s) (MsgId 10, BaseSeq 9) encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted)');
    answers.seen('[thrd:b/1]: b/1: orders [1]: MessageSet with 2 message(s) (MsgId 4, BaseSeq 3) encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted)');
    answers.seen('[thrd:b/2]: b/2: orders [0] 2 message(s) implicitly acked by subsequent batch success (msgids 11..12, last acked 20)');
    answers.seen('[thrd:b/2]: b/2: orders [1] 5 message(s) implicitly acked by subsequent batch success (msgids 1..5, last acked 9)');
    assert.deepEqual(answers.ackedUnwritten(), { count: 4, partitions: ['orders [0]', 'orders [1]'] });
  });
});

describe('what the partition leaders answered a producer', () => {
  it('reads delivered and failed request lines, and nothing else', () => {
    assert.deepEqual(parseAnswer(line(3, NER)), { broker: '127.0.0.1:17092/1', topic: 'orders', partition: 3, error: 'Broker: Not enough in-sync replicas', first: 6, count: 514, notWritten: true });
    assert.deepEqual(parseAnswer(line(0, 'delivered')), { broker: '127.0.0.1:17092/1', topic: 'orders', partition: 0, error: undefined, first: 6, count: 514, notWritten: false });
    assert.equal(parseAnswer('[thrd:main]: Partition orders [0] changed leader'), undefined);
  });

  it('gives up on a broker answer that persisted, not on timeouts or a moving leader', () => {
    let now = 0;
    const answers = new ProduceAnswers(() => now);
    answers.seen(line(1, TIMED_OUT));
    answers.seen(line(2, NOT_LEADER));
    now = 60_000;
    assert.equal(answers.persisting(10_000), undefined, 'no broker refusal: a failover is waited out');
    answers.seen(line(0, NER));
    now = 65_000;
    assert.equal(answers.persisting(10_000), undefined, 'not yet persisted for 10 s');
    answers.seen(line(0, NER));
    now = 70_000;
    const found = answers.persisting(10_000);
    assert.equal(found?.partition, 0);
    assert.equal(describeAnswer(found ?? assert.fail()), 'broker 1 (127.0.0.1:17092), the leader of orders [0], answered NOT_ENOUGH_REPLICAS (Broker: Not enough in-sync replicas)');
  });

  it('forgets a partition once a request of it is delivered', () => {
    let now = 0;
    const answers = new ProduceAnswers(() => now);
    answers.seen(line(0, NER));
    now = 9_000;
    answers.seen(line(0, 'delivered'));
    answers.seen(line(0, NER));
    now = 15_000;
    assert.equal(answers.persisting(10_000), undefined, 'the failing started again at 9 s');
    assert.match(describeAnswer(answers.last() ?? assert.fail()), /NOT_ENOUGH_REPLICAS/);
  });
});
