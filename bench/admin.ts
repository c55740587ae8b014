import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaJS } from '@confluentinc/kafka-javascript';

const { Kafka, logLevel } = kafkaJavascript.KafkaJS;

export type Admin = KafkaJS.Admin;

/**
 * The bench's one client of its own: it only creates topics and counts their records. Made here,
 * not with src/kafka's factory, so the bench measures the CLI without depending on its internals.
 */
export function benchAdmin(broker: string): Admin {
  // Silent like before: the bench reports a failed call by its rejection, not by librdkafka's log.
  return new Kafka({ kafkaJS: { brokers: [broker], clientId: 'orders-bench', requestTimeout: 30_000, logLevel: logLevel.NOTHING } }).admin();
}
