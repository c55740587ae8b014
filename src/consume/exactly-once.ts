import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BATCH_BUDGET_MS, transactionTimeoutMs } from '../config.js';
import { AggregatesGapError, BrokerError, messageOf } from '../errors.js';
import { restoreAggregates } from '../kafka/aggregate-store.js';
import { GROUP_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, authorizationFailure } from '../kafka/failures.js';
import type { BatchHandler } from '../kafka/reader.js';
import type { SourceRecord } from '../kafka/record.js';
import { committedOffset } from '../kafka/session.js';
import { Transactions } from '../kafka/transactions.js';
import { EMPTY_AGGREGATE, addOrder, type Aggregate } from '../processing/aggregate.js';
import type { Lease } from '../processing/partition-totals.js';
import type { Outcome } from '../processing/process-record.js';
import { encodeSnapshot, snapshotKey } from '../processing/snapshot.js';
import { deadLetterOf, followRebalances, processOrder, type ConsumeMode, type ConsumeParts } from './mode.js';

const RETRY_BATCH_PAUSE_MS = 500;

/** The prefix of the transactional ids exactly-once consumers use: `<prefix><group>-<uuid>`. */
export const TRANSACTIONAL_ID_PREFIX = 'orders-';

/**
 * Exactly-once: each batch of one partition is one transaction holding its dead letters, a snapshot of
 * that partition's aggregate and the consumed offsets. On assignment the aggregates are restored from
 * the snapshots that match the committed offsets.
 */
export function exactlyOnce(parts: ConsumeParts): ConsumeMode {
  const { options, session, totals, tally } = parts;
  const source = { group: options.group, topic: options.topic };
  const transactions = new Transactions(session, `${TRANSACTIONAL_ID_PREFIX}${options.group}-${randomUUID()}`, transactionTimeoutMs(options));
  // Resolves to the error of a failed restore (or undefined), so a failure is never an unhandled rejection.
  let restoring: Promise<unknown> = Promise.resolve(undefined);

  const restore = async (leases: Lease[]): Promise<void> => {
    if (leases.length === 0) return;
    const partitions = leases.map((lease) => lease.partition);
    const committed = await consumer.committed(partitions.map((partition) => ({ topic: options.topic, partition })), session.timeoutMs * 3);
    const offsets = new Map(committed.map((entry) => [entry.partition, committedOffset(entry.offset ?? null)]));
    const aggregates = await restoreAggregates(session, options.aggregatesTopic, source, offsets);
    for (const lease of leases) totals.restore(lease, aggregates.get(lease.partition) ?? EMPTY_AGGREGATE);
    session.logger.info(`restored ${options.topic} partitions ${partitions.join(', ')}: ${[...aggregates].map(([partition, aggregate]) => `p${partition} count=${aggregate.count}`).join(' ')}`);
  };
  const startRestore = (partitions: number[]): void => {
    const leases = partitions.flatMap((partition) => totals.lease(partition) ?? []);
    restoring = restore(leases).then(() => undefined, (error: unknown) => error);
  };

  const consumer = session.consumer(options.group, {
    // Measured on 300,000 orders: 500 per batch took 6.9 s (one transaction each), 10,000 took 3.5 s.
    'js.consumer.max.batch.size': 10_000,
    ...followRebalances(parts, startRestore),
  });

  // Waits for the restore of the current assignment; a gap is fatal, any other failure is retried with the next batch.
  const restored = async (): Promise<void> => {
    const failure = await restoring;
    if (failure === undefined || failure instanceof AggregatesGapError) {
      if (failure !== undefined) throw failure;
      return;
    }
    startRestore(totals.restoring());
    throw new BrokerError(`could not restore the aggregates of ${options.topic}: ${messageOf(failure)}`, failure);
  };

  const handle: BatchHandler = async (records, stopping) => {
    const first = records[0];
    if (first === undefined) return 0;
    const started = Date.now();
    // Each handled record with its outcome and the partition's aggregate after it.
    const done: [SourceRecord, Outcome, Aggregate][] = [];
    try {
      await restored();
      const lease = totals.lease(first.partition);
      const before = lease === undefined ? undefined : totals.aggregateOf(lease);
      // Revoked, or not restored yet: the batch is read again by whoever owns it.
      if (lease === undefined || before === undefined) return 0;
      let aggregate = before;
      const committed = await transactions.run(async (txn) => {
        // Dead letters need not be acknowledged one by one: the commit waits for all of them.
        // Each failure is caught at once (an abort purges the others), so none goes unhandled while we work.
        const sends: Promise<void>[] = [];
        let sendFailure: unknown;
        for (const record of records) {
          if (stopping() || (done.length > 0 && Date.now() - started > BATCH_BUDGET_MS)) break;
          const outcome = await processOrder(parts, record);
          if (outcome.kind === 'dead-letter') {
            sends.push(txn.send({ topic: options.dlqTopic, messages: [deadLetterOf(parts, record, outcome)] }).then(() => undefined, (error: unknown) => { sendFailure ??= error; }));
          } else {
            aggregate = addOrder(aggregate, outcome.order.price);
          }
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
        totals.set(lease, after);
        tally.record(record, outcome, totals.total());
      }
      return done.length;
    } catch (error) {
      if (error instanceof AggregatesGapError) throw error;
      // A refused principal stays refused: stop with the reason instead of aborting the batch for ever.
      const refused = authorizationFailure(error, (code) => (code === TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        ? { operation: 'WRITE', resource: `transactional id ${transactions.transactionalId}` }
        : code === GROUP_AUTHORIZATION_FAILED ? { operation: 'READ', resource: `group ${options.group}` }
          : { operation: 'WRITE', resource: `topics ${options.dlqTopic}, ${options.aggregatesTopic}` }));
      if (refused !== undefined) throw refused;
      if (stopping()) return 0;
      session.logger.warn(`transaction for ${options.topic}/${first.partition} from offset ${first.offset} aborted, reading it again: ${messageOf(error)}`);
      await sleep(RETRY_BATCH_PAUSE_MS);
      return 0;
    }
  };

  return {
    consumer,
    // One transaction at a time: partitions take turns, each batch in order.
    concurrency: 1,
    start: () => transactions.connect(),
    handle,
    // A gap found by a restore no batch waited for must still fail the run: its totals would be wrong.
    settle: async () => {
      const failure = await restoring;
      if (failure instanceof AggregatesGapError) throw failure;
    },
  };
}
