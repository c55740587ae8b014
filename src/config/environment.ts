/** The settings every command gets besides its flags (log level, brokers, properties, registry); LOG_LEVEL's and a broker list's checks. */

import { UsageError } from '../errors.js';
import type { Properties } from '../kafka/properties.js';
import type { RegistrySettings } from '../registry/settings.js';

export type Env = NodeJS.ProcessEnv;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const BROKER_DEFAULT = 'localhost:9092';

/** What every command gets besides its flags: the environment's settings and the Kafka connection, checked like flags. */
export interface Environment {
  logLevel: LogLevel;
  /** flags > -X > --config > environment > defaults */
  brokers: string[];
  /** librdkafka properties of --config with -X over them, checked. */
  properties: Properties;
  /** flags > -X > --config > environment; undefined: bare Avro values. */
  registry: RegistrySettings | undefined;
}

export function parseLogLevel(env: Env): LogLevel {
  const value = env.LOG_LEVEL ?? 'info';
  const level = LOG_LEVELS.find((known) => known === value);
  if (level === undefined) throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return level;
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?):(\d{1,5})$/;

export function parseBrokers(value: string, source = '--broker'): string[] {
  const brokers = value.split(',').map((part) => part.trim());
  for (const broker of brokers) {
    const port = HOST_PORT.exec(broker)?.[2];
    if (port === undefined || Number(port) < 1 || Number(port) > 65_535) {
      throw new UsageError(`${source} must be a comma-separated list of host:port (port 1-65535), got "${value}"`);
    }
  }
  return brokers;
}
