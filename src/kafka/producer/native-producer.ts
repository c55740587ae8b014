import { setTimeout as sleep } from 'node:timers/promises';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { DeliveryReport, LibrdKafkaError, Metadata, Producer, ProducerGlobalConfig } from '@confluentinc/kafka-javascript';
import { Lifecycle, type NativeHandle } from '../lifecycle.js';

const { ERR__QUEUE_FULL, ERR__TIMED_OUT } = kafkaJavascript.CODES.ERRORS;

/**
 * Which delivery reports reach JavaScript: only failures (successes are dropped inside librdkafka),
 * or every message's, with a copy of its value.
 */
export type Reports = 'errors' | 'values';

/** One message's fate: `error` is null when the broker acknowledged it. */
export type DeliveryListener = (error: LibrdKafkaError | null, report: DeliveryReport) => void;

/** A librdkafka log line or error event, for the session to log and inspect. */
export type LibraryListener = (message: string) => void;

// Served from the main thread, not librdkafka's background thread: a report is then handed to the
// binding before flush() returns (flush polls too), which settle() relies on.
const POLL_INTERVAL_MS = 10;
// How often librdkafka reports how many messages it holds and its producer id state; connect() waits on the latter.
const STATISTICS_MS = 100;
// How often connect() asks again for the leaders of a topic just created.
const LEADER_WAIT_MS = 100;
// How often connect() asks for metadata while librdkafka still has to ask for a producer id (an answer prompts it).
const PID_NUDGE_MS = 25;
// The idempotence states (librdkafka's eos.idemp_state) of a producer still getting its producer id.
const PID_PENDING = new Set(['RequestPID', 'WaitTransport', 'WaitPID']);

/**
 * The node-rdkafka-compatible producer of @confluentinc/kafka-javascript: produce() queues a copy of
 * the bytes and returns, with no promise, object or native handle per message; flush() is the
 * barrier. Made by KafkaSession.nativeProducer, which gives it the shared settings.
 */
export class NativeProducer {
  private readonly client: Producer;
  private readonly topic: string;
  private readonly timeoutMs: number;
  private poller: NodeJS.Timeout | undefined;
  // Counts reports as the binding hands them to JavaScript, so settle() can see the dispatch end.
  private reported = 0;
  // Messages librdkafka still holds (queued or awaiting acks), and when that last went down or to zero.
  private held = 0;
  private movedAt = performance.now();
  // librdkafka's eos.idemp_state at its last statistics; undefined before the first.
  private idempotence: string | undefined;
  // Its life: connected once, flushes counted, disconnected once (src/kafka/lifecycle.ts).
  private readonly life: Lifecycle;
  // Someone else who reads the statistics (the metrics).
  private statisticsListener: ((json: string) => void) | undefined;

  constructor(config: ProducerGlobalConfig, topic: string, timeoutMs: number, reports: Reports, onDelivery: DeliveryListener, onLibrary: LibraryListener) {
    this.topic = topic;
    this.timeoutMs = timeoutMs;
    this.client = new kafkaJavascript.Producer({
      ...config,
      'delivery.report.only.error': reports === 'errors',
      ...(reports === 'values' ? { dr_msg_cb: true } : { dr_cb: true }),
      // With success reports dropped, librdkafka's statistics are how progress shows (see quietMs).
      'statistics.interval.ms': STATISTICS_MS,
    });
    this.life = new Lifecycle('producer', producerHandle(this.client));
    this.client.on('disconnected', () => this.life.lost());
    this.client.on('delivery-report', (error, report) => {
      this.reported++;
      this.movedAt = performance.now();
      onDelivery(error ?? null, report);
    });
    this.client.on('event.stats', (event: { message?: unknown }) => {
      this.statisticsListener?.(String(event.message));
      const { held, idempotence } = statistics(event.message);
      this.idempotence = idempotence ?? this.idempotence;
      if (held === undefined) return;
      if (held === 0 || held < this.held) this.movedAt = performance.now();
      this.held = held;
    });
    this.client.on('event.log', (event: { message?: unknown }) => onLibrary(String(event.message)));
    this.client.on('event.error', (error) => onLibrary(`Error: ${error.message}`));
  }

  /**
   * Connects, then waits (at most half the timeout) until the broker's metadata has a leader for
   * every partition of the topic and the producer has its producer id; rejects with librdkafka's error.
   */
  connect(): Promise<void> {
    return this.life.connect(() => this.start());
  }

  private async start(): Promise<void> {
    let metadata = await new Promise<Metadata>((resolve, reject) => {
      this.client.connect({ topic: this.topic, timeout: this.timeoutMs }, (error, data) => (error ? reject(error) : resolve(data)));
    });
    // Polling serves the statistics the wait below reads, as well as delivery reports.
    this.poller = setInterval(() => this.client.poll(), POLL_INTERVAL_MS).unref();
    // A topic just created may be missing from a broker's metadata for a moment; librdkafka forgets
    // the sequence numbers of partitions that vanish, and the broker then drops resent messages as
    // duplicates (confluentinc/librdkafka#3712), so nothing is produced before every leader is known.
    // Not past half the timeout: a topic the principal may not describe never shows its partitions,
    // and its sends then fail with the broker's reason.
    const until = performance.now() + this.timeoutMs / 2;
    while (!hasLeaders(metadata, this.topic) && performance.now() < until) {
      await sleep(LEADER_WAIT_MS);
      metadata = await this.metadata();
    }
    // Orders queued before the producer id wait for it: librdkafka asks for one on a metadata answer from
    // a broker that is up, else every 500 ms. Best effort: a failed nudge or no statistics does not stop us.
    const statisticsBy = performance.now() + 3 * STATISTICS_MS;
    while (this.awaitingProducerId(statisticsBy) && performance.now() < until) {
      await sleep(PID_NUDGE_MS);
      await this.metadata(Math.max(1, until - performance.now())).catch(() => undefined);
    }
  }

  // librdkafka puts eos in its statistics only for an idempotent producer: none by `statisticsBy`, none to wait for.
  private awaitingProducerId(statisticsBy: number): boolean {
    return this.idempotence === undefined ? performance.now() < statisticsBy : PID_PENDING.has(this.idempotence);
  }

  private metadata(timeoutMs = this.timeoutMs): Promise<Metadata> {
    return new Promise<Metadata>((resolve, reject) => {
      this.client.getMetadata({ topic: this.topic, timeout: timeoutMs }, (error, data) => (error ? reject(error) : resolve(data)));
    });
  }

  /** Queues one message (librdkafka copies key and value); false when its queue is full: wait, then try again. */
  produce(value: Buffer, key: Buffer, timestamp: number): boolean {
    try {
      this.client.produce(this.topic, null, value, key, timestamp);
      return true;
    } catch (error) {
      if ((error as Partial<LibrdKafkaError>).code === ERR__QUEUE_FULL) return false;
      throw error;
    }
  }

  /** How long librdkafka has held messages without any being acknowledged or failed (0 when it holds none). */
  quietMs(): number {
    return this.held === 0 ? 0 : performance.now() - this.movedAt;
  }

  /** Each statistics JSON librdkafka reports (every 100 ms) also goes to `listener`. */
  onStatistics(listener: (json: string) => void): void {
    this.statisticsListener = listener;
  }

  /** librdkafka's eos.idemp_state at its last statistics: 'Assigned' once the producer id is there. */
  get idempotenceState(): string | undefined {
    return this.idempotence;
  }

  /** Messages librdkafka held at its last statistics: queued, in flight or awaiting acknowledgement. */
  get unacknowledged(): number {
    return this.held;
  }

  /** Serves waiting delivery reports now (they also are every few ms). */
  poll(): void {
    if (this.life.usable) this.client.poll();
  }

  /** Waits up to `timeoutMs` for every queued message to be acknowledged or failed; true when none is left. */
  async flush(timeoutMs: number): Promise<boolean> {
    const done = await this.life.call(() => new Promise<boolean>((resolve, reject) => {
      this.client.flush(timeoutMs, (error) => {
        if (!error) resolve(true);
        else if (error.code === ERR__TIMED_OUT) resolve(false);
        else reject(error);
      });
    }));
    if (done) await this.settle();
    return done;
  }

  /**
   * After a flush every report is in the binding's queue, which hands JavaScript 100 a turn of the
   * event loop: wait for a turn that brings none.
   */
  private async settle(): Promise<void> {
    for (let before = -1; before !== this.reported;) {
      before = this.reported;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Lets go of the connections, once; queued messages are not waited for (commands flush first). */
  async disconnect(): Promise<void> {
    clearInterval(this.poller);
    await this.life.close();
  }
}

/** A callback producer as its lifecycle sees it: its disconnect waits for nothing queued (commands flush first). */
export function producerHandle(client: Producer): NativeHandle {
  return {
    isConnected: () => client.isConnected(),
    disconnect: () => new Promise((resolve) => {
      client.disconnect(0, () => resolve());
    }),
  };
}

/** The topic is in the metadata with at least one partition, each with a leader. */
function hasLeaders(metadata: Metadata, topic: string): boolean {
  const partitions = metadata.topics.find((entry) => entry.name === topic)?.partitions ?? [];
  return partitions.length > 0 && partitions.every((partition) => partition.leader >= 0);
}

/**
 * From librdkafka's statistics: msg_cnt, the messages in its queues (sent but unacknowledged included),
 * and eos.idemp_state, how far the producer is in getting its producer id.
 */
export function statistics(json: unknown): { held?: number; idempotence?: string } {
  try {
    const { msg_cnt: held, eos } = JSON.parse(String(json)) as { msg_cnt?: unknown; eos?: { idemp_state?: unknown } };
    const idempotence = eos?.idemp_state;
    return {
      ...(typeof held === 'number' ? { held } : {}),
      ...(typeof idempotence === 'string' ? { idempotence } : {}),
    };
  } catch {
    return {};
  }
}
