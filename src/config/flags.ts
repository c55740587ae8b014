/** Every command's flag table, each flag once, and the typed options it parses into. */

import { UsageError } from '../errors.js';
import { parseProperty, readPropertiesFile, type Properties } from '../kafka/properties.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../processing/dlq.js';
import { BROKER_DEFAULT, parseBrokers, type Env } from './environment.js';
import { choiceFlag, groupFlag, integerFlag, optionalIntegerFlag, parseFlags, parseInteger, parseNumber, parseTopic, seedFlag, switchFlag, topicFlag, type FlagSet, type RawFlags, type RawValue, type Resolved, KAFKA_NAME } from './flag-kit.js';

// The longest one retry may wait; the doubling stops here.
export const MAX_BACKOFF_MS = 30_000;

/** Above this many orders, produce reports only the totals unless --report each asks for every order. */
export const REPORT_EACH_MAX = 1000;

/** The flags every command takes. */
export const commonFlags = {
  broker: {
    syntax: '--broker <list>',
    help: `comma-separated host:port list (default: bootstrap.servers of -X or --config, else $KAFKA_BROKERS, else ${BROKER_DEFAULT})`,
    parse: (value: RawValue): string[] | undefined => (typeof value === 'string' ? parseBrokers(value) : undefined),
  },
  config: {
    syntax: '--config <file>',
    help: 'librdkafka client properties, key=value lines as for kcat -F (security, SASL, TLS…) (default: $ORDERS_CONFIG)',
    parse: (value: RawValue, env: Env): Properties | undefined => {
      const path = typeof value === 'string' ? value : env.ORDERS_CONFIG;
      if (path === undefined) return undefined;
      return readPropertiesFile(path === '' ? '(empty ORDERS_CONFIG)' : path);
    },
  },
  property: {
    syntax: '-X, --property <key=value>', repeatable: true,
    help: 'a librdkafka client property, over those of --config; repeatable',
    parse: (value: RawValue): Properties => Object.fromEntries((Array.isArray(value) ? value : []).map(parseProperty)),
  },
  schemaRegistry: {
    syntax: '--schema-registry <url>',
    help: 'Confluent-compatible schema registry: values are written as 0x00, the 4-byte schema id, then Avro, and read by their writer schema (default: schema.registry.url of -X or --config, else $SCHEMA_REGISTRY_URL, else none: bare Avro)',
    parse: (value: RawValue): string | undefined => (typeof value === 'string' ? value : undefined),
  },
  timeoutMs: integerFlag('--timeout-ms <ms>', 'how long to wait for the broker before giving up', 10_000, 100, 600_000),
  partitions: integerFlag('--partitions <n>', 'partitions for topics this command creates', 3, 1, 10_000),
  replicationFactor: {
    syntax: '--replication-factor <n>', help: 'replicas of each partition of topics this command creates (default: the broker\'s default.replication.factor)',
    // -1 asks the broker for its default, as Kafka's own CreateTopics does.
    parse: (value: RawValue): number => (value === '-1' ? -1 : parseInteger('--replication-factor', value, -1, 1, 32_767)),
  },
  json: switchFlag('--json', 'one JSON object per line on stdout; logs stay on stderr'),
} satisfies FlagSet;

/** --metrics-port and --metrics-host: the commands that run for a while serve /metrics, /healthz and /readyz. */
export const metricsFlags = {
  metricsPort: optionalIntegerFlag('--metrics-port <port>', 'serve Prometheus metrics at /metrics, and /healthz and /readyz, on this port (default: none)', 1, 65_535),
  metricsHost: {
    syntax: '--metrics-host <host>', help: 'address the metrics server listens on', shownDefault: '127.0.0.1',
    parse: (value: RawValue): string => {
      const host = value === undefined ? '127.0.0.1' : String(value).trim();
      if (host === '') throw new UsageError('--metrics-host must not be empty');
      return host;
    },
  },
} satisfies FlagSet;

export const produceFlags = {
  ...commonFlags,
  ...metricsFlags,
  topic: topicFlag('--topic <name>', 'topic to send to', 'orders'),
  count: {
    syntax: '--count <n>', help: 'how many orders; with --input, at most this many of its orders', shownDefault: '10; with --input, every line',
    // Not given is told apart from 10: with --input it means every line.
    parse: (value: RawValue): number | undefined => (value === undefined ? undefined : parseInteger('--count', value, 0, 0, Number.MAX_SAFE_INTEGER)),
  },
  seed: seedFlag('PRNG seed: the same seed gives the same orders'),
  input: {
    syntax: '--input <file>',
    help: 'send the orders of this file instead of random ones, one JSON object a line ({"orderId","product","price","createdAt"}, createdAt ISO-8601 or epoch ms); - reads stdin. A file is checked whole before anything is sent',
    parse: (value: RawValue): string | undefined => {
      if (value === '') throw new UsageError('--input must name a file, or - for stdin');
      return value === undefined ? undefined : String(value);
    },
  },
  rate: {
    syntax: '--rate <n>', help: 'at most this many orders per second (default: as fast as possible)',
    parse: (value: string | boolean | undefined): number | undefined => (value === undefined ? undefined : parseNumber('--rate', value, 0.001, 10_000_000)),
  },
  report: choiceFlag('--report <each|summary>', `each: report every order's partition and offset (one send per order, slower); summary: only the totals (default: each up to ${REPORT_EACH_MAX} orders)`, ['each', 'summary'] as const),
} satisfies FlagSet;

export const consumeFlags = {
  ...commonFlags,
  ...metricsFlags,
  topic: topicFlag('--topic <name>', 'topic to read', 'orders'),
  dlqTopic: topicFlag('--dlq-topic <name>', 'dead-letter topic', 'orders-dlq'),
  group: groupFlag('consumer group', 'orders-consumer'),
  guarantee: {
    syntax: '--guarantee <mode>', help: 'exactly-once (transactions, aggregate survives restarts) or at-least-once', shownDefault: 'exactly-once',
    parse: (value: string | boolean | undefined): Guarantee => {
      if (value === undefined) return 'exactly-once';
      if (value === 'exactly-once' || value === 'at-least-once') return value;
      throw new UsageError(`--guarantee must be exactly-once or at-least-once, got "${String(value)}"`);
    },
  },
  aggregatesTopic: topicFlag('--aggregates-topic <name>', 'where orders 0.1 kept each partition\'s aggregate: read only to restore a group it last committed (aggregates now travel in the committed offsets)', 'orders-aggregates'),
  failRate: {
    syntax: '--fail-rate <0..1>', help: 'probability that one processing attempt fails', shownDefault: '0.3',
    parse: (value: string | boolean | undefined): number => parseNumber('--fail-rate', value ?? '0.3', 0, 1),
  },
  retries: integerFlag('--retries <n>', 'retries after the first attempt', 2, 0, 100),
  backoffMs: integerFlag('--backoff-ms <ms>', `delay before the first retry; doubles each retry (at most ${MAX_BACKOFF_MS} ms), with jitter`, 100, 0, 60_000),
  seed: seedFlag('seed of the simulated failures'),
  maxInFlight: integerFlag('--max-in-flight <n>', 'orders processed at once, each retrying on its own clock (orders with the same key one after the other); a partition waits while all are taken', 5_000, 1, 100_000),
  exitAtEnd: switchFlag('--exit-at-end', 'stop once every partition of the topic is read, in this group, to the end it had at start'),
  instanceId: {
    syntax: '--instance-id <id>',
    help: 'static group membership (group.instance.id), one id per running consumer: a restart within the session timeout gets its partitions back without a rebalance; exactly-once also names its transactional id after it, so the restart fences its predecessor at once (default: none, dynamic membership)',
    parse: (value: RawValue): string | undefined => {
      if (value === undefined) return undefined;
      const id = String(value);
      // It ends up in a transactional id, orders-<group>-<id>: Kafka's resource name characters.
      if (!KAFKA_NAME.test(id)) throw new UsageError(`--instance-id must be 1-249 characters from [a-zA-Z0-9._-], got "${id}"`);
      return id;
    },
  },
} satisfies FlagSet;

export const dlqTailFlags = {
  ...commonFlags,
  dlqTopic: consumeFlags.dlqTopic,
  exitAtEnd: switchFlag('--exit-at-end', 'stop at the end of the topic instead of following it'),
} satisfies FlagSet;

export const statsFlags = {
  ...commonFlags,
  group: consumeFlags.group,
  topic: topicFlag('--topic <name>', 'topic the group consumes', 'orders'),
  aggregatesTopic: consumeFlags.aggregatesTopic,
  byPartition: switchFlag('--by-partition', 'also show each partition'),
  lag: switchFlag('--lag', 'with --json: after the totals line, one line per partition (committed and end offsets, lag, owner) and one for the group (the text output always shows them)'),
} satisfies FlagSet;

export const verifyFlags = {
  ...commonFlags,
  group: consumeFlags.group,
  topic: statsFlags.topic,
  dlqTopic: consumeFlags.dlqTopic,
} satisfies FlagSet;

export const dlqReplayFlags = {
  ...commonFlags,
  ...metricsFlags,
  dlqTopic: consumeFlags.dlqTopic,
  to: {
    syntax: '--to <topic>', help: 'send here instead of each dead letter\'s original topic',
    parse: (value: string | boolean | undefined): string | undefined => (value === undefined ? undefined : parseTopic('--to', value)),
  },
  reason: choiceFlag<DeadLetterReason>('--reason <reason>', `only dead letters with this reason (${DEAD_LETTER_REASONS.join(', ')})`, DEAD_LETTER_REASONS),
  orderId: {
    syntax: '--order-id <id>', help: 'only the dead letter of this orderId',
    parse: (value: string | boolean | undefined): string | undefined => {
      if (value === '') throw new UsageError('--order-id must not be empty');
      return value === undefined ? undefined : String(value);
    },
  },
  limit: optionalIntegerFlag('--limit <n>', 'replay at most this many', 1, Number.MAX_SAFE_INTEGER),
  maxReplays: integerFlag('--max-replays <n>', 'skip dead letters already replayed this many times', 3, 0, 1_000),
  group: groupFlag('consumer group that remembers what was replayed', 'orders-dlq-replay'),
  dryRun: switchFlag('--dry-run', 'list what would be replayed; send and commit nothing'),
} satisfies FlagSet;

export type Guarantee = 'exactly-once' | 'at-least-once';

export type CommonOptions = Resolved<typeof commonFlags>;
export type ConnectionOptions = Pick<CommonOptions, 'brokers' | 'timeoutMs' | 'properties' | 'registry'>;
export type ProduceOptions = Omit<Resolved<typeof produceFlags>, 'count' | 'report'> & {
  /** At most this many orders: --count, else 10 random ones, or with --input every line (Infinity). */
  count: number;
  /** --seed came with --input, where it means nothing: the command says so and goes on. */
  seedIgnored: boolean;
  /** --report, else each up to REPORT_EACH_MAX orders; undefined while that number is not known (--input without --count). */
  report: 'each' | 'summary' | undefined;
};
export type ConsumeOptions = Resolved<typeof consumeFlags>;
export type DlqTailOptions = Resolved<typeof dlqTailFlags>;
export type StatsOptions = Resolved<typeof statsFlags>;
export type DlqReplayOptions = Resolved<typeof dlqReplayFlags>;
export type VerifyOptions = Resolved<typeof verifyFlags>;

export function parseProduceOptions(raw: RawFlags, env: Env): ProduceOptions {
  const options = parseFlags(produceFlags, raw, env);
  const generated = options.input === undefined;
  const count = options.count ?? (generated ? 10 : Number.POSITIVE_INFINITY);
  return {
    ...options, count, seedIgnored: !generated && raw.seed !== undefined,
    report: options.report ?? (generated || count <= REPORT_EACH_MAX ? reportFor(count) : undefined),
  };
}

/** --report's default for `orders` orders (undefined: not known): a line each for a few, only the totals for many. */
export function reportFor(orders: number | undefined): 'each' | 'summary' {
  return orders !== undefined && orders <= REPORT_EACH_MAX ? 'each' : 'summary';
}

export function parseConsumeOptions(raw: RawFlags, env: Env): ConsumeOptions {
  return parseFlags(consumeFlags, raw, env);
}

export function parseDlqTailOptions(raw: RawFlags, env: Env): DlqTailOptions {
  return parseFlags(dlqTailFlags, raw, env);
}

export function parseStatsOptions(raw: RawFlags, env: Env): StatsOptions {
  return parseFlags(statsFlags, raw, env);
}

export function parseVerifyOptions(raw: RawFlags, env: Env): VerifyOptions {
  return parseFlags(verifyFlags, raw, env);
}

export function parseDlqReplayOptions(raw: RawFlags, env: Env): DlqReplayOptions {
  return parseFlags(dlqReplayFlags, raw, env);
}

export function retryPolicyOf(options: Pick<ConsumeOptions, 'retries' | 'backoffMs'>): { retries: number; backoffMs: number; maxBackoffMs: number } {
  return { retries: options.retries, backoffMs: options.backoffMs, maxBackoffMs: MAX_BACKOFF_MS };
}
