/** What a flag is: one declaration (syntax, help, default, parser), the builders and parsers of flag tables, and parseFlags. */

import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';
import { checkProperties, type Properties } from '../kafka/properties.js';
import { resolveRegistry } from '../registry/settings.js';
import { BROKER_DEFAULT, parseBrokers, parseLogLevel, type Env, type Environment } from './environment.js';

/** A flag as commander hands it over: a string, a boolean for a switch, a list for a repeatable flag. */
export type RawValue = string | boolean | string[] | undefined;
export type RawFlags = Record<string, RawValue>;

/** One flag, declared once: its syntax and help for commander, its default, and its parser. */
export interface Flag<T> {
  /** commander's syntax, e.g. '--timeout-ms <ms>'; a switch has no argument. */
  readonly syntax: string;
  readonly help: string;
  /** The default as --help shows it; absent where there is none or it is computed. */
  readonly shownDefault?: string;
  /** Given more than once, each value is kept (in order). */
  readonly repeatable?: boolean;
  parse(value: RawValue, env: Env): T;
}

export type FlagSet = Record<string, Flag<unknown>>;
export type OptionsOf<F extends FlagSet> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

const MAX_SEED = 2 ** 32 - 1;

const nameOf = (syntax: string): string => syntax.split(' ')[0] ?? syntax;

export function integerFlag(syntax: string, help: string, fallback: number, min: number, max: number): Flag<number> {
  return { syntax, help, shownDefault: String(fallback), parse: (value) => parseInteger(nameOf(syntax), value, fallback, min, max) };
}

export function optionalIntegerFlag(syntax: string, help: string, min: number, max: number): Flag<number | undefined> {
  return { syntax, help, parse: (value) => (value === undefined ? undefined : parseInteger(nameOf(syntax), value, min, min, max)) };
}

export function topicFlag(syntax: string, help: string, fallback: string): Flag<string> {
  return { syntax, help, shownDefault: fallback, parse: (value) => parseTopic(nameOf(syntax), value ?? fallback) };
}

export function switchFlag(syntax: string, help: string): Flag<boolean> {
  return { syntax, help, parse: (value) => value === true };
}

export function groupFlag(help: string, fallback: string): Flag<string> {
  return {
    syntax: '--group <id>', help, shownDefault: fallback,
    parse: (value) => {
      const group = value === undefined ? fallback : String(value).trim();
      if (group === '') throw new UsageError('--group must not be empty');
      return group;
    },
  };
}

export function choiceFlag<T extends string>(syntax: string, help: string, choices: readonly T[]): Flag<T | undefined> {
  return {
    syntax, help,
    parse: (value) => {
      if (value === undefined) return undefined;
      const found = choices.find((choice) => choice === value);
      if (found === undefined) throw new UsageError(`${nameOf(syntax)} must be one of ${choices.join(', ')}, got "${String(value)}"`);
      return found;
    },
  };
}

export function seedFlag(help: string): Flag<number> {
  // Without --seed every run differs; the seed is reported so a run can be repeated.
  return { syntax: '--seed <n>', help: `${help} (default: random)`, parse: (value) => (value === undefined ? randomInt(0, MAX_SEED) : parseInteger('--seed', value, 0, 0, MAX_SEED)) };
}

export type Resolved<F extends FlagSet> = Omit<OptionsOf<F>, 'broker' | 'config' | 'property' | 'schemaRegistry'> & Environment;

/** Parses every flag of `flags` from raw values keyed like `flags`, then the environment and the connection. */
export function parseFlags<F extends FlagSet>(flags: F, raw: RawFlags, env: Env): Resolved<F> {
  const parsed: Record<string, unknown> = {};
  for (const [key, flag] of Object.entries(flags)) parsed[key] = flag.parse(raw[key], env);
  const { broker, config, property, schemaRegistry, ...options } = parsed as { broker?: string[]; config?: Properties; property?: Properties; schemaRegistry?: string };
  const properties = { ...config, ...property };
  checkProperties(properties);
  const listed = properties['bootstrap.servers'] ?? properties['metadata.broker.list'];
  const brokers = broker
    ?? (listed === undefined ? undefined : parseBrokers(listed, 'bootstrap.servers'))
    ?? parseBrokers(env.KAFKA_BROKERS ?? BROKER_DEFAULT, env.KAFKA_BROKERS === undefined ? '--broker' : 'KAFKA_BROKERS');
  return { ...options, logLevel: parseLogLevel(env), brokers, properties, registry: resolveRegistry(schemaRegistry, properties, env) } as Resolved<F>;
}

export function parseInteger(flag: string, value: RawValue, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const number = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${String(value)}"`);
  }
  return number;
}

export function parseNumber(flag: string, value: Exclude<RawValue, undefined>, min: number, max: number): number {
  const text = String(value).trim();
  const number = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be between ${min} and ${max}, got ${String(value)}`);
  }
  return number;
}

export const KAFKA_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function parseTopic(flag: string, value: Exclude<RawValue, undefined>): string {
  const name = String(value);
  if (!KAFKA_NAME.test(name) || name === '.' || name === '..') {
    throw new UsageError(`${flag} must be a topic name of 1-249 characters from [a-zA-Z0-9._-], got "${name}"`);
  }
  return name;
}
