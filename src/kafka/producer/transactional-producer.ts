import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, MessageHeader, ProducerGlobalConfig, TopicPartitionOffsetAndMetadata } from '@confluentinc/kafka-javascript';
import type { NativeConsumer } from '../consumer/native-consumer.js';
import type { LibraryListener } from './native-producer.js';
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
  // The binding's disconnect of a client never connected, or a second one, runs its cleanup on memory it does not own (a segfault).
  private connecting = false;
  private disconnected: Promise<void> | undefined;

  constructor(config: ProducerGlobalConfig, private readonly timeoutMs: number, onLibrary: LibraryListener) {
    this.client = new kafkaJavascript.Producer(config);
    this.client.on('event.log', (event: { message?: unknown }) => onLibrary(String(event.message)));
    this.client.on('event.error', (error) => onLibrary(`Error: ${error.message}`));
  }

  /** Connects and runs initTransactions, which fences an earlier producer of the same transactional id and aborts what it left open. */
  async connect(): Promise<void> {
    this.connecting = true;
    await new Promise<void>((resolve, reject) => {
      this.client.connect({ timeout: this.timeoutMs }, (error) => (error ? reject(error) : resolve()));
    });
    this.client.setPollInterval(POLL_INTERVAL_MS);
    await this.call((done) => this.client.initTransactions(this.timeoutMs, done));
  }

  begin(): Promise<void> {
    return this.call((done) => this.client.beginTransaction(done));
  }

  /** Queues one record of the open transaction; the commit fails if it is not written. */
  produce(topic: string, record: OutgoingRecord): void {
    this.client.produce(topic, null, record.value, record.key, Date.now(), undefined, headerList(record.headers));
  }

  sendOffsets(offsets: TopicPartitionOffsetAndMetadata[], consumer: NativeConsumer): Promise<void> {
    return this.call((done) => this.client.sendOffsetsToTransaction(offsets, consumer.client, this.timeoutMs, done));
  }

  commit(): Promise<void> {
    return this.call((done) => this.client.commitTransaction(this.timeoutMs, done));
  }

  abort(): Promise<void> {
    return this.call((done) => this.client.abortTransaction(this.timeoutMs, done));
  }

  disconnect(): Promise<void> {
    if (!this.connecting) return Promise.resolve();
    this.disconnected ??= new Promise((resolve) => {
      this.client.setPollInterval(0);
      this.client.disconnect(0, () => resolve());
    });
    return this.disconnected;
  }

  private call(operation: (done: (error: LibrdKafkaError | null) => void) => void): Promise<void> {
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
