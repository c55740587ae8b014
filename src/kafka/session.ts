import { setTimeout as sleep } from 'node:timers/promises';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { ConnectionOptions, LogLevel } from '../config.js';
import { AuthenticationError, BrokerError, InterruptedError, MissingTopicError, OrdersError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import './client-bugs.js';
import { authorizationFailure, loggedFailure, looksLikeTlsListener, type Access } from './failures.js';
import { NativeConsumer } from './consumer.js';
import { NativeProducer, type DeliveryListener, type Reports } from './native-producer.js';
import { TransactionalProducer } from './transactional-producer.js';
import { clientProperties } from './properties.js';
import { brokersDown, type BrokersDown } from './reachable.js';
import { describeMissing, transientCause, type Missing } from './transient.js';

const { Kafka, IsolationLevel, logLevel } = kafkaJavascript.KafkaJS;

export type Producer = KafkaJS.Producer;
export type Admin = KafkaJS.Admin;

export interface TopicSpec {
  topic: string;
  /** Keep only the newest record per key (cleanup.policy=compact). */
  compacted?: boolean;
}

/** How a step may be retried, and which coordinator its failures concern. */
export interface StepOptions {
  /** The operation can be run again after a transient failure (it makes its own client, or is a request). */
  retry?: boolean;
  /** Names the coordinator in the failure line: "transaction" or "group". */
  coordinator?: 'transaction' | 'group';
}

export interface LogRange {
  low: number;
  high: number;
}

/** A consumer group as the coordinator describes it. */
export interface GroupDescription {
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead (no such group) or Unknown. */
  state: string;
  /** "consumer" for a group of consumers; empty for a group that only has committed offsets or none. */
  protocolType: string;
  /** The assignor, e.g. range or cooperative-sticky. */
  protocol: string;
  members: { memberId: string; clientId: string; host: string; partitions: { topic: string; partition: number }[] }[];
}

/** librdkafka's statistics JSON of a native client, tagged with the client's role. */
export type StatisticsListener = (json: string, client: 'consumer' | 'producer') => void;

const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'] as const;

// Measured with 1,000,000 orders (npm run bench): linger 1 ms beat 5 ms and 20 ms, as node, not the
// network, is the bottleneck; lz4 and zstd were alike and a little ahead of none, lz4 costs less CPU.
// Batches as librdkafka's defaults, written out so kcat in the bench, on its own librdkafka, gets the same.
export const PRODUCER_TUNING = { 'linger.ms': 1, 'compression.codec': 'lz4', 'batch.num.messages': 10_000, 'batch.size': 1_000_000 } as const;

// librdkafka's prefetch queue, small: consuming 1,000,000 orders, 1 MB and 10,000 messages gave a
// median peak RSS of 408 MB against 568 MB with 8 MB, at the same speed, once a queue found full is
// fetched into again after 10 ms instead of librdkafka's 1 s (which alone made it 2.7 x slower).
export const CONSUMER_QUEUE = {
  'queued.max.messages.kbytes': 1024,
  'queued.min.messages': 10_000,
  'fetch.queue.backoff.ms': 10,
} as const;

// Measured consuming 1,000,000 orders: the client's defaults prefetch far ahead of processing (1.2 GB peak RSS).
export const CONSUMER_TUNING = {
  'fetch.message.max.bytes': 524_288,
  ...CONSUMER_QUEUE,
} as const;

// Reconnect quickly after a broker restart instead of backing off to 10 s.
const RECONNECT = { 'reconnect.backoff.ms': 100, 'reconnect.backoff.max.ms': 1000 } as const;

// What the KafkaJS API gives its idempotent producer besides our tuning (lib/kafkajs/_producer.js and
// _common.js), so the native producer behaves alike: same partitions per key, same retries.
export const NATIVE_PRODUCER_SETTINGS = {
  'enable.idempotence': true,
  acks: 'all',
  partitioner: 'murmur2_random',
  retries: 5,
  'retry.backoff.ms': 300,
  'socket.connection.setup.timeout.ms': 11_000,
} as const;

const { ERR__TIMED_OUT, ERR__TRANSPORT, ERR__ALL_BROKERS_DOWN, ERR__RESOLVE } = kafkaJavascript.CODES.ERRORS;
// A step asks again after a transient failure this soon at first, doubling up to the cap.
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 2_000;
// An admin request that takes longer is asked again on a new client (librdkafka's own default is 5 s).
const ADMIN_ATTEMPT_MS = 5_000;
const NO_ANSWER_CODES = new Set<number>([ERR__TIMED_OUT, ERR__TRANSPORT, ERR__ALL_BROKERS_DOWN, ERR__RESOLVE]);

// Commands flush and commit before they return; closing only lets go of the connections.
const CLOSE_TIMEOUT_MS = 2_000;

interface Closable {
  disconnect(): Promise<void>;
}

/**
 * The Kafka side of one command run: makes every client with the shared settings, bounds each
 * start-up step by the timeout and by Ctrl-C, and closes everything it made.
 */
export class KafkaSession {
  readonly brokers: string[];
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  private readonly kafka: KafkaJS.Kafka;
  private readonly clientId: string;
  private readonly libraryLogLevel: number;
  // The user's librdkafka properties go on every client last, so none of the tool's tuning hides them.
  private readonly properties: Record<string, string>;
  private readonly made: Closable[] = [];
  private connectedAdmin: Promise<Admin> | undefined;
  // A step given up on (Ctrl-C, or our deadline) may still be out in librdkafka.
  private abandoned = false;
  private readonly failedController = new AbortController();
  // What the command reads, to name a group or topic librdkafka only logs as refused.
  private reading: { group: string; topic: string } | undefined;
  // statistics(): librdkafka's statistics of the native clients made from then on.
  private statisticsEvery: { intervalMs: number; listener: StatisticsListener } | undefined;
  // The brokers hung up on the first request: likely a TLS listener reached in plain text.
  private hungUpEarly = false;
  // A request was answered: credentials and TLS work, so a later handshake failure is a broker restarting.
  private answered = false;
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
    // librdkafka's syslog levels: debug (7) only when asked for, else info (6) as the KafkaJS API sets it.
    this.libraryLogLevel = options.logLevel === 'debug' || options.logLevel === 'trace' ? 7 : 6;
    this.kafka = new Kafka({
      kafkaJS: {
        brokers: options.brokers,
        // A client.id of the user's (say one their quotas or ACL audit logs know) wins over the command's.
        ...(properties['client.id'] === undefined ? { clientId } : {}),
        requestTimeout: options.timeoutMs,
        logger: libraryLogger((message) => this.libraryLog(message)),
        // INFO: some failures (a TLS listener reached in plain text) show only there; all of it goes to debug.
        logLevel: options.logLevel === 'debug' || options.logLevel === 'trace' ? logLevel.DEBUG : logLevel.INFO,
      },
      ...RECONNECT,
      // Security and everything else the user configures, as for any librdkafka client.
      ...properties,
    });
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
  nativeProducer(topic: string, reports: Reports, onDelivery: DeliveryListener): NativeProducer {
    const producer = this.track(new NativeProducer({
      ...this.nativeSettings(),
      ...NATIVE_PRODUCER_SETTINGS,
      ...PRODUCER_TUNING,
      ...this.properties,
    }, topic, this.timeoutMs, reports, onDelivery, (message) => this.libraryLog(message)));
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
    }, this.timeoutMs, (message) => this.libraryLog(message)));
  }

  /** A consumer of the node-rdkafka-compatible API that commits only what it is told to, from the start of a partition with none. */
  consumer(groupId: string): NativeConsumer {
    const statistics = this.statisticsEvery;
    const consumer = this.track(new NativeConsumer({
      ...this.nativeSettings(),
      'group.id': groupId,
      'enable.auto.commit': false,
      // The end of a partition from librdkafka itself, for --exit-at-end.
      'enable.partition.eof': true,
      // A 10 s session (not 45 s) lets a restarted consumer take over a crashed one's partitions sooner.
      'session.timeout.ms': 10_000,
      ...(statistics === undefined ? {} : { 'statistics.interval.ms': statistics.intervalMs }),
      ...CONSUMER_TUNING,
      ...this.properties,
    }, (message) => this.libraryLog(message)));
    if (statistics !== undefined) consumer.client.on('event.stats', (event: { message?: unknown }) => statistics.listener(String(event.message), 'consumer'));
    return consumer;
  }

  // What every client of the node-rdkafka-compatible API gets first; the user's properties go last.
  private nativeSettings(): { 'bootstrap.servers': string; 'client.id': string; 'socket.timeout.ms': number; 'reconnect.backoff.ms': number; 'reconnect.backoff.max.ms': number; log_level: number } {
    return { 'bootstrap.servers': this.brokers.join(','), 'client.id': this.clientId, 'socket.timeout.ms': this.timeoutMs, ...RECONNECT, log_level: this.libraryLogLevel };
  }

  /** Connects a client made here, within the timeout (a client connects once: no retry). */
  async connect<T extends { connect(): Promise<void> }>(client: T, what: string, access?: Access): Promise<T> {
    await this.step(`connecting the ${what}`, () => client.connect(), access, { retry: false });
    return client;
  }

  /**
   * Makes and connects a client until one connects or the timeout passes: a client connects only once,
   * so each attempt after a transient failure (a coordinator moving to another broker) gets a new one.
   */
  async connectNew<T extends Closable & { connect(): Promise<void> }>(make: () => T, what: string, access?: Access, options: StepOptions = {}): Promise<T> {
    return this.step(`connecting the ${what}`, async () => {
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

  /** Which brokers do not accept a connection, for a failure line; undefined when all do. */
  brokersDown(): Promise<BrokersDown | undefined> {
    return brokersDown(this.brokers);
  }

  /** Names the group and topic a consumer reads, for failures librdkafka only logs. */
  readingAs(group: string, topic: string): void {
    this.reading = { group, topic };
  }

  /** Records a failure no retry can fix; whatever waits on `failed` stops. */
  fail(failure: OrdersError): void {
    if (this.failure !== undefined) return;
    this.failure = failure;
    this.failedController.abort(failure);
  }

  /** Throws the recorded failure, if any. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  // librdkafka's own reports: for debugging, and inspected for failures it only logs.
  private libraryLog(message: string): void {
    this.logger.debug(message);
    this.inspect(message);
  }

  private inspect(message: string): void {
    const failure = loggedFailure(message, this.brokers, this.reading);
    if (failure === undefined) {
      if (looksLikeTlsListener(message)) this.hungUpEarly = true;
    } else if (failure instanceof AuthenticationError && this.answered) {
      // librdkafka reconnects by itself; a refused principal (authorization) stays fatal.
      this.logger.warn(failure.message);
    } else {
      this.fail(failure);
    }
  }

  /** The session's admin client, connected on first use (and again after a transient failure, see adminRequest). */
  private admin(): Promise<Admin> {
    this.connectedAdmin ??= this.connectNew(() => this.track(this.kafka.admin()), 'admin client');
    return this.connectedAdmin;
  }

  /**
   * An admin request as a step, each attempt bounded by ADMIN_ATTEMPT_MS. After a transient failure
   * the next attempt gets a new admin client: librdkafka's admin sends CreateTopics and DescribeTopics
   * to the controller it last heard of, and waited for a SIGKILLed one until our deadline (seen: 30 s of
   * "Timed out waiting for controller" while two brokers answered); a new client asks the live ones.
   */
  private adminRequest<T>(what: string, request: (admin: Admin, attemptMs: number) => Promise<T>, access?: Access): Promise<T> {
    return this.step(what, async (remainingMs) => {
      const connected = this.admin();
      const admin = await connected;
      try {
        return await request(admin, Math.max(500, Math.min(ADMIN_ATTEMPT_MS, remainingMs)));
      } catch (error) {
        if (transientCause(error) !== undefined) this.dropAdmin(connected, admin);
        throw error;
      }
    }, access);
  }

  // Another request may have replaced it already: then only this one goes.
  private dropAdmin(connected: Promise<Admin>, admin: Admin): void {
    if (this.connectedAdmin === connected) this.connectedAdmin = undefined;
    this.forget(admin);
    void admin.disconnect().catch(() => {});
  }

  /** A client close() must not wait for: dropped, or left behind with a call that may never return. */
  forget(client: Closable): void {
    const at = this.made.indexOf(client);
    if (at >= 0) this.made.splice(at, 1);
  }

  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  async ensureTopics(topics: (string | TopicSpec)[], { partitions, replicationFactor }: { partitions: number; replicationFactor: number }): Promise<void> {
    // Listing needs any one broker; creating needs the controller quorum, which a cluster that lost
    // brokers may not have: topics that exist need nothing more.
    const existing = new Set(await this.adminRequest('listing topics', (admin, attemptMs) => admin.listTopics({ timeout: attemptMs })));
    const specs = topics.map((topic) => (typeof topic === 'string' ? { topic } : topic)).filter((spec) => !existing.has(spec.topic));
    if (specs.length === 0) return;
    await this.adminRequest(`creating topics ${specs.map((spec) => spec.topic).join(', ')}`, (admin, attemptMs) => admin.createTopics({
      // One request per topic, run one after another in librdkafka: together they end with the attempt,
      // so no request outlives the step (the process exit would wait for it). Existing topics count as made.
      timeout: Math.max(500, Math.floor(attemptMs / specs.length)),
      topics: specs.map(({ topic, compacted }) => ({
        topic,
        numPartitions: partitions,
        replicationFactor,
        configEntries: compacted === true ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    }), { operation: 'CREATE', resource: `topics ${specs.map((spec) => spec.topic).join(', ')}` });
    this.answered = true;
  }

  /** For commands that only read: a missing topic is the user's mistake to hear about, not one to create. */
  async requireTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.adminRequest('listing topics', (admin, attemptMs) => admin.listTopics({ timeout: attemptMs })));
    this.answered = true;
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) throw new MissingTopicError(`topic ${missing.join(', ')} does not exist on ${this.brokers.join(',')}`);
  }

  async topicExists(topic: string): Promise<boolean> {
    return (await this.adminRequest('listing topics', (admin, attemptMs) => admin.listTopics({ timeout: attemptMs }))).includes(topic);
  }

  /** The offsets `group` committed on `topic` (-1 where none) with their metadata, once no transaction is about to change them. */
  async groupOffsets(group: string, topic: string): Promise<Map<number, { offset: number; metadata: string | undefined }>> {
    const admin = await this.admin();
    // Stable offsets: an offset commit inside a transaction still open is waited for, not skipped.
    const found = await this.step(`reading the offsets of group ${group}`, () => admin.fetchOffsets({ groupId: group, topics: [topic], requireStableOffsets: true, timeout: this.timeoutMs }), { operation: 'DESCRIBE', resource: `group ${group}` });
    return new Map(found.flatMap((entry) => entry.partitions.map((p) => [p.partition, { offset: committedOffset(p.offset), metadata: p.metadata ?? undefined }] as const)));
  }

  /** How the group's coordinator describes `group`: its state, protocol and members with their partitions. */
  async describeGroup(group: string): Promise<GroupDescription> {
    const { groups } = await this.adminRequest(`describing group ${group}`, (admin, attemptMs) => admin.describeGroups([group], { timeout: attemptMs }), { operation: 'DESCRIBE', resource: `group ${group}` });
    const found = groups.find((entry) => entry.groupId === group);
    if (found?.error !== undefined) throw found.error;
    return {
      state: GROUP_STATES[found?.state ?? 0] ?? 'Unknown',
      protocolType: found?.protocolType ?? '',
      protocol: found?.protocol ?? '',
      members: (found?.members ?? []).map((member) => ({
        memberId: member.memberId, clientId: member.clientId, host: member.clientHost,
        partitions: (member.assignment?.topicPartitions ?? []).map(({ topic, partition }) => ({ topic, partition })),
      })),
    };
  }

  /** Log start and high watermark of every partition of `topic`; read_committed, the end is the last stable offset instead. */
  async topicOffsets(topic: string, isolationLevel = IsolationLevel.READ_UNCOMMITTED): Promise<Map<number, LogRange>> {
    const offsets = await this.adminRequest(`reading the offsets of ${topic}`, (admin, attemptMs) => admin.fetchTopicOffsets(topic, { timeout: attemptMs, isolationLevel }), { operation: 'DESCRIBE', resource: `topic ${topic}` });
    return new Map(offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]));
  }

  /** Whether a transaction is open on some partition of `topic`: what it wrote holds back every later record (LSO < high watermark). */
  async transactionOpenOn(topic: string): Promise<boolean> {
    const [stable, written] = await Promise.all([this.topicOffsets(topic, IsolationLevel.READ_COMMITTED), this.topicOffsets(topic)]);
    return [...stable].some(([partition, { high }]) => high < (written.get(partition)?.high ?? 0));
  }

  /**
   * Runs one start-up step: not at all once Ctrl-C came, asked again after each transient failure (a
   * coordinator or leader moving off a dead broker), and rejected with a BrokerError naming what did not
   * answer when the whole step, retries included, takes longer than the timeout.
   */
  async step<T>(what: string, operation: (remainingMs: number) => Promise<T>, access?: Access, options: StepOptions = {}): Promise<T> {
    this.throwIfAborted(what);
    this.throwIfFailed();
    const started = performance.now();
    let last: { missing: Missing; error: unknown } | undefined;
    const noAnswer = (): BrokerError => this.noAnswer(what, last, options.coordinator);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let onFailed: (() => void) | undefined;
    // One deadline for the step, whatever the number of attempts in it.
    const deadline = new Promise<never>((_, reject) => {
      const giveUp = (error: Error): void => {
        this.abandoned = true;
        reject(error);
      };
      timer = setTimeout(() => giveUp(noAnswer()), this.timeoutMs);
      onAbort = () => giveUp(this.interrupted(what));
      onFailed = () => giveUp(this.failure ?? noAnswer());
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.failed.addEventListener('abort', onFailed, { once: true });
    });
    // Swallowed here: the race below reports it; later attempts must not leave it unhandled.
    deadline.catch(() => {});
    let given = false;
    const attempts = async (): Promise<T> => {
      for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, MAX_RETRY_MS)) {
        const remainingMs = this.timeoutMs - (performance.now() - started);
        try {
          return await operation(Math.max(1, Math.floor(remainingMs)));
        } catch (error) {
          const missing = options.retry === false ? undefined : transientCause(error);
          if (missing === undefined || given || authorizationFailure(error, access) !== undefined) throw error;
          last = { missing, error };
          // No time left for another attempt: the deadline reports what was missing.
          if (this.timeoutMs - (performance.now() - started) <= pause) throw noAnswer();
          this.logger.debug(`${what}: ${messageOf(error)}; asking again in ${pause} ms`);
          await sleep(pause);
          if (given) throw noAnswer();
        }
      }
    };
    try {
      return await Promise.race([attempts(), deadline]);
    } catch (error) {
      if (error instanceof OrdersError) throw error;
      const refused = authorizationFailure(error, access);
      if (refused !== undefined) throw refused;
      // The client may give up a moment before our deadline, with its own timeout or transport error.
      if (isNoAnswer(error)) throw noAnswer();
      throw new BrokerError(`Kafka at ${this.brokers.join(',')} failed while ${what}: ${messageOf(error)}`, error);
    } finally {
      given = true;
      clearTimeout(timer);
      if (onAbort !== undefined) this.signal.removeEventListener('abort', onAbort);
      if (onFailed !== undefined) this.failed.removeEventListener('abort', onFailed);
    }
  }

  // Names what did not answer: the coordinator, a leader or the in-sync replicas a transient error
  // pointed at, else the brokers as a whole.
  private noAnswer(what: string, last: { missing: Missing; error: unknown } | undefined, coordinator: string | undefined): BrokerError {
    const missing = describeMissing(last?.missing, coordinator);
    if (missing !== undefined) {
      return new BrokerError(`no answer from ${missing} at ${this.brokers.join(',')} within ${this.timeoutMs} ms while ${what}; last error: ${messageOf(last?.error)}`, last?.error);
    }
    const several = this.brokers.length > 1;
    return new BrokerError(
      `no answer from Kafka at ${this.brokers.join(',')} within ${this.timeoutMs} ms while ${what}; `
      // Of several brokers, a dead one also hangs up: the TLS hint is for a single broker only.
      + (several ? `are the brokers running?${last === undefined ? '' : ` last error: ${messageOf(last.error)}`}`
        : this.hungUpEarly ? 'the broker hung up on the first request: is it a TLS or SASL listener (security.protocol)?' : 'is the broker running?'),
    );
  }

  /** Something was given up on while librdkafka still works on it: close() must not wait for it. */
  abandon(): void {
    this.abandoned = true;
  }

  throwIfAborted(what: string): void {
    if (this.signal.aborted) throw this.interrupted(what);
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

  private interrupted(what: string): InterruptedError {
    const reason: unknown = this.signal.reason;
    return new InterruptedError(`interrupted while ${what}`, reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
  }

  private track<T extends Closable>(client: T): T {
    this.made.push(client);
    return client;
  }
}

/** A timeout or transport failure, or an aggregate of nothing but those. */
export function isNoAnswer(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isNoAnswer);
  return typeof code === 'number' && NO_ANSWER_CODES.has(code);
}

/**
 * A committed offset as a number, or -1 for none. The client reports both "none" and 0 as null;
 * this tool only ever commits "last handled + 1" (at least 1), so null means none.
 */
export function committedOffset(offset: string | null): number {
  const value = offset === null ? -1 : Number(offset);
  return Number.isSafeInteger(value) && value >= 0 ? value : -1;
}

// librdkafka's own reports are transient states it retries itself, or failures a command reports in
// its one error line; either way they are for debugging, not for the user's screen.
function libraryLogger(seen: (message: string) => void): KafkaJS.Logger {
  const adapter: KafkaJS.Logger = {
    info: seen,
    debug: seen,
    warn: seen,
    error: seen,
    namespace: () => adapter,
    setLogLevel: () => {},
  };
  return adapter;
}
