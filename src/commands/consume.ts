import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { Order } from '../avro/codec.js';
import type { ConsumeOptions } from '../config.js';
import { BrokerError, SimulatedFailure, messageOf } from '../errors.js';
import { restoreSnapshots } from '../kafka/aggregate-store.js';
import { committedOffset, disconnectAll, ensureTopics, withinTimeout, type Consumer, type KafkaClients, type Producer } from '../kafka/client.js';
import { oneByOne, readTopic, type BatchHandler } from '../kafka/reader.js';
import { Transactions } from '../kafka/transactions.js';
import type { Logger } from '../logger.js';
import { EMPTY_AGGREGATE, addOrder, sumAggregates, type Aggregate } from '../processing/aggregate.js';
import { deadLetter, type DeadLetterReason, type SourceRecord } from '../processing/dlq.js';
import { processRecord, type Outcome, type ProcessSteps } from '../processing/process-record.js';
import { worstCaseBackoffMs, type RetryPolicy } from '../processing/retry.js';
import { failsAttempt } from '../processing/simulated-failure.js';
import { encodeSnapshot, snapshotKey } from '../processing/snapshot.js';

export interface ProcessedOrder {
  order: Order;
  partition: number;
  offset: string;
  attempts: number;
  /** Over the partitions this consumer owns. */
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
  /** Over the partitions this consumer owned at the end, including what earlier runs folded in (exactly-once). */
  aggregate: Aggregate;
  seed: number;
}

const MAX_BACKOFF_MS = 30_000;
// A transaction stays open while its batch is processed; keep batches short so it commits well in time.
const BATCH_BUDGET_MS = 1_000;
const RETRY_BATCH_PAUSE_MS = 500;
// At-least-once: offsets of handled records are committed in the background this often, and on
// shutdown; a commit after every batch swamped the group coordinator at 10,000 orders/s.
const AT_LEAST_ONCE_COMMIT_MS = 1_000;
const { ERR__ASSIGN_PARTITIONS } = kafkaJavascript.CODES.ERRORS;

/**
 * Consumes orders. Exactly-once: each batch is one transaction holding its dead letters, a snapshot of
 * its partition's aggregate and the consumed offsets. At-least-once: an offset is committed only after
 * its order was aggregated or its dead letter acknowledged.
 */
export async function consume(options: ConsumeOptions, deps: ConsumeDeps, signal: AbortSignal): Promise<ConsumeSummary> {
  const { clients, logger, events } = deps;
  const exactlyOnce = options.guarantee === 'exactly-once';
  const policy: RetryPolicy = { retries: options.retries, backoffMs: options.backoffMs, maxBackoffMs: MAX_BACKOFF_MS };
  const summary: ConsumeSummary = { processed: 0, succeeded: 0, deadLettered: 0, aggregate: EMPTY_AGGREGATE, seed: options.seed };
  // The aggregate of each owned partition.
  const owned = new Map<number, Aggregate>();
  let assigned: number[] = [];
  // Resolves to the error of a failed restore (or undefined), so a failure is never an unhandled rejection.
  let restoring: Promise<unknown> = Promise.resolve(undefined);
  const startRestore = (partitions: number[]): void => {
    restoring = restore(partitions).then(() => undefined, (error: unknown) => error);
  };

  const admin = clients.admin();
  const transactions = exactlyOnce
    ? new Transactions(clients, `orders-${options.group}-${randomUUID()}`, BATCH_BUDGET_MS + worstCaseBackoffMs(policy) + clients.timeoutMs, logger)
    : undefined;
  const producer = exactlyOnce ? undefined : clients.producer();
  const consumer: Consumer = clients.consumer(options.group, {
    // Measured on 300,000 orders: 500 per batch took 6.9 s (one transaction each), 10,000 took 3.5 s.
    'js.consumer.max.batch.size': 10_000,
    // Runs on every assignment: forget the old partitions' state and restore the new ones'.
    rebalance_cb: (error: { code: number }, assignment: { topic: string; partition: number }[]) => {
      if (error.code !== ERR__ASSIGN_PARTITIONS) return;
      assigned = assignment.filter((tp) => tp.topic === options.topic).map((tp) => tp.partition);
      owned.clear();
      startRestore(assigned);
    },
  }, exactlyOnce ? undefined : AT_LEAST_ONCE_COMMIT_MS);

  const restore = async (partitions: number[]): Promise<void> => {
    // At-least-once keeps no snapshots: its partitions start from nothing.
    if (partitions.length === 0 || !exactlyOnce) return;
    const committed = await consumer.committed(partitions.map((partition) => ({ topic: options.topic, partition })), clients.timeoutMs * 3);
    const offsets = new Map(committed.map((entry) => [entry.partition, committedOffset(entry.offset ?? null)]));
    const snapshots = await restoreSnapshots(clients, options.aggregatesTopic, { group: options.group, topic: options.topic }, offsets, logger, signal);
    for (const partition of partitions) {
      const snapshot = snapshots.get(partition);
      owned.set(partition, snapshot?.aggregate ?? EMPTY_AGGREGATE);
    }
    logger.info(`restored ${options.topic} partitions ${partitions.join(', ')}: ${[...snapshots.values()].map((s) => `p${s.partition} count=${s.aggregate.count}`).join(' ') || 'nothing folded yet'}`);
  };

  const ownedTotal = (): Aggregate => sumAggregates(owned.values());

  const steps = (record: SourceRecord): ProcessSteps => ({
    policy,
    process: (order, attempt) => {
      if (failsAttempt(options.seed, order.orderId, attempt, options.failRate)) throw new SimulatedFailure(order.orderId, attempt);
    },
    retrying: ({ orderId, attempt, delayMs, error }) =>
      events.retrying({ orderId, partition: record.partition, offset: record.offset, attempt, delayMs, errorMessage: messageOf(error) }),
    sleep: (ms) => sleep(ms),
  });

  const sendDeadLetter = async (sender: Producer, record: SourceRecord, outcome: Outcome & { kind: 'dead-letter' }): Promise<void> => {
    const letter = deadLetter(record, { group: options.group, attempts: outcome.attempts, reason: outcome.reason, errorMessage: messageOf(outcome.error), failedAt: new Date() });
    await sender.send({ topic: options.dlqTopic, messages: [letter] });
  };

  // Counts an outcome and tells the terminal; called only once the outcome is durable.
  const report = (record: SourceRecord, outcome: Outcome): void => {
    summary.processed++;
    if (outcome.kind === 'processed') {
      summary.succeeded++;
      const { order, attempts } = outcome;
      events.processed({ order, partition: record.partition, offset: record.offset, attempts, aggregate: ownedTotal(), latencyMs: Date.now() - order.createdAt });
    } else {
      summary.deadLettered++;
      events.deadLettered({ orderId: outcome.orderId, partition: record.partition, offset: record.offset, reason: outcome.reason, attempts: outcome.attempts, errorMessage: messageOf(outcome.error) });
    }
  };

  // Waits for the restore of the current assignment; a failed one is started again and fails this batch.
  const restored = async (): Promise<void> => {
    const failure = await restoring;
    if (failure !== undefined) {
      startRestore(assigned);
      throw new BrokerError(`could not restore the aggregates of ${options.topic} partitions ${assigned.join(', ')}: ${messageOf(failure)}`, failure);
    }
  };

  const atLeastOnce = async (record: SourceRecord): Promise<void> => {
    await restored();
    const outcome = await processRecord(record.value, steps(record));
    if (outcome.kind === 'dead-letter') await sendDeadLetter(producer as Producer, record, outcome);
    // Read after the awaits: partitions are processed concurrently and a rebalance may have come between.
    else owned.set(record.partition, addOrder(owned.get(record.partition) ?? EMPTY_AGGREGATE, outcome.order.price));
    report(record, outcome);
  };

  const inTransaction: BatchHandler = async (records, stopping) => {
    const first = records[0];
    if (first === undefined || transactions === undefined) return 0;
    const started = Date.now();
    // Each handled record with its outcome and the partition's aggregate after it.
    const done: [SourceRecord, Outcome, Aggregate][] = [];
    try {
      await restored();
      let aggregate = owned.get(first.partition) ?? EMPTY_AGGREGATE;
      const committed = await transactions.run(async (txn) => {
        // Dead letters need not be acknowledged one by one: the commit waits for all of them.
        // Each failure is caught at once (an abort purges the others), so none goes unhandled while we work.
        const sends: Promise<void>[] = [];
        let sendFailure: unknown;
        for (const record of records) {
          if (stopping() || (done.length > 0 && Date.now() - started > BATCH_BUDGET_MS)) break;
          const outcome = await processRecord(record.value, steps(record));
          if (outcome.kind === 'dead-letter') sends.push(sendDeadLetter(txn, record, outcome).catch((error: unknown) => { sendFailure ??= error; }));
          else aggregate = addOrder(aggregate, outcome.order.price);
          done.push([record, outcome, aggregate]);
        }
        await Promise.all(sends);
        if (sendFailure !== undefined) throw sendFailure;
        const last = done[done.length - 1]?.[0];
        if (last === undefined) return false;
        const snapshot = { group: options.group, topic: options.topic, partition: first.partition, aggregate, offset: Number(last.offset) };
        await txn.send({ topic: options.aggregatesTopic, messages: [{ key: snapshotKey(options.group, options.topic, first.partition), value: encodeSnapshot(snapshot) }] });
        await txn.sendOffsets({ consumer, topics: [{ topic: options.topic, partitions: [{ partition: first.partition, offset: String(snapshot.offset + 1) }] }] });
        return true;
      });
      if (!committed) return 0;
      // Committed: only now does the outcome count, and only now is it shown.
      for (const [record, outcome, after] of done) {
        owned.set(first.partition, after);
        report(record, outcome);
      }
      return done.length;
    } catch (error) {
      logger.warn(`transaction for ${options.topic}/${first.partition} from offset ${first.offset} aborted, reading it again: ${messageOf(error)}`);
      await sleep(RETRY_BATCH_PAUSE_MS);
      return 0;
    }
  };

  try {
    await ensureTopics(clients, admin, [options.topic, options.dlqTopic, { topic: options.aggregatesTopic, compacted: true }], options.partitions);
    if (transactions !== undefined) await transactions.connect();
    if (producer !== undefined) await withinTimeout(clients, 'connecting the dead-letter producer', producer.connect());
    logger.info(`consuming ${options.topic} as group ${options.group}, ${options.guarantee} (fail-rate ${options.failRate}, retries ${options.retries}, seed ${options.seed})`);
    await readTopic(
      clients, admin, consumer,
      // One transaction at a time: partitions take turns, each batch in order.
      { topic: options.topic, commit: false, exitAtEnd: options.exitAtEnd, ...(exactlyOnce ? { concurrency: 1 } : {}) },
      exactlyOnce ? inTransaction : oneByOne(atLeastOnce, logger),
      logger, signal,
    );
    await restoring;
    summary.aggregate = ownedTotal();
    return summary;
  } finally {
    await disconnectAll(logger, consumer, producer, transactions, admin);
  }
}
