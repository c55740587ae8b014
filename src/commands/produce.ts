import { setTimeout as sleep } from 'node:timers/promises';
import { OrderWriter, decodeOrder, type Order } from '../avro/codec.js';
import { reportFor, type ProduceOptions } from '../config/flags.js';
import { BadInputError, InterruptedError, UsageError, messageOf } from '../errors.js';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { authorizationFailure } from '../kafka/failures.js';
import type { DeliveryListener, NativeProducer } from '../kafka/producer/native-producer.js';
import { ProduceAnswers, describeAnswer } from '../kafka/producer/produce-answers.js';
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
  /** Acknowledged by the broker (acks=all): written. */
  sent: number;
  /** Not acknowledged: refused + unknown. */
  failed: number;
  /** Refused with a definite error (not authorized, too large, no such topic): not written. */
  refused: number;
  /** No answer before the command gave up (timed out, or left in flight): they may have been written. */
  unknown: number;
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

const {
  ERR__MSG_TIMED_OUT, ERR__PURGE_QUEUE, ERR__PURGE_INFLIGHT, ERR__TIMED_OUT, ERR__TRANSPORT, ERR_REQUEST_TIMED_OUT, ERR_NETWORK_EXCEPTION,
  ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
} = kafkaJavascript.CODES.ERRORS;
// Delivery errors after which the order may be in the topic: no answer came, or the broker wrote it but too
// few replicas have it (librdkafka's MsgPossiblyPersisted). Any other error is a refusal: not written.
const NO_ANSWER = new Set<number>([
  ERR__MSG_TIMED_OUT, ERR__PURGE_QUEUE, ERR__PURGE_INFLIGHT, ERR__TIMED_OUT, ERR__TRANSPORT, ERR_REQUEST_TIMED_OUT, ERR_NETWORK_EXCEPTION,
  ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
]);

/** Delivery reports as they come: acknowledged, refused and unanswered orders, and the first failure's message. */
class Deliveries {
  acknowledged = 0;
  refused = 0;
  unknown = 0;
  firstError: string | undefined;

  get failed(): number {
    return this.refused + this.unknown;
  }

  get settled(): number {
    return this.acknowledged + this.failed;
  }

  /** A failed delivery report: refused, or timed out with no answer; returns whether it was a refusal. */
  fail(error: { code?: unknown; message: string }, timedOut: () => string): boolean {
    const noAnswer = typeof error.code === 'number' && NO_ANSWER.has(error.code);
    if (noAnswer) this.unknown++;
    else this.refused++;
    this.firstError ??= error.code === ERR__MSG_TIMED_OUT ? timedOut() : messageOf(error);
    return !noAnswer;
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
  const answers = new ProduceAnswers();
  // A refusal no retry fixes stops the sending at once; what is in flight still gets its answer.
  const refusal = new AbortController();
  const access = { operation: 'WRITE', resource: `topic ${options.topic}` } as const;
  const deliveryTimeoutMs = session.deliveryTimeoutMs;
  const timedOut = (): string => {
    const last = answers.last();
    return `no acknowledgement within the delivery timeout (message.timeout.ms ${deliveryTimeoutMs})${last === undefined ? '' : `; last answer: ${describeAnswer(last)}`}`;
  };
  const onDelivery: DeliveryListener = (error, report) => {
    if (error !== null) {
      if (deliveries.fail(error, timedOut)) refusal.abort();
      const refused = authorizationFailure(error, access);
      if (refused !== undefined) session.fail(refused);
      return;
    }
    deliveries.acknowledged++;
    if (eachOrder && report.value) {
      events.sent({ order: decodeOrder(report.value.subarray(writer.prefixLength)), partition: report.partition, offset: String(report.offset) });
    }
  };
  const producer = await session.connect(session.nativeProducer(options.topic, eachOrder ? 'values' : 'errors', onDelivery, (line) => answers.seen(line)), 'producer', access);
  session.logger.info(input === undefined ? `producing ${options.count} orders to ${options.topic} (seed ${options.seed})`
    : checked === undefined ? `producing the orders of stdin to ${options.topic} as they come` : `producing the ${checked} orders of ${input} to ${options.topic}`);
  // Without a report per order, what was acknowledged is what was handed over less what librdkafka still holds or failed.
  metrics?.watchProducer(() => (eachOrder ? deliveries.acknowledged : Math.max(0, requested - deliveries.failed - producer.unacknowledged)));
  metrics?.readyWhen(() => true);

  const stall = stallWatch(answers, session.timeoutMs, () => producer.idempotenceState === 'Assigned');
  // Ctrl-C stops sending; so does a refusal; a refused principal stops waiting too, and so does a
  // partition leader that kept answering an error a new leader would not cure (NOT_ENOUGH_REPLICAS).
  const stop = AbortSignal.any([session.signal, session.failed, stall.signal, refusal.signal]);
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
    // What librdkafka still holds got no answer, and it keeps it: the close must not wait for it. A
    // request of it may have reached the broker before: unknown, not refused.
    session.abandon();
    const left = eachOrder ? requested - deliveries.settled : producer.unacknowledged;
    if (stall.unsent()) deliveries.refused += left;
    else deliveries.unknown += left;
    deliveries.firstError = stalledFor;
  }
  const unwritten = answers.ackedUnwritten();
  if (unwritten !== undefined) {
    // librdkafka reported them delivered (each mode counted them so): they are unknown, not acknowledged.
    if (eachOrder) deliveries.acknowledged -= unwritten.count;
    deliveries.unknown += unwritten.count;
    const why = `librdkafka reported ${unwritten.count} order(s) to ${unwritten.partitions.join(', ')} delivered after the broker refused them unwritten (a later request of the partition succeeded under a new leader)`;
    deliveries.firstError = deliveries.firstError === undefined ? why : `${deliveries.firstError}; and ${why}`;
  }
  session.steps.throwIfFailed();

  const elapsedMs = performance.now() - started;
  // Without a report per order librdkafka reports failures only: after the barrier the rest were acknowledged.
  const sent = eachOrder ? deliveries.acknowledged : requested - deliveries.failed;
  return {
    requested, sent, failed: deliveries.failed, refused: deliveries.refused, unknown: deliveries.unknown, seed: input === undefined ? options.seed : undefined, input: inputName, elapsedMs,
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

// How often a produce with orders waiting looks at what the partition leaders answered.
const STALL_CHECK_MS = 250;

/**
 * Aborts once a partition leader has answered every request for --timeout-ms with an error a new
 * leader does not cure (NOT_ENOUGH_REPLICAS: fewer in-sync replicas than min.insync.replicas). A
 * leader moving, a controller election, a broker restart (timeouts, refused connections) are what
 * Kafka is doing: waited out up to the delivery timeout, librdkafka's message.timeout.ms.
 */
function stallWatch(answers: ProduceAnswers, timeoutMs: number, hasProducerId: () => boolean): { signal: AbortSignal; reason: () => string | undefined; unsent: () => boolean; stop: () => void } {
  const stalled = new AbortController();
  let reason: string | undefined;
  let unsent = false;
  const timer = setInterval(() => {
    if (stalled.signal.aborted) return;
    // Without a producer id librdkafka sends nothing: a cluster that cannot give one (its controller
    // quorum gone) refuses every order, for certain.
    const noId = answers.producerIdRefused(timeoutMs, hasProducerId());
    const answer = answers.persisting(timeoutMs);
    if (noId !== undefined) {
      reason = `${noId} (--timeout-ms ${timeoutMs})`;
      unsent = true;
    } else if (answer !== undefined) {
      reason = `${describeAnswer(answer)} to every request for ${Math.round(performance.now() - answer.failingSince)} ms (--timeout-ms ${timeoutMs})`;
    } else {
      return;
    }
    stalled.abort();
  }, STALL_CHECK_MS);
  timer.unref();
  return { signal: stalled.signal, reason: () => reason, unsent: () => unsent, stop: () => clearInterval(timer) };
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
