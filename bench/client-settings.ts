import { CONSUMER_QUEUE, CONSUMER_TUNING, NATIVE_PRODUCER_SETTINGS, PRODUCER_TUNING } from '../src/kafka/tuning.js';

/** librdkafka settings by name, as kcat's -X takes them. */
export type Properties = Readonly<Record<string, string>>;

export interface ClientSettings {
  producer: Properties;
  consumer: Properties;
}

/** A setting as kcat's -X takes it. */
const asText = (settings: Readonly<Record<string, string | number | boolean>>): Properties =>
  Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, String(value)]));

// The JavaScript wrapper's own js.consumer.* settings (its message cache) have no kcat equivalent, and
// kcat keeps librdkafka's own queue: orders' small one relies on fetch.queue.backoff.ms (librdkafka 2.4+),
// which kcat's librdkafka 2.0.2 lacks; without it the same queue starved kcat (16.6 s for 1,000,000, not 2.0 s).
const librdkafkaOnly = (settings: Readonly<Record<string, string | number | boolean>>): Properties =>
  asText(Object.fromEntries(Object.entries(settings).filter(([name]) => !name.startsWith('js.') && !Object.hasOwn(CONSUMER_QUEUE, name))));

/**
 * The librdkafka settings of the `orders` producer and consumer, which kcat gets too (-X), so each
 * comparison runs both sides alike; the report prints them. Both are taken from src/kafka/session.ts
 * itself (durability, partitioner, retries, linger, batch sizes, compression; the consumer's queue and
 * fetch sizes), so they cannot drift apart.
 */
export const CLIENT_SETTINGS = {
  producer: asText({ ...NATIVE_PRODUCER_SETTINGS, ...PRODUCER_TUNING }),
  consumer: {
    ...librdkafkaOnly(CONSUMER_TUNING),
    // orders reads committed records only (librdkafka's default, which client.ts keeps) and its
    // exactly-once guarantee relies on that, so kcat is held to it rather than left to a default.
    'isolation.level': 'read_committed',
  },
} as const satisfies ClientSettings;

/** kcat's -X options for `properties`. */
export function kcatOptions(properties: Properties): string[] {
  return Object.entries(properties).flatMap(([name, value]) => ['-X', `${name}=${value}`]);
}

/** `name=value` pairs separated by spaces, as they would be written after kcat's -X. */
export function pairs(properties: Properties): string {
  return Object.entries(properties).map(([name, value]) => `${name}=${value}`).join(' ');
}
