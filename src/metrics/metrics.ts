import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { parseStatistics, type ClientStatistics } from '../kafka/statistics.js';
import type { FlightStatus } from '../processing/flight.js';
import { PlainHistogram } from './plain-histogram.js';

// From a few ms (a commit right away) to minutes (an order that waited out its backoffs behind a lag).
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;
// A transaction commits in ~5-20 ms on a healthy broker; seconds mean a coordinator moving or a broker away.
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** /healthz fails once the loop did not turn for this long: longer than the longest backoff (30 s) a full in-flight gate waits out. */
export const ALIVE_WITHIN_MS = 60_000;

/** What the hot path counts: plain numbers, read by prom-client's collect() at scrape time only. */
export interface OrderCounts {
  succeeded: number;
  deadLettered: number;
  retries: number;
  produced: number;
  replayed: number;
}

/** What a running consume shows, asked at scrape time. */
export interface ConsumerSource {
  flight(): FlightStatus;
  lag(): { topic: string; partition: number; lag: number }[];
  assigned(): number;
}

/**
 * The metrics of one command run, in a registry of its own (not prom-client's global one), and the
 * state behind /healthz and /readyz.
 */
export class OrdersMetrics {
  readonly registry = new Registry();
  readonly counts: OrderCounts = { succeeded: 0, deadLettered: 0, retries: 0, produced: 0, replayed: 0 };
  readonly latency = new PlainHistogram('orders_end_to_end_latency_seconds', 'From an order\'s createdAt to its outcome counted (exactly-once: its transaction committed)', LATENCY_BUCKETS);
  readonly commits = new PlainHistogram('orders_commit_duration_seconds', 'One commit: an offset commit (at-least-once) or a whole transaction (exactly-once)', COMMIT_BUCKETS);
  private consumer: ConsumerSource | undefined;
  private acknowledged: (() => number) | undefined;
  private producedSoFar = 0;
  private readonly clients = new Map<string, ClientStatistics>();
  private lastBeat = performance.now();
  private readiness: () => boolean = () => false;
  private stopping = false;

  constructor() {
    const registers = [this.registry];
    const { counts } = this;
    const self = this;
    new Counter({
      name: 'orders_consumed_total', help: 'Orders whose outcome is durable: folded into the totals, or dead-lettered', labelNames: ['outcome'], registers,
      collect() {
        this.reset();
        this.inc({ outcome: 'succeeded' }, counts.succeeded);
        this.inc({ outcome: 'dead_lettered' }, counts.deadLettered);
      },
    });
    const plainCounter = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    };
    plainCounter('orders_retries_total', 'Failed processing attempts that were retried', () => counts.retries);
    // Never down: the acknowledged count is estimated from librdkafka's queue, which it reports every 100 ms.
    plainCounter('orders_produced_total', 'Orders the broker acknowledged (produce)', () => {
      self.producedSoFar = Math.max(self.producedSoFar, self.acknowledged?.() ?? counts.produced);
      return self.producedSoFar;
    });
    plainCounter('orders_replayed_total', 'Dead letters sent back to their topic (dlq-replay)', () => counts.replayed);
    const plainGauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    };
    plainGauge('orders_in_flight', 'Orders being processed now, retries included', () => self.consumer?.flight().inFlight ?? 0);
    plainGauge('orders_backing_off', 'Orders in flight waiting out a retry\'s backoff', () => self.consumer?.flight().backingOff ?? 0);
    plainGauge('orders_assigned_partitions', 'Partitions of the topic assigned to this consumer', () => self.consumer?.assigned() ?? 0);
    new Gauge({
      name: 'orders_consumer_lag', help: 'Records between the group\'s committed offset and the end of the partition (the last stable offset, where read_committed stops), per assigned partition', labelNames: ['topic', 'partition'], registers,
      collect() {
        this.reset();
        for (const { topic, partition, lag } of self.consumer?.lag() ?? []) this.set({ topic, partition }, lag);
      },
    });
    this.registry.registerMetric(this.latency.asMetric());
    this.registry.registerMetric(this.commits.asMetric());
    this.libraryMetrics(registers);
    collectDefaultMetrics({ register: this.registry });
    // Gauges named *_total fail `promtool check metrics`; each is the sum of the per-type gauge kept beside it.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
  }

  // librdkafka's statistics as the last callback gave them; a figure it did not report (-1) is left out.
  private libraryMetrics(registers: Registry[]): void {
    const clients = this.clients;
    const perBroker = (name: string, help: string, read: (broker: ClientStatistics['brokers'][number]) => number): void => {
      new Gauge({
        name, help, labelNames: ['client', 'broker'], registers,
        collect() {
          this.reset();
          for (const [client, statistics] of clients) {
            for (const broker of statistics.brokers) {
              const value = read(broker);
              if (value >= 0) this.set({ client, broker: broker.name }, value);
            }
          }
        },
      });
    };
    perBroker('orders_kafka_broker_rtt_seconds', 'librdkafka: average round trip of requests to the broker over the last statistics window', (b) => b.rttAvgSeconds);
    perBroker('orders_kafka_broker_rtt_p99_seconds', 'librdkafka: 99th percentile round trip to the broker over the last statistics window', (b) => b.rttP99Seconds);
    perBroker('orders_kafka_broker_outbuf_requests', 'librdkafka: requests waiting to be sent to the broker', (b) => b.outbufCount);
    perBroker('orders_kafka_broker_waitresp_requests', 'librdkafka: requests sent to the broker, waiting for its answer', (b) => b.waitrespCount);
    perBroker('orders_kafka_broker_up', 'librdkafka: 1 while the connection to the broker is UP', (b) => (b.state === 'UP' ? 1 : 0));
    const perClient = (name: string, help: string, read: (statistics: ClientStatistics) => number): void => {
      new Gauge({
        name, help, labelNames: ['client'], registers,
        collect() {
          this.reset();
          for (const [client, statistics] of clients) {
            const value = read(statistics);
            if (value >= 0) this.set({ client }, value);
          }
        },
      });
    };
    perClient('orders_kafka_reply_queue', 'librdkafka: operations (callbacks, events) waiting for the application to serve them', (s) => s.replyq);
    perClient('orders_kafka_producer_queue_messages', 'librdkafka: messages queued or awaiting acknowledgement (producers)', (s) => (s.type === 'producer' ? s.msgCount : -1));
    perClient('orders_kafka_fetch_queue_messages', 'librdkafka: messages fetched and waiting in the consumer\'s queue, over its partitions', (s) =>
      (s.type === 'consumer' ? s.partitions.reduce((sum, p) => sum + Math.max(0, p.fetchqCount), 0) : -1));
  }

  /** What consume shows at scrape time. */
  watchConsumer(source: ConsumerSource): void {
    this.consumer = source;
  }

  /** How many orders a running produce had acknowledged, asked at scrape time. */
  watchProducer(acknowledged: () => number): void {
    this.acknowledged = acknowledged;
  }

  /** librdkafka's statistics JSON of one client, for its broker and queue figures. */
  libraryStatistics(client: string, json: string): void {
    const statistics = parseStatistics(json);
    if (statistics !== undefined) this.clients.set(client, statistics);
  }

  /** The latest statistics of one client ("consumer", "producer", ...). */
  statistics(client: string, statistics: ClientStatistics): void {
    this.clients.set(client, statistics);
  }

  /** The loop turned: /healthz stays 200 while this happens at least every ALIVE_WITHIN_MS. */
  beat(): void {
    this.lastBeat = performance.now();
  }

  alive(now = performance.now()): boolean {
    return now - this.lastBeat < ALIVE_WITHIN_MS;
  }

  /** /readyz is 200 while `ready` says so and the command is not stopping. */
  readyWhen(ready: () => boolean): void {
    this.readiness = ready;
  }

  ready(): boolean {
    return !this.stopping && this.readiness();
  }

  /** SIGTERM, Ctrl-C or the end: /readyz answers 503 from now on. */
  stop(): void {
    this.stopping = true;
  }

  /** The Prometheus text exposition. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
