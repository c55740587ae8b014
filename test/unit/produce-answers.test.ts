import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { ProduceAnswers, describeAnswer, parseAnswer } from '../../src/kafka/producer/produce-answers.js';

// Lines as librdkafka 2.15 logs them with debug=msg (seen on the three-node cluster).
const line = (partition: number, outcome: string, broker = '127.0.0.1:17092/1'): string =>
  `[thrd:${broker}]: ${broker}: orders [${partition}]: MessageSet with 514 message(s) (MsgId 6, BaseSeq 5) ${outcome}`;
const NER = 'encountered error: Broker: Not enough in-sync replicas (actions Retry,MsgNotPersisted)';
const TIMED_OUT = 'encountered error: Local: Timed out (actions Retry,MsgPossiblyPersisted)';
const NOT_LEADER = 'encountered error: Broker: Not leader for partition (actions Refresh,MsgNotPersisted)';

// librdkafka's debug log is not an API: lines of each version the lockfile allows, as that version writes them
// (delivered: `orders produce` with LOG_LEVEL=debug on one broker; refused: on the three-node cluster, min.insync.replicas unmet).
const LINES_BY_VERSION: Readonly<Record<string, { delivered: string; refused: string }>> = {
  '2.15.1': {
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
    for (const [version, { delivered, refused }] of Object.entries(LINES_BY_VERSION)) {
      assert.equal(parseAnswer(delivered)?.error, undefined, version);
      assert.equal(parseAnswer(delivered)?.partition, 0, version);
      assert.deepEqual(parseAnswer(refused), { broker: '127.0.0.1:17092/1', topic: 'orders', partition: 3, error: 'Broker: Not enough in-sync replicas' }, version);
    }
  });
});

describe('what the partition leaders answered a producer', () => {
  it('reads delivered and failed request lines, and nothing else', () => {
    assert.deepEqual(parseAnswer(line(3, NER)), { broker: '127.0.0.1:17092/1', topic: 'orders', partition: 3, error: 'Broker: Not enough in-sync replicas' });
    assert.deepEqual(parseAnswer(line(0, 'delivered')), { broker: '127.0.0.1:17092/1', topic: 'orders', partition: 0, error: undefined });
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
