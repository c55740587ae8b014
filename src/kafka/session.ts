import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { LogLevel } from '../config/environment.js';
import type { ConnectionOptions } from '../config/flags.js';
import { messageOf, type OrdersError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AdminClient } from './admin/admin-client.js';
import { AdminRequests } from './admin/admin-requests.js';
import './client-bugs.js';
import { NativeConsumer } from './consumer/native-consumer.js';
import { chooseGroupProtocol, type GroupProtocol, type Membership } from './consumer/group-protocol.js';
import type { Access } from './failures.js';
import { LibraryLog, libraryLogger } from './library-log.js';
import { NativeProducer, type DeliveryListener, type Reports } from './producer/native-producer.js';
import { clientProperties } from './properties.js';
import { StepRunner, type StepOptions } from './step.js';
import { TransactionalProducer } from './producer/transactional-producer.js';
import { CONSUMER_TUNING, DELIVERY_TIMEOUT_MS, NATIVE_PRODUCER_SETTINGS, PRODUCER_TUNING, RECONNECT } from './tuning.js';

const { Kafka, logLevel } = kafkaJavascript.KafkaJS;

export type Producer = KafkaJS.Producer;

/** librdkafka's statistics JSON of a native client, tagged with the client's role. */
export type StatisticsListener = (json: string, client: 'consumer' | 'producer') => void;

// The delivery timeout alone bounds an order's retries, as in Java (its retries are librdkafka's default, not
// KafkaJS's 5: five NOT_ENOUGH_REPLICAS in 5 s failed orders a failover would have let through). A topic-level
// property librdkafka takes on the global config too (its types list only global ones).
const PRODUCE_DELIVERY: Record<string, number> = { 'message.timeout.ms': DELIVERY_TIMEOUT_MS, retries: 2_147_483_647 };

/**
 * How a consumer joins its group. Under KIP-848's protocol the broker owns the session timeout and the
 * assignment (librdkafka refuses session.timeout.ms and partition.assignment.strategy there); under the
 * classic one, cooperative-sticky moves only the partitions that change owner, and a 10 s session (not
 * 45 s) lets a restarted consumer take over a crashed one's partitions sooner.
 */
function groupSettings(membership: Membership | undefined): Record<string, string | number> {
  const instance: Record<string, string> = membership?.instanceId === undefined ? {} : { 'group.instance.id': membership.instanceId };
  if (membership?.protocol === 'consumer') return { 'group.protocol': 'consumer', ...instance };
  const classic = { 'session.timeout.ms': 10_000 };
  return membership === undefined ? classic : { ...classic, 'group.protocol': 'classic', 'partition.assignment.strategy': 'cooperative-sticky', ...instance };
}

// Commands flush and commit before they return; closing only lets go of the connections.
const CLOSE_TIMEOUT_MS = 2_000;

interface Closable {
  disconnect(): Promise<void>;
}

/**
 * The Kafka side of one command run: makes every client with the shared settings, knows the run's
 * stop and its fatal failure, and closes everything it made. Its steps (each bounded by the timeout
 * and Ctrl-C), its admin requests and its reading of librdkafka's log live beside it.
 */
export class KafkaSession {
  readonly brokers: string[];
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly steps: StepRunner;
  readonly admin: AdminRequests;
  readonly log: LibraryLog;
  private readonly kafka: KafkaJS.Kafka;
  private readonly clientId: string;
  private readonly libraryLogLevel: number;
  // The user's librdkafka properties go on every client last, so none of the tool's tuning hides them.
  private readonly properties: Record<string, string>;
  private readonly made: Closable[] = [];
  // A step given up on (Ctrl-C, or our deadline) may still be out in librdkafka.
  private abandoned = false;
  private readonly failedController = new AbortController();
  // statistics(): librdkafka's statistics of the native clients made from then on.
  private statisticsEvery: { intervalMs: number; listener: StatisticsListener } | undefined;
  /** Aborts when librdkafka reported a failure no retry can fix (credentials, TLS, authorization); see `failure`. */
  readonly failed: AbortSignal = this.failedController.signal;
  failure: OrdersError | undefined;

  constructor(options: ConnectionOptions & { logLevel: LogLevel }, logger: Logger, signal: AbortSignal, clientId = 'orders') {
    this.brokers = options.brokers;
    this.timeoutMs = options.timeoutMs;
    this.logger = logger;
    this.signal = signal;
    const properties = clientProperties(options.properties);
    this.properties = properties;
    this.clientId = clientId;
    this.log = new LibraryLog(this.brokers, logger, (failure) => this.fail(failure));
    this.steps = new StepRunner(this);
    this.admin = new AdminRequests({
      brokers: this.brokers,
      timeoutMs: this.timeoutMs,
      steps: this.steps,
      log: this.log,
      makeAdmin: () => this.track(new AdminClient(this.kafka.admin())),
      connectNew: (make, what, access, stepOptions) => this.connectNew(make, what, access, stepOptions),
      forget: (client) => this.forget(client),
    });
    // librdkafka's syslog levels: debug (7) only when asked for, else info (6) as the KafkaJS API sets it.
    this.libraryLogLevel = options.logLevel === 'debug' || options.logLevel === 'trace' ? 7 : 6;
    this.kafka = new Kafka({
      kafkaJS: {
        brokers: options.brokers,
        // A client.id of the user's (say one their quotas or ACL audit logs know) wins over the command's.
        ...(properties['client.id'] === undefined ? { clientId } : {}),
        requestTimeout: options.timeoutMs,
        logger: libraryLogger((message) => this.log.seen(message)),
        // INFO: some failures (a TLS listener reached in plain text) show only there; all of it goes to debug.
        logLevel: options.logLevel === 'debug' || options.logLevel === 'trace' ? logLevel.DEBUG : logLevel.INFO,
      },
      ...RECONNECT,
      // Security and everything else the user configures, as for any librdkafka client.
      ...properties,
    });
  }

  /** The group protocol a consume joins with: -X group.protocol, else classic (measured, see group-protocol.ts). */
  groupProtocol(): GroupProtocol {
    return chooseGroupProtocol(this.properties);
  }

  /** How long the produce command's producer keeps trying an order: message.timeout.ms (or its alias), else DELIVERY_TIMEOUT_MS. */
  get deliveryTimeoutMs(): number {
    const set = Number(this.properties['message.timeout.ms'] ?? this.properties['delivery.timeout.ms']);
    // 0 is librdkafka's "for ever".
    if (set === 0) return Number.POSITIVE_INFINITY;
    return Number.isSafeInteger(set) && set > 0 ? set : DELIVERY_TIMEOUT_MS;
  }

  /** The brokers hung up on the first request: the steps' failure line then asks about TLS. */
  get hungUpEarly(): boolean {
    return this.log.hungUpEarly;
  }

  /**
   * librdkafka's statistics every `intervalMs` from the native consumers and producers made from now
   * on, to `listener`: read from its callback, no extra request to any broker.
   */
  statistics(intervalMs: number, listener: StatisticsListener): void {
    this.statisticsEvery = { intervalMs, listener };
  }

  /** An idempotent producer, not yet connected. */
  producer(): Producer {
    return this.track(this.kafka.producer({ kafkaJS: { idempotent: true, acks: -1 }, ...PRODUCER_TUNING, ...this.properties }));
  }

  /**
   * An idempotent acks=all producer of `topic` for the hot path, not yet connected: the
   * node-rdkafka-compatible API, with the same settings as producer() and the user's properties last.
   */
  nativeProducer(topic: string, reports: Reports, onDelivery: DeliveryListener, onAnswer?: (line: string) => void): NativeProducer {
    const userDebug = this.properties.debug;
    const producer = this.track(new NativeProducer({
      ...this.nativeSettings(),
      ...NATIVE_PRODUCER_SETTINGS,
      ...PRODUCER_TUNING,
      ...PRODUCE_DELIVERY,
      ...this.properties,
      // What the brokers answered each request shows only in librdkafka's msg debug (a line per request, not per order).
      ...(onAnswer === undefined ? {} : { debug: userDebug === undefined ? 'msg' : `${userDebug},msg`, log_level: 7 }),
    }, topic, this.timeoutMs, reports, onDelivery, (message) => {
      onAnswer?.(message);
      this.log.seen(message);
    }));
    const statistics = this.statisticsEvery;
    // The producer has statistics on already (every 100 ms, its own use): only the listener is added.
    if (statistics !== undefined) producer.onStatistics((json) => statistics.listener(json, 'producer'));
    return producer;
  }

  /** A producer whose sends and consumer offsets commit or abort together, not yet connected. */
  transactionalProducer(transactionalId: string, transactionTimeoutMs: number): TransactionalProducer {
    return this.track(new TransactionalProducer({
      ...this.nativeSettings(),
      ...NATIVE_PRODUCER_SETTINGS,
      ...PRODUCER_TUNING,
      'transactional.id': transactionalId,
      'transaction.timeout.ms': transactionTimeoutMs,
      // librdkafka refuses a socket timeout longer than the transaction's (+100 ms).
      'socket.timeout.ms': Math.min(this.timeoutMs, transactionTimeoutMs),
      // The broker answers CONCURRENT_TRANSACTIONS while the previous transaction's markers are written, a few
      // ms; librdkafka's default 100 ms first wait would be most of each commit (retries still back off exponentially).
      'retry.backoff.ms': 1,
      // An idle connection closed is a broker state change, the only thing that wakes librdkafka's
      // coordinator look-up once its cached group coordinator died (confluentinc/librdkafka#5511):
      // a send_offsets_to_transaction stuck on it then ends within this time.
      'connections.max.idle.ms': 10_000,
      ...this.properties,
    }, this.timeoutMs, (message) => this.log.seen(message)));
  }

  /**
   * A consumer of the node-rdkafka-compatible API that commits only what it is told to, from the start
   * of a partition with none. With a `membership` (consume's own group), it joins by that protocol.
   */
  consumer(groupId: string, membership?: Membership, settings: Record<string, string | number | boolean> = {}): NativeConsumer {
    const statistics = this.statisticsEvery;
    const consumer = this.track(new NativeConsumer({
      ...this.nativeSettings(),
      'group.id': groupId,
      'enable.auto.commit': false,
      // The end of a partition from librdkafka itself, for --exit-at-end.
      'enable.partition.eof': true,
      ...groupSettings(membership),
      ...(statistics === undefined ? {} : { 'statistics.interval.ms': statistics.intervalMs }),
      ...CONSUMER_TUNING,
      ...settings,
      ...this.properties,
    }, (message) => this.log.seen(message)));
    if (statistics !== undefined) consumer.client.on('event.stats', (event: { message?: unknown }) => statistics.listener(String(event.message), 'consumer'));
    return consumer;
  }

  // What every client of the node-rdkafka-compatible API gets first; the user's properties go last.
  private nativeSettings(): { 'bootstrap.servers': string; 'client.id': string; 'socket.timeout.ms': number; 'reconnect.backoff.ms': number; 'reconnect.backoff.max.ms': number; log_level: number } {
    return { 'bootstrap.servers': this.brokers.join(','), 'client.id': this.clientId, 'socket.timeout.ms': this.timeoutMs, ...RECONNECT, log_level: this.libraryLogLevel };
  }

  /** Connects a client made here, within the timeout (a client connects once: no retry). */
  async connect<T extends { connect(): Promise<void> }>(client: T, what: string, access?: Access): Promise<T> {
    await this.steps.run(`connecting the ${what}`, () => client.connect(), access, { retry: false });
    return client;
  }

  /**
   * Makes and connects a client until one connects or the timeout passes: a client connects only once,
   * so each attempt after a transient failure (a coordinator moving to another broker) gets a new one.
   */
  async connectNew<T extends Closable & { connect(): Promise<void> }>(make: () => T, what: string, access?: Access, options: StepOptions = {}): Promise<T> {
    return this.steps.run(`connecting the ${what}`, async () => {
      const client = make();
      try {
        await client.connect();
        return client;
      } catch (error) {
        // Let go of the failed one now, and only once: close() does not see it again.
        this.forget(client);
        void client.disconnect().catch(() => {});
        throw error;
      }
    }, access, { ...options, retry: true });
  }

  /** Records a failure no retry can fix; whatever waits on `failed` stops. */
  fail(failure: OrdersError): void {
    if (this.failure !== undefined) return;
    this.failure = failure;
    this.failedController.abort(failure);
  }

  /** A client close() must not wait for: dropped, or left behind with a call that may never return. */
  forget(client: Closable): void {
    const at = this.made.indexOf(client);
    if (at >= 0) this.made.splice(at, 1);
  }

  /** Something was given up on while librdkafka still works on it: close() must not wait for it. */
  abandon(): void {
    this.abandoned = true;
  }

  /**
   * Disconnects every client made here, even when some fail, so the process can exit. Each gets at
   * most CLOSE_TIMEOUT_MS. After a step was given up on, nothing is disconnected: librdkafka's
   * disconnect then blocks the thread until the abandoned request times out (87 s seen against a
   * broker that never answers), and no client has anything left to flush.
   */
  async close(): Promise<void> {
    if (this.abandoned) {
      this.logger.debug('a step was given up on: leaving the clients to the process exit');
      return;
    }
    const results = await Promise.allSettled(this.made.map(async (client) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no disconnect within ${CLOSE_TIMEOUT_MS} ms`)), CLOSE_TIMEOUT_MS);
      });
      try {
        await Promise.race([client.disconnect(), late]);
      } finally {
        clearTimeout(timer);
      }
    }));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.debug(`disconnect failed: ${messageOf(result.reason)}`);
    }
  }

  private track<T extends Closable>(client: T): T {
    this.made.push(client);
    return client;
  }
}

