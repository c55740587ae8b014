import { randomInt } from 'node:crypto';
import { UsageError } from './errors.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from './processing/dlq.js';

/** Flags as commander hands them over: strings, or booleans for switches. */
export type RawFlags = Record<string, string | boolean | undefined>;

export interface ConnectionOptions {
  brokers: string[];
  timeoutMs: number;
}

export interface CommonOptions extends ConnectionOptions {
  json: boolean;
  partitions: number;
}

export interface ProduceOptions extends CommonOptions {
  topic: string;
  count: number;
  seed: number;
  /** Orders per second, or undefined for as fast as the broker takes them. */
  rate: number | undefined;
}

export type Guarantee = 'exactly-once' | 'at-least-once';

export interface ConsumeOptions extends CommonOptions {
  topic: string;
  dlqTopic: string;
  aggregatesTopic: string;
  group: string;
  guarantee: Guarantee;
  failRate: number;
  retries: number;
  backoffMs: number;
  seed: number;
  exitAtEnd: boolean;
}

export interface DlqTailOptions extends CommonOptions {
  dlqTopic: string;
  exitAtEnd: boolean;
}

export interface StatsOptions extends CommonOptions {
  topic: string;
  group: string;
  aggregatesTopic: string;
  byPartition: boolean;
}

export interface DlqReplayOptions extends CommonOptions {
  dlqTopic: string;
  /** Where to send; undefined means each dead letter's original topic. */
  to: string | undefined;
  group: string;
  reason: DeadLetterReason | undefined;
  orderId: string | undefined;
  limit: number | undefined;
  dryRun: boolean;
  maxReplays: number;
}

export const DEFAULTS = {
  broker: 'localhost:9092',
  topic: 'orders',
  dlqTopic: 'orders-dlq',
  aggregatesTopic: 'orders-aggregates',
  group: 'orders-consumer',
  guarantee: 'exactly-once',
  replayGroup: 'orders-dlq-replay',
  maxReplays: 3,
  timeoutMs: 10_000,
  partitions: 3,
  count: 10,
  failRate: 0.3,
  retries: 2,
  backoffMs: 100,
} as const;

const MAX_SEED = 2 ** 32 - 1;

export function parseProduceOptions(flags: RawFlags, env: NodeJS.ProcessEnv): ProduceOptions {
  return {
    ...parseCommon(flags, env),
    topic: parseTopic('--topic', flags.topic, DEFAULTS.topic),
    count: parseInteger('--count', flags.count, DEFAULTS.count, 0, Number.MAX_SAFE_INTEGER),
    seed: parseSeed(flags.seed),
    rate: flags.rate === undefined ? undefined : parseNumber('--rate', flags.rate, 0.001, 10_000_000),
  };
}

export function parseConsumeOptions(flags: RawFlags, env: NodeJS.ProcessEnv): ConsumeOptions {
  return {
    ...parseCommon(flags, env),
    topic: parseTopic('--topic', flags.topic, DEFAULTS.topic),
    dlqTopic: parseTopic('--dlq-topic', flags.dlqTopic, DEFAULTS.dlqTopic),
    aggregatesTopic: parseTopic('--aggregates-topic', flags.aggregatesTopic, DEFAULTS.aggregatesTopic),
    group: parseGroup(flags.group),
    guarantee: parseGuarantee(flags.guarantee),
    failRate: parseNumber('--fail-rate', flags.failRate ?? String(DEFAULTS.failRate), 0, 1),
    retries: parseInteger('--retries', flags.retries, DEFAULTS.retries, 0, 100),
    backoffMs: parseInteger('--backoff-ms', flags.backoffMs, DEFAULTS.backoffMs, 0, 60_000),
    seed: parseSeed(flags.seed),
    exitAtEnd: flags.exitAtEnd === true,
  };
}

export function parseDlqTailOptions(flags: RawFlags, env: NodeJS.ProcessEnv): DlqTailOptions {
  return {
    ...parseCommon(flags, env),
    dlqTopic: parseTopic('--dlq-topic', flags.dlqTopic, DEFAULTS.dlqTopic),
    exitAtEnd: flags.exitAtEnd === true,
  };
}

export function parseStatsOptions(flags: RawFlags, env: NodeJS.ProcessEnv): StatsOptions {
  return {
    ...parseCommon(flags, env),
    topic: parseTopic('--topic', flags.topic, DEFAULTS.topic),
    group: parseGroup(flags.group),
    aggregatesTopic: parseTopic('--aggregates-topic', flags.aggregatesTopic, DEFAULTS.aggregatesTopic),
    byPartition: flags.byPartition === true,
  };
}

export function parseDlqReplayOptions(flags: RawFlags, env: NodeJS.ProcessEnv): DlqReplayOptions {
  const reason = flags.reason === undefined ? undefined : String(flags.reason);
  if (reason !== undefined && !DEAD_LETTER_REASONS.some((known) => known === reason)) {
    throw new UsageError(`--reason must be one of ${DEAD_LETTER_REASONS.join(', ')}, got "${reason}"`);
  }
  const orderId = flags.orderId === undefined ? undefined : String(flags.orderId);
  if (orderId === '') throw new UsageError('--order-id must not be empty');
  return {
    ...parseCommon(flags, env),
    dlqTopic: parseTopic('--dlq-topic', flags.dlqTopic, DEFAULTS.dlqTopic),
    to: flags.to === undefined ? undefined : parseTopic('--to', flags.to, DEFAULTS.topic),
    group: flags.group === undefined ? DEFAULTS.replayGroup : parseGroup(flags.group),
    reason: reason as DeadLetterReason | undefined,
    orderId,
    limit: flags.limit === undefined ? undefined : parseInteger('--limit', flags.limit, 0, 1, Number.MAX_SAFE_INTEGER),
    dryRun: flags.dryRun === true,
    maxReplays: parseInteger('--max-replays', flags.maxReplays, DEFAULTS.maxReplays, 0, 1_000),
  };
}

function parseCommon(flags: RawFlags, env: NodeJS.ProcessEnv): CommonOptions {
  const brokerFlag = typeof flags.broker === 'string' ? flags.broker : undefined;
  return {
    brokers: parseBrokers(brokerFlag ?? env.KAFKA_BROKERS ?? DEFAULTS.broker, brokerFlag === undefined && env.KAFKA_BROKERS !== undefined),
    timeoutMs: parseInteger('--timeout-ms', flags.timeoutMs, DEFAULTS.timeoutMs, 100, 600_000),
    json: flags.json === true,
    partitions: parseInteger('--partitions', flags.partitions, DEFAULTS.partitions, 1, 10_000),
  };
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?):(\d{1,5})$/;

export function parseBrokers(value: string, fromEnv = false): string[] {
  const source = fromEnv ? 'KAFKA_BROKERS' : '--broker';
  const brokers = value.split(',').map((part) => part.trim());
  for (const broker of brokers) {
    const port = HOST_PORT.exec(broker)?.[2];
    if (port === undefined || Number(port) < 1 || Number(port) > 65_535) {
      throw new UsageError(`${source} must be a comma-separated list of host:port (port 1-65535), got "${value}"`);
    }
  }
  return brokers;
}

export function parseInteger(flag: string, value: string | boolean | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const number = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${String(value)}"`);
  }
  return number;
}

export function parseNumber(flag: string, value: string | boolean, min: number, max: number): number {
  const text = String(value).trim();
  const number = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be between ${min} and ${max}, got ${String(value)}`);
  }
  return number;
}

function parseSeed(value: string | boolean | undefined): number {
  // Without --seed every run differs; the seed is reported so a run can be repeated.
  return value === undefined ? randomInt(0, MAX_SEED) : parseInteger('--seed', value, 0, 0, MAX_SEED);
}

const KAFKA_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function parseTopic(flag: string, value: string | boolean | undefined, fallback: string): string {
  const name = value === undefined ? fallback : String(value);
  if (!KAFKA_NAME.test(name) || name === '.' || name === '..') {
    throw new UsageError(`${flag} must be a topic name of 1-249 characters from [a-zA-Z0-9._-], got "${name}"`);
  }
  return name;
}

function parseGuarantee(value: string | boolean | undefined): Guarantee {
  if (value === undefined) return DEFAULTS.guarantee;
  if (value === 'exactly-once' || value === 'at-least-once') return value;
  throw new UsageError(`--guarantee must be exactly-once or at-least-once, got "${String(value)}"`);
}

function parseGroup(value: string | boolean | undefined): string {
  const group = value === undefined ? DEFAULTS.group : String(value).trim();
  if (group === '') throw new UsageError('--group must not be empty');
  return group;
}
