import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, MessageHeader, ProducerGlobalConfig, TopicPartitionOffsetAndMetadata } from '@confluentinc/kafka-javascript';
import type { NativeConsumer } from '../consumer/native-consumer.js';
import { Lifecycle } from '../lifecycle.js';
import { producerHandle, type LibraryListener } from './native-producer.js';
import type { Headers } from '../record.js';

// Logs and errors reach JavaScript only when polled.
const POLL_INTERVAL_MS = 100;

/** A record a transaction writes. */
export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

/**
 * The node-rdkafka-compatible transactional producer, each call as a promise: begin, queue records,
 * send the consumer's offsets, commit (which waits for every record) or abort. Made by
 * KafkaSession.transactionalProducer with the shared settings.
 */
export class TransactionalProducer {
  private readonly client: kafkaJavascript.Producer;
  // Its life: connected once, every transaction call counted, disconnected once (src/kafka/lifecycle.ts).
  private readonly life: Lifecycle;

  constructor(config: ProducerGlobalConfig, private readonly timeoutMs: number, onLibrary: LibraryListener) {
    this.client = new kafkaJavascript.Producer(config);
    this.life = new Lifecycle('transactional producer', producerHandle(this.client));
    this.client.on('disconnected', () => this.life.lost());
    this.client.on('event.log', (event: { message?: unknown }) => onLibrary(String(event.message)));
    this.client.on('event.error', (error) => onLibrary(`Error: ${error.message}`));
  }

  /** Connects and runs initTransactions, which fences an earlier producer of the same transactional id and aborts what it left open. */
  connect(): Promise<void> {
    return this.life.connect(async () => {
      await new Promise<void>((resolve, reject) => {
        this.client.connect({ timeout: this.timeoutMs }, (error) => (error ? reject(error) : resolve()));
      });
      this.client.setPollInterval(POLL_INTERVAL_MS);
      await this.callback((done) => this.client.initTransactions(this.timeoutMs, done));
    });
  }

  begin(): Promise<void> {
    return this.call((done) => this.client.beginTransaction(done));
  }

  /** Queues one record of the open transaction; the commit fails if it is not written. */
  produce(topic: string, record: OutgoingRecord): void {
    this.client.produce(topic, null, record.value, record.key, Date.now(), undefined, headerList(record.headers));
  }

  sendOffsets(offsets: TopicPartitionOffsetAndMetadata[], consumer: NativeConsumer): Promise<void> {
    // The consumer's native handle is used too: it must not be disconnected under this call.
    return consumer.use((client) => this.call((done) => this.client.sendOffsetsToTransaction(offsets, client, this.timeoutMs, done)));
  }

  commit(): Promise<void> {
    return this.call((done) => this.client.commitTransaction(this.timeoutMs, done));
  }

  abort(): Promise<void> {
    return this.call((done) => this.client.abortTransaction(this.timeoutMs, done));
  }

  async disconnect(): Promise<void> {
    this.client.setPollInterval(0);
    await this.life.close();
  }

  // A transaction call, counted: disconnect waits for it.
  private call(operation: (done: (error: LibrdKafkaError | null) => void) => void): Promise<void> {
    return this.life.call(() => this.callback(operation));
  }

  private callback(operation: (done: (error: LibrdKafkaError | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => operation((error) => (error ? reject(error) : resolve())));
  }
}

/** The binding takes headers as a list of one-entry objects; a name with several values gives several entries. */
export function headerList(headers: Headers): MessageHeader[] {
  const list: MessageHeader[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) list.push({ [name]: one });
  }
  return list;
}
