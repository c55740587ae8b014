/** librdkafka settings by name, as kcat's -X takes them. */
export type Properties = Readonly<Record<string, string>>;

export interface ClientSettings {
  producer: Properties;
  consumer: Properties;
}

/**
 * The librdkafka settings of the `orders` producer and consumer, which kcat gets too (-X), so each
 * comparison runs both sides alike; the report prints them. They MUST match what src/kafka gives
 * its clients (in src/kafka/client.ts as of this writing): the producer's kafkaJS
 * { idempotent: true, acks: -1 } with PRODUCER_TUNING, and the consumer's CONSUMER_TUNING (whose
 * js.consumer.* entry is the JavaScript wrapper's own and has no kcat equivalent). Neither side
 * sets batch.size or batch.num.messages: librdkafka's defaults on both.
 */
export const CLIENT_SETTINGS = {
  producer: {
    acks: 'all',
    'enable.idempotence': 'true',
    'linger.ms': '1',
    'compression.codec': 'lz4',
    // Not in client.ts: the KafkaJS API sets it for every producer, and kcat's default
    // (consistent_random) would put the same keys on other partitions than orders does.
    partitioner: 'murmur2_random',
  },
  consumer: {
    'queued.max.messages.kbytes': '8192',
    'fetch.message.max.bytes': '524288',
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
