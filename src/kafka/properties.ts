import { readFileSync } from 'node:fs';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { UsageError, messageOf } from '../errors.js';

/** librdkafka client properties, by their librdkafka names. */
export type Properties = Record<string, string>;

/** Properties the tool sets itself to keep its guarantees; a user's value would silently break them. */
export const OWNED_PROPERTIES: Readonly<Record<string, string>> = {
  'enable.idempotence': 'producers are always idempotent, so a retried send is never written twice',
  'acks': 'every send waits for all in-sync replicas (acks=all)',
  'request.required.acks': 'every send waits for all in-sync replicas (acks=all)',
  'isolation.level': 'consumers read committed transactions only',
  'enable.auto.commit': 'offsets are committed by the tool, in transactions or after each order is handled',
  'enable.auto.offset.store': 'offsets are stored only for handled orders',
  'auto.offset.reset': 'a group without offsets reads from the beginning',
  'transactional.id': 'exactly-once makes its own transactional ids (see the README\'s ACLs)',
  'transaction.timeout.ms': 'it is sized from --retries, --backoff-ms and --timeout-ms',
  'group.id': 'use --group',
};

/** Registry settings share the file (as Confluent's client configs do) but are not librdkafka's. */
export const REGISTRY_PREFIX = 'schema.registry.';

/** Property names whose values are secrets: never logged, never printed. */
export function isSecret(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.includes('password') || lower.includes('secret') || lower === 'basic.auth.user.info'
    || lower.endsWith('.basic.auth.user.info') || lower === 'ssl.key.pem' || lower === 'sasl.oauthbearer.config';
}

/** Reads a `key=value` properties file like `kcat -F`: `#` and `!` comment lines, blank lines, values may hold `=`. */
export function readPropertiesFile(path: string): Properties {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`);
  }
  return parseProperties(text, path);
}

export function parseProperties(text: string, source: string): Properties {
  const properties: Properties = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const equals = line.indexOf('=');
    const key = equals < 0 ? '' : line.slice(0, equals).trim();
    // The line itself is not quoted: it may hold a password.
    if (key === '') throw new UsageError(`${source} line ${index + 1}: expected key=value`);
    properties[key] = line.slice(equals + 1).trim();
  });
  return properties;
}

/** One `-X key=value`. */
export function parseProperty(text: string): [string, string] {
  const equals = text.indexOf('=');
  const key = equals < 0 ? '' : text.slice(0, equals).trim();
  if (key === '') throw new UsageError(`-X must be key=value, got "${equals < 0 && !isSecret(text) ? text : '…'}"`);
  return [key, text.slice(equals + 1).trim()];
}

/**
 * Refuses what would go wrong later: properties the tool owns, and names or values librdkafka does
 * not accept (it knows the list; a producer or a consumer must take each one).
 */
export function checkProperties(properties: Properties): void {
  for (const [name, value] of Object.entries(properties)) {
    if (name.startsWith(REGISTRY_PREFIX)) continue;
    const owned = OWNED_PROPERTIES[name];
    if (owned !== undefined) throw new UsageError(`property ${name} cannot be set: ${owned}`);
    const refusals = [librdkafkaRefusal('producer', name, value), librdkafkaRefusal('consumer', name, value)];
    const refusal = refusals.every((found) => found !== undefined) ? refusals[0] : undefined;
    if (refusal !== undefined) {
      const reason = refusal.startsWith('No such configuration property') ? `unknown property ${name}` : `property ${name}: ${refusal}`;
      throw new UsageError(isSecret(name) ? reason.split(value).join('…') : reason);
    }
  }
}

// A client is constructed, not connected: librdkafka checks every property on construction.
function librdkafkaRefusal(kind: 'producer' | 'consumer', name: string, value: string): string | undefined {
  const conf = { 'metadata.broker.list': '127.0.0.1:9', [name]: value };
  try {
    if (kind === 'producer') new kafkaJavascript.Producer(conf);
    else new kafkaJavascript.KafkaConsumer({ ...conf, 'group.id': 'orders-property-check' }, {});
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

/** The librdkafka properties to give every client: without the registry's and the broker list, which the tool passes itself. */
export function clientProperties(properties: Properties): Properties {
  const client: Properties = {};
  for (const [name, value] of Object.entries(properties)) {
    if (name.startsWith(REGISTRY_PREFIX) || name === 'bootstrap.servers' || name === 'metadata.broker.list') continue;
    client[name] = value;
  }
  return client;
}
