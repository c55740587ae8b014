import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBrokers } from '../../src/config/environment.js';
import { parseConsumeOptions, parseDlqTailOptions, parseProduceOptions, reportFor } from '../../src/config/flags.js';
import { UsageError } from '../../src/errors.js';

const usage = (message: RegExp) => (error: unknown) => error instanceof UsageError && message.test(error.message);

describe('flag validation', () => {
  it('applies the defaults', () => {
    const options = parseConsumeOptions({}, {});
    assert.deepEqual({ ...options, seed: 0 }, {
      brokers: ['localhost:9092'], timeoutMs: 10_000, json: false, partitions: 3, replicationFactor: -1,
      topic: 'orders', dlqTopic: 'orders-dlq', aggregatesTopic: 'orders-aggregates', group: 'orders-consumer', guarantee: 'exactly-once', instanceId: undefined,
      failRate: 0.3, retries: 2, backoffMs: 100, seed: 0, maxInFlight: 5000, exitAtEnd: false, logLevel: 'info', properties: {}, registry: undefined,
      metricsPort: undefined, metricsHost: '127.0.0.1',
    });
    assert.ok(Number.isInteger(options.seed));
  });

  it('takes --metrics-port from 1 to 65535 and a non-empty --metrics-host on consume, produce and dlq-replay', () => {
    assert.equal(parseConsumeOptions({ metricsPort: '9464' }, {}).metricsPort, 9464);
    assert.equal(parseProduceOptions({ metricsPort: '9464', metricsHost: '0.0.0.0' }, {}).metricsHost, '0.0.0.0');
    assert.throws(() => parseConsumeOptions({ metricsPort: '0' }, {}), usage(/^--metrics-port must be a whole number from 1 to 65535, got "0"$/));
    assert.throws(() => parseConsumeOptions({ metricsPort: 'http' }, {}), usage(/^--metrics-port must be a whole number/));
    assert.throws(() => parseProduceOptions({ metricsHost: ' ' }, {}), usage(/^--metrics-host must not be empty$/));
  });

  it('reads the schema registry from --schema-registry, -X schema.registry.url or $SCHEMA_REGISTRY_URL, not passing it to librdkafka', () => {
    assert.equal(parseProduceOptions({ schemaRegistry: 'http://flag:1' }, { SCHEMA_REGISTRY_URL: 'http://env:1' }).registry?.url, 'http://flag:1');
    const options = parseConsumeOptions({ property: ['schema.registry.url=http://x:1/apis/ccompat/v7', 'schema.registry.basic.auth.user.info=u:p'] }, {});
    assert.deepEqual(options.registry, { url: 'http://x:1/apis/ccompat/v7', userInfo: 'u:p', secrets: ['u:p', 'p', 'dTpw'] });
    assert.equal(parseDlqTailOptions({}, { SCHEMA_REGISTRY_URL: 'http://env:1' }).registry?.url, 'http://env:1');
    assert.throws(() => parseProduceOptions({ schemaRegistry: 'ftp://x' }, {}), usage(/^--schema-registry must be an http/));
  });

  it('takes --broker over KAFKA_BROKERS over the default', () => {
    assert.deepEqual(parseProduceOptions({}, { KAFKA_BROKERS: 'k1:9092,k2:9093' }).brokers, ['k1:9092', 'k2:9093']);
    assert.deepEqual(parseProduceOptions({ broker: 'b:1' }, { KAFKA_BROKERS: 'k1:9092' }).brokers, ['b:1']);
  });

  it('rejects malformed broker lists, naming the source', () => {
    for (const bad of ['', 'localhost', 'host:0', 'host:70000', 'a:1,,b:2', 'http://x:1']) {
      assert.throws(() => parseBrokers(bad), usage(/--broker must be a comma-separated list of host:port/), bad);
    }
    assert.throws(() => parseProduceOptions({}, { KAFKA_BROKERS: 'nope' }), usage(/^KAFKA_BROKERS must be/));
    assert.deepEqual(parseBrokers('[::1]:9092, 10.0.0.1:9092'), ['[::1]:9092', '10.0.0.1:9092']);
  });

  it('keeps --fail-rate within [0, 1]', () => {
    assert.equal(parseConsumeOptions({ failRate: '0' }, {}).failRate, 0);
    assert.equal(parseConsumeOptions({ failRate: '1' }, {}).failRate, 1);
    for (const bad of ['1.5', '-0.1', 'abc', '', 'NaN']) {
      assert.throws(() => parseConsumeOptions({ failRate: bad }, {}), usage(/^--fail-rate must be between 0 and 1, got/), bad);
    }
  });

  it('wants whole, non-negative counts and retries', () => {
    assert.equal(parseProduceOptions({ count: '0' }, {}).count, 0);
    for (const bad of ['-1', '1.5', 'ten', '1e3', '']) {
      assert.throws(() => parseProduceOptions({ count: bad }, {}), usage(/^--count must be a whole number/), bad);
      assert.throws(() => parseConsumeOptions({ retries: bad }, {}), usage(/^--retries must be a whole number/), bad);
    }
  });

  it('checks seeds, rates, timeouts, partitions and topic names', () => {
    assert.equal(parseProduceOptions({ seed: '42' }, {}).seed, 42);
    assert.throws(() => parseProduceOptions({ seed: '-3' }, {}), usage(/^--seed/));
    assert.throws(() => parseProduceOptions({ rate: '0' }, {}), usage(/^--rate/));
    assert.throws(() => parseProduceOptions({ timeoutMs: '5' }, {}), usage(/^--timeout-ms/));
    assert.throws(() => parseProduceOptions({ partitions: '0' }, {}), usage(/^--partitions/));
    assert.equal(parseProduceOptions({ replicationFactor: '3' }, {}).replicationFactor, 3);
    assert.equal(parseProduceOptions({ replicationFactor: '-1' }, {}).replicationFactor, -1);
    assert.throws(() => parseProduceOptions({ replicationFactor: '0' }, {}), usage(/^--replication-factor/));
    assert.throws(() => parseProduceOptions({ topic: 'bad topic' }, {}), usage(/^--topic must be a topic name/));
    assert.throws(() => parseDlqTailOptions({ dlqTopic: '' }, {}), usage(/^--dlq-topic/));
    assert.throws(() => parseConsumeOptions({ group: '  ' }, {}), usage(/^--group must not be empty/));
    assert.throws(() => parseConsumeOptions({ guarantee: 'maybe' }, {}), usage(/^--guarantee must be exactly-once or at-least-once, got "maybe"$/));
    assert.equal(parseConsumeOptions({ guarantee: 'at-least-once' }, {}).guarantee, 'at-least-once');
  });

  it('refuses LOG_LEVEL values pino does not know, naming the allowed ones (defect 7)', () => {
    assert.equal(parseProduceOptions({}, { LOG_LEVEL: 'debug' }).logLevel, 'debug');
    assert.throws(() => parseProduceOptions({}, { LOG_LEVEL: 'verbose' }), usage(/^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/));
  });

  it('accepts any retries and backoff under exactly-once: retries no longer run inside a transaction (issue 18, defect 1)', () => {
    assert.equal(parseConsumeOptions({ retries: '100', backoffMs: '60000' }, {}).retries, 100);
    assert.equal(parseConsumeOptions({ retries: '8', backoffMs: '1000', guarantee: 'exactly-once' }, {}).backoffMs, 1000);
  });

  it('reports every order with --report each, also past 1,000 orders, and only totals with --report summary', () => {
    assert.equal(parseProduceOptions({ count: '1000' }, {}).report, 'each');
    assert.equal(parseProduceOptions({ count: '1001' }, {}).report, 'summary');
    assert.equal(parseProduceOptions({ count: '5000', report: 'each' }, {}).report, 'each');
    assert.equal(parseProduceOptions({ count: '5', report: 'summary' }, {}).report, 'summary');
    assert.throws(() => parseProduceOptions({ report: 'all' }, {}), usage(/^--report must be one of each, summary, got "all"$/));
  });

  it('sends 10 random orders without --count, and every line of --input: not given is not 10 there', () => {
    const generated = parseProduceOptions({}, {});
    assert.deepEqual([generated.count, generated.input, generated.report, generated.seedIgnored], [10, undefined, 'each', false]);
    const input = parseProduceOptions({ input: 'orders.jsonl' }, {});
    assert.deepEqual([input.count, input.input, input.report], [Number.POSITIVE_INFINITY, 'orders.jsonl', undefined]);
    // --count caps the lines; a known few are reported one by one, as without --input.
    assert.deepEqual([parseProduceOptions({ input: '-', count: '10' }, {}).count, parseProduceOptions({ input: '-', count: '10' }, {}).report], [10, 'each']);
    assert.equal(parseProduceOptions({ input: '-', count: '1001' }, {}).report, undefined);
    assert.equal(parseProduceOptions({ input: '-', report: 'summary' }, {}).report, 'summary');
    assert.equal(reportFor(undefined), 'summary');
    assert.throws(() => parseProduceOptions({ input: '' }, {}), usage(/^--input must name a file, or - for stdin$/));
  });

  it('notes a --seed given with --input, which has no meaning there', () => {
    assert.equal(parseProduceOptions({ input: 'orders.jsonl', seed: '3' }, {}).seedIgnored, true);
    assert.equal(parseProduceOptions({ input: 'orders.jsonl' }, {}).seedIgnored, false);
    assert.equal(parseProduceOptions({ seed: '3' }, {}).seedIgnored, false);
  });
});

describe('--instance-id', () => {
  it('is a Kafka resource name, as it goes into the transactional id', () => {
    assert.equal(parseConsumeOptions({ instanceId: 'eu-1' }, {}).instanceId, 'eu-1');
    assert.throws(() => parseConsumeOptions({ instanceId: 'a b' }, {}), /--instance-id must be 1-249 characters from \[a-zA-Z0-9._-\], got "a b"/);
  });
});
