/**
 * The floor of `orders consume` (issue 27): the bare loop on the project's own binding, nothing of orders'
 * pipeline. KafkaConsumer, consume(1000), avsc decode, a running sum, one text line per order written to
 * stdout once per batch (the sink `orders consume --json` writes to in the bench: a pipe).
 *
 * Usage: node dist/bench/floor-consume.js BROKER TOPIC GROUP COUNT [name=value ...]
 * Joins GROUP (fresh, from the beginning) and exits after COUNT records with a last line
 * `count=N total=T`. name=value pairs are librdkafka settings: orders' own consumer tuning (bench/phases.ts).
 */
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import { decodeOrder } from '../src/avro/codec.js';

const BATCH = 1000;
const [broker = '', topic = '', group = '', wanted = '0', ...settings] = process.argv.slice(2);
const count = Number(wanted);
const consumer = new kafkaJavascript.KafkaConsumer({
  'bootstrap.servers': broker,
  'group.id': group,
  'enable.auto.commit': false,
  ...Object.fromEntries(settings.map((setting) => setting.split('=', 2) as [string, string])),
}, { 'auto.offset.reset': 'earliest' });

let read = 0;
let totalCents = 0;

function fail(error: unknown): never {
  process.stderr.write(`floor consume: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

function batch(error: LibrdKafkaError | null, messages: Message[]): void {
  if (error !== null) fail(error);
  if (messages.length > 0) {
    let lines = '';
    for (const message of messages) {
      const order = decodeOrder(message.value);
      totalCents += Math.round(order.price * 100);
      read++;
      lines += `${order.orderId} ${message.partition} ${message.offset} ${order.price}\n`;
    }
    process.stdout.write(lines);
  }
  if (read < count) {
    consumer.consume(BATCH, batch);
    return;
  }
  process.stdout.write(`count=${read} total=${(totalCents / 100).toFixed(2)}\n`);
  consumer.disconnect(() => process.exit(0));
}

consumer.on('event.error', fail);
consumer.connect({}, (error) => {
  if (error !== null) fail(error);
  consumer.subscribe([topic]);
  consumer.consume(BATCH, batch);
});
