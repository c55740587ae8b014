import { setTimeout as sleep } from 'node:timers/promises';
import { OrderWriter, decodeOrder, type Order } from '../avro/codec.js';
import { reportFor, type ProduceOptions } from '../config/flags.js';
import { BadInputError, InterruptedError, UsageError, messageOf } from '../errors.js';
import { authorizationFailure } from '../kafka/failures.js';
import type { DeliveryListener, NativeProducer } from '../kafka/native-producer.js';
import type { KafkaSession } from '../kafka/session.js';
import { InputOrders, checkLines, generatedOrders, readFailure, type BadInputLine, type InputCheck } from '../orders/order-source.js';
import { openInput, readLines } from '../read-lines.js';
import type { OrdersMetrics } from '../metrics/metrics.js';
import { registerOrderSchema } from '../registry/register-schema.js';

export interface SentOrder {
  order: Order;
  partition: number;
  offset: string;
}

export interface ProduceEvents {
  /** With --report each: one order's partition and offset. */
  sent(report: SentOrder): void;
  /** Every few thousand orders, with the number handed to the producer so far, of how many (undefined: not known, as from stdin). */
  progress(sent: number, of: number | undefined): void;
}

export interface ProduceSummary {
  requested: number;
  sent: number;
  failed: number;
  /** The seed of random orders; undefined with --input. */
  seed: number | undefined;
  /** With --input, what it read: the file, or stdin. */
  input: string | undefined;
  elapsedMs: number;
  ordersPerSecond: number;
  firstError: string | undefined;
  /** Where --input stopped before its end (a bad line from stdin, a read error): the orders before it were sent. */
  stoppedAt: BadInputLine | undefined;
}

// Orders queued between two turns of the event loop, in which reports, progress and Ctrl-C are served.
const ORDERS_PER_TURN = 1_000;
// With a report per order: reports the binding holds for JavaScript are bounded by this, not by librdkafka's queue.
const MAX_UNREPORTED = 20_000;
// One flush() call waits this long before the barrier looks at Ctrl-C and failures again.
const FLUSH_SLICE_MS = 100;
// The bad lines of a file shown one by one; the others are counted.
const BAD_LINES_SHOWN = 10;

/** Delivery reports as they come: acknowledged and failed orders, and the first failure's message. */
class Deliveries {
  acknowledged = 0;
  failed = 0;
  firstError: string | undefined;

  get settled(): number {
    return this.acknowledged + this.failed;
  }

  fail(error: unknown): void {
    this.failed++;
    this.firstError ??= messageOf(error);
  }
}

/** Produces `count` seeded orders, or the orders of --input, and waits for every delivery report. */
export async function produce(options: ProduceOptions, session: KafkaSession, events: ProduceEvents, metrics?: OrdersMetrics): Promise<ProduceSummary> {
  if (metrics !== undefined) session.statistics(STATISTICS_EVERY_MS, (json, client) => metrics.libraryStatistics(client, json));
  const { input } = options;
  const inputName = input === '-' ? 'stdin' : input;
  if (options.seedIgnored) session.logger.warn('--seed has no meaning with --input: ignored');
  // A file is checked whole before Kafka is asked anything, so a bad line sends nothing; stdin is checked as it comes.
  const checked = input === undefined || input === '-' ? undefined : await checkInput(input, options.count, session.signal);
  const total = input === undefined ? options.count : checked ?? (Number.isFinite(options.count) ? options.count : undefined);
  // With a registry, every value starts with the 5-byte header of the schema id registered here, while the topic is made.
  const [, schema] = await Promise.all([
    session.admin.ensureTopics([options.topic], options),
    options.registry === undefined ? undefined : registerOrderSchema(session, options.registry, options.topic),
  ]);
  // A report per order needs librdkafka to report successes too, with the value to say which order it was.
  const eachOrder = (options.report ?? reportFor(total)) === 'each';
  if (schema !== undefined) session.logger.info(`order schema is id ${schema.id} in the schema registry at ${options.registry?.url ?? ''}`);
  const writer = new OrderWriter(schema?.header);
  const deliveries = new Deliveries();
  const access = { operation: 'WRITE', resource: `topic ${options.topic}` } as const;
  const onDelivery: DeliveryListener = (error, report) => {
    if (error !== null) {
      deliveries.fail(error);
      const refused = authorizationFailure(error, access);
      if (refused !== undefined) session.fail(refused);
      return;
    }
    deliveries.acknowledged++;
    if (eachOrder && report.value) {
      events.sent({ order: decodeOrder(report.value.subarray(writer.prefixLength)), partition: report.partition, offset: String(report.offset) });
    }
  };
  const producer = await session.connect(session.nativeProducer(options.topic, eachOrder ? 'values' : 'errors', onDelivery), 'producer', access);
  session.logger.info(input === undefined ? `producing ${options.count} orders to ${options.topic} (seed ${options.seed})`
    : checked === undefined ? `producing the orders of stdin to ${options.topic} as they come` : `producing the ${checked} orders of ${input} to ${options.topic}`);
  // Without a report per order, what was acknowledged is what was handed over less what librdkafka still holds or failed.
  metrics?.watchProducer(() => (eachOrder ? deliveries.acknowledged : Math.max(0, requested - deliveries.failed - producer.unacknowledged)));
  metrics?.readyWhen(() => true);

  const stall = stallWatch(session, producer);
  // Ctrl-C stops sending; a failure no retry fixes (say a refused principal) stops waiting too, and so
  // does a cluster that has too few brokers to acknowledge anything.
  const stop = AbortSignal.any([session.signal, session.failed, stall.signal]);
  const source = input === undefined ? generatedOrders(options.seed) : new InputOrders(readLines(openInput(input, stop)), stop);
  // An order of --input may be old or ahead: the record is stamped when sent (0), as kcat does, or retention or the broker's time bounds would take it.
  const stamped = input === undefined;
  const started = performance.now();
  let requested = 0;
  sending: while (requested < options.count && !stop.aborted) {
    if (requested % ORDERS_PER_TURN === 0 && requested > 0) {
      events.progress(requested, total);
      await turn();
    }
    while (eachOrder && requested - deliveries.settled >= MAX_UNREPORTED && !stop.aborted) await turn();
    if (options.rate !== undefined) {
      // Waits until this order is due at `rate` per second; never sleeps when behind.
      const dueIn = started + (requested * 1000) / options.rate - performance.now();
      if (dueIn >= 1) await sleep(dueIn);
    }
    let order = source.next();
    while (order === undefined) {
      if (!(await source.more())) break sending;
      order = source.next();
    }
    const value = writer.write(order);
    // A Buffer key: a string one costs the binding a copy and an allocation per message.
    const key = writer.orderIdBytes();
    while (!producer.produce(value, key, stamped ? order.createdAt : 0)) {
      // Queue-full is librdkafka asking us to wait for deliveries, not a failure.
      if (stop.aborted) break sending;
      producer.poll();
      await sleep(1);
    }
    requested++;
  }
  source.close();
  await barrier(producer, session, options.timeoutMs, stall.signal);
  stall.stop();
  const stalledFor = stall.reason();
  if (stalledFor !== undefined) {
    // What librdkafka still holds was not acknowledged, and it keeps it: the close must not wait for it.
    session.abandon();
    deliveries.failed += producer.unacknowledged;
    deliveries.firstError = stalledFor;
  }
  session.steps.throwIfFailed();

  const elapsedMs = performance.now() - started;
  // Without a report per order librdkafka reports failures only: after the barrier the rest were acknowledged.
  const sent = eachOrder ? deliveries.acknowledged : requested - deliveries.failed;
  return {
    requested, sent, failed: deliveries.failed, seed: input === undefined ? options.seed : undefined, input: inputName, elapsedMs,
    ordersPerSecond: elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0, firstError: deliveries.firstError,
    stoppedAt: source instanceof InputOrders ? source.stoppedAt : undefined,
  };
}

/** Reads a file of orders through, up to `limit` orders; returns how many it holds, or says what is wrong with it. */
async function checkInput(path: string, limit: number, signal: AbortSignal): Promise<number> {
  let check: InputCheck;
  try {
    check = await checkLines(readLines(openInput(path, signal)), limit, BAD_LINES_SHOWN);
  } catch (error) {
    const reason: unknown = signal.reason;
    if (signal.aborted) throw new InterruptedError(`interrupted while checking ${path}; nothing was sent`, reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
    throw new UsageError(`--input ${path} cannot be read: ${readFailure(error)}`);
  }
  if (check.bad === 0) return check.orders;
  const lines = check.firstBad.map(({ line, reason }) => `${path} line ${line}: ${reason}`);
  if (check.bad > check.firstBad.length) lines.push(`... and ${check.bad - check.firstBad.length} more bad lines`);
  throw new BadInputError(lines, true);
}

/**
 * Waits until every queued order is acknowledged or failed. A fatal failure ends the wait at once;
 * after Ctrl-C it waits at most the timeout, then says the orders in flight are unconfirmed.
 */
async function barrier(producer: NativeProducer, session: KafkaSession, timeoutMs: number, stalled: AbortSignal): Promise<void> {
  let interruptedAt: number | undefined;
  while (!(await producer.flush(FLUSH_SLICE_MS))) {
    if (session.failed.aborted || stalled.aborted) return;
    if (session.signal.aborted) {
      interruptedAt ??= performance.now();
      if (performance.now() - interruptedAt >= timeoutMs) {
        const reason: unknown = session.signal.reason;
        throw new InterruptedError(`interrupted with orders in flight that Kafka at ${session.brokers.join(',')} did not confirm within ${timeoutMs} ms; some may have been written`, reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
      }
    }
  }
}

// The statistics interval librdkafka's producer has anyway (native-producer.ts); the metrics read them too.
const STATISTICS_EVERY_MS = 100;

// How often a produce with orders waiting looks at whether any was acknowledged lately.
const STALL_CHECK_MS = 1_000;

/**
 * Aborts once orders waited --timeout-ms without any acknowledgement while some brokers answer and
 * others do not: too few for acks=all (min.insync.replicas). A lone broker, or a cluster wholly away,
 * is waited for (librdkafka's own 5 minutes): that is a restart, and the orders go through after it.
 */
function stallWatch(session: KafkaSession, producer: NativeProducer): { signal: AbortSignal; reason: () => string | undefined; stop: () => void } {
  const stalled = new AbortController();
  let reason: string | undefined;
  let checking = false;
  const timer = setInterval(() => {
    if (producer.quietMs() < session.timeoutMs || checking) return;
    checking = true;
    void session.brokersDown().then((down) => {
      if (down === undefined || down.all) return;
      reason = `no acknowledgement within ${session.timeoutMs} ms; ${down.text}: acks=all needs min.insync.replicas of them in sync (NOT_ENOUGH_REPLICAS)`;
      stalled.abort();
    }).finally(() => { checking = false; });
  }, STALL_CHECK_MS);
  timer.unref();
  return { signal: stalled.signal, reason: () => reason, stop: () => clearInterval(timer) };
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
