import { setTimeout as sleep } from 'node:timers/promises';
import { decodeOrder, type Order } from '../avro/codec.js';
import type { ConsumeOptions } from '../config.js';
import { SimulatedFailure, messageOf } from '../errors.js';
import { disconnectAll, ensureTopics, withinTimeout, type KafkaClients } from '../kafka/client.js';
import { readTopic } from '../kafka/reader.js';
import type { Logger } from '../logger.js';
import { EMPTY_AGGREGATE, addOrder, type Aggregate } from '../processing/aggregate.js';
import { deadLetter, type DeadLetterReason, type SourceRecord } from '../processing/dlq.js';
import { decideRetry, type RetryPolicy } from '../processing/retry.js';
import { failsAttempt } from '../processing/simulated-failure.js';

export interface ProcessedOrder {
  order: Order;
  partition: number;
  offset: string;
  attempts: number;
  aggregate: Aggregate;
  /** From the order's createdAt to the end of its processing. */
  latencyMs: number;
}

export interface RetryNotice {
  orderId: string;
  partition: number;
  offset: string;
  attempt: number;
  delayMs: number;
  errorMessage: string;
}

export interface DeadLetteredOrder {
  orderId: string | null;
  partition: number;
  offset: string;
  reason: DeadLetterReason;
  attempts: number;
  errorMessage: string;
  dlqPartition: number;
  dlqOffset: string;
}

export interface ConsumeEvents {
  processed(result: ProcessedOrder): void;
  retrying(notice: RetryNotice): void;
  deadLettered(result: DeadLetteredOrder): void;
}

export interface ConsumeDeps {
  clients: KafkaClients;
  logger: Logger;
  events: ConsumeEvents;
}

export interface ConsumeSummary {
  processed: number;
  succeeded: number;
  deadLettered: number;
  aggregate: Aggregate;
  seed: number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Consumes orders at least once: a record's offset is committed only after it was aggregated
 * or its dead letter was acknowledged by the broker.
 */
export async function consume(options: ConsumeOptions, deps: ConsumeDeps, signal: AbortSignal): Promise<ConsumeSummary> {
  const { clients, logger, events } = deps;
  const policy: RetryPolicy = { retries: options.retries, backoffMs: options.backoffMs, maxBackoffMs: MAX_BACKOFF_MS };
  const admin = clients.admin();
  const producer = clients.producer();
  const consumer = clients.consumer(options.group, { 'js.consumer.max.batch.size': 256 });
  const summary: ConsumeSummary = { processed: 0, succeeded: 0, deadLettered: 0, aggregate: EMPTY_AGGREGATE, seed: options.seed };

  const sendToDlq = async (record: SourceRecord, orderId: string | null, attempts: number, reason: DeadLetterReason, error: unknown): Promise<void> => {
    const errorMessage = messageOf(error);
    const letter = deadLetter(record, { group: options.group, attempts, reason, errorMessage, failedAt: new Date() });
    const [report] = await producer.send({ topic: options.dlqTopic, messages: [letter] });
    summary.processed++;
    summary.deadLettered++;
    events.deadLettered({
      orderId, partition: record.partition, offset: record.offset, reason, attempts, errorMessage,
      dlqPartition: report?.partition ?? -1, dlqOffset: report?.baseOffset ?? '-1',
    });
  };

  const handle = async (record: SourceRecord): Promise<void> => {
    let order: Order;
    try {
      order = decodeOrder(record.value);
    } catch (error) {
      return sendToDlq(record, null, 1, 'undecodable', error);
    }
    for (let attempt = 1; ; attempt++) {
      const failure = processOrder(order, attempt);
      if (failure === undefined) {
        summary.aggregate = addOrder(summary.aggregate, order.price);
        summary.processed++;
        summary.succeeded++;
        events.processed({ order, partition: record.partition, offset: record.offset, attempts: attempt, aggregate: summary.aggregate, latencyMs: Date.now() - order.createdAt });
        return;
      }
      const decision = decideRetry(policy, failure, attempt);
      if (decision.action === 'dead-letter') return sendToDlq(record, order.orderId, attempt, decision.reason, failure);
      events.retrying({ orderId: order.orderId, partition: record.partition, offset: record.offset, attempt, delayMs: decision.delayMs, errorMessage: messageOf(failure) });
      await sleep(decision.delayMs);
    }
  };

  // The business step; here only the simulated failure. Returns what went wrong, so nothing else is caught with it.
  const processOrder = (order: Order, attempt: number): unknown => {
    try {
      if (failsAttempt(options.seed, order.orderId, attempt, options.failRate)) throw new SimulatedFailure(order.orderId, attempt);
      return undefined;
    } catch (error) {
      return error;
    }
  };

  try {
    await ensureTopics(clients, admin, [options.topic, options.dlqTopic], options.partitions);
    await withinTimeout(clients, 'connecting the dead-letter producer', producer.connect());
    logger.info(`consuming ${options.topic} as group ${options.group} (fail-rate ${options.failRate}, retries ${options.retries}, seed ${options.seed})`);
    await readTopic(clients, admin, consumer, { topic: options.topic, commit: true, exitAtEnd: options.exitAtEnd }, handle, logger, signal);
    return summary;
  } finally {
    await disconnectAll(logger, consumer, producer, admin);
  }
}
