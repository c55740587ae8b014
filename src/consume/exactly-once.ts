import { randomUUID } from 'node:crypto';
import { AggregatesGapError, messageOf } from '../errors.js';
import { restoreAggregates } from '../kafka/aggregate-store.js';
import { GROUP_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, authorizationFailure } from '../kafka/failures.js';
import { Transactions } from '../kafka/transactions.js';
import { EMPTY_AGGREGATE, addOrder, type Aggregate } from '../processing/aggregate.js';
import { decodeCommitMetadata, encodeCommitMetadata } from '../processing/commit-metadata.js';
import type { Lease } from '../processing/partition-totals.js';
import type { Outcome } from '../processing/process-record.js';
import { Dispatch } from './dispatch.js';
import { deadLetterOf, inFlight, type ConsumeMode, type ConsumeParts } from './mode.js';

// Commits follow each other as soon as something finished; this tick only catches what a failed commit left.
const COMMIT_EVERY_MS = 100;

// Retries run outside transactions, which hold only one commit: Kafka Streams' 10 s under exactly-once.
// A consumer killed mid-transaction holds its partitions' offsets back until the broker aborts it, this long at most.
const TRANSACTION_TIMEOUT_MS = 10_000;

/** The prefix of the transactional ids exactly-once consumers use: `<prefix><group>-<uuid>`. */
export const TRANSACTIONAL_ID_PREFIX = 'orders-';

/**
 * Exactly-once: as soon as orders finished (1 ms apart at the least), one transaction takes each
 * partition's unbroken run of finished orders: their dead letters and the consumed offsets, each
 * with its partition's aggregate in the offset's metadata. On assignment the aggregates are restored
 * from the committed offsets.
 */
export function exactlyOnce(parts: ConsumeParts): ConsumeMode {
  const { options, session, totals, tally } = parts;
  const source = { group: options.group, topic: options.topic };
  const transactions = new Transactions(session, `${TRANSACTIONAL_ID_PREFIX}${options.group}-${randomUUID()}`, TRANSACTION_TIMEOUT_MS);
  // Resolves to the error of a failed restore (or undefined), so a failure is never an unhandled rejection.
  let restoring: Promise<unknown> = Promise.resolve(undefined);

  // A partition's aggregate travels in its committed offset's metadata: one committed() call, whatever
  // its history. Offsets committed by orders before that have their snapshot in the aggregates topic.
  const restore = async (leases: Lease[]): Promise<void> => {
    if (leases.length === 0) return;
    const partitions = leases.map((lease) => lease.partition);
    // read_committed: an offset commit in a transaction still open is waited for, not read stale.
    const committed = await consumer.committed(options.topic, partitions, session.timeoutMs * 3);
    const aggregates = new Map<number, Aggregate>();
    const older = new Map<number, number>();
    for (const { partition, offset, metadata } of committed) {
      const decoded = offset < 0 ? undefined : decodeCommitMetadata(offset, metadata);
      if (decoded === undefined) aggregates.set(partition, EMPTY_AGGREGATE);
      // At-least-once commits carry no aggregate: as with offsets of no metadata, the aggregates topic is asked.
      else if (decoded.kind === 'ours' && decoded.state.aggregate !== undefined) aggregates.set(partition, decoded.state.aggregate);
      else older.set(partition, offset);
    }
    if (older.size > 0) {
      for (const [partition, { aggregate }] of await restoreAggregates(session, options.aggregatesTopic, source, older)) aggregates.set(partition, aggregate);
    }
    for (const lease of leases) totals.restore(lease, aggregates.get(lease.partition) ?? EMPTY_AGGREGATE);
    session.logger.info(`restored ${options.topic} partitions ${partitions.join(', ')}: ${[...aggregates].map(([partition, aggregate]) => `p${partition} count=${aggregate.count}`).join(' ')}`);
  };
  // Every partition still restoring, not only the newest assignment's: a restore under way for an
  // earlier one may fail, and its partitions must not wait for ever.
  const startRestore = (): void => {
    const leases = totals.restoring().flatMap((partition) => totals.lease(partition) ?? []);
    restoring = restore(leases).then(() => undefined, (error: unknown) => error);
  };

  // Decisions are pure functions of the record (seed, orderId, attempt): they wait here, side-effect free,
  // until a transaction commits them, and after a crash the same records are decided the same way.
  const dispatch = new Dispatch<Outcome>(parts, (_record, outcome) => outcome);

  // Waits for the restore of the current assignment; a gap is fatal, any other failure starts it again.
  const restored = async (): Promise<boolean> => {
    const failure = await restoring;
    if (failure === undefined) return true;
    if (failure instanceof AggregatesGapError) throw failure;
    startRestore();
    session.logger.warn(`could not restore the aggregates of ${options.topic}, trying again: ${messageOf(failure)}`);
    return false;
  };

  /**
   * One transaction for what finished in every partition (or in `partitions`): their dead letters and
   * the offsets after them, each with its partition's aggregate. Only once it commits are the outcomes
   * counted and shown.
   */
  const commitFinished = async (partitions?: number[]): Promise<void> => {
    if (!(await restored())) return;
    const batches = [...dispatch.finished(partitions)].flatMap(([partition, { lease, finished }]) => {
      const before = totals.aggregateOf(lease);
      if (before === undefined) return [];
      let aggregate = before;
      const after = finished.map(({ result }) => {
        if (result.kind === 'processed') aggregate = addOrder(aggregate, result.order.price);
        return aggregate;
      });
      const last = Number(finished[finished.length - 1]?.record.offset);
      return [{ partition, lease, finished, after, aggregate, last, next: last + 1 }];
    });
    if (batches.length === 0) return;
    try {
      await transactions.run(async (txn) => {
        // The offsets first: while the coordinator still ends the previous transaction it answers
        // CONCURRENT_TRANSACTIONS, which librdkafka retries after retry.backoff.ms for offsets but after a
        // fixed 20 ms for the partitions a send adds. Then the records, queued; the commit fails if any is not written.
        // Each offset carries its partition's aggregate: both commit, or neither.
        await txn.sendOffsets(batches.map(({ partition, aggregate, next }) => ({ topic: options.topic, partition, offset: next, metadata: encodeCommitMetadata(next, { aggregate, doneAbove: [] }).metadata })), consumer);
        for (const { finished } of batches) {
          for (const { record, result } of finished) if (result.kind === 'dead-letter') txn.produce(options.dlqTopic, deadLetterOf(parts, record, result));
        }
      });
    } catch (error) {
      // A refused principal stays refused: stop with the reason instead of aborting for ever.
      const refused = authorizationFailure(error, (code) => (code === TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        ? { operation: 'WRITE', resource: `transactional id ${transactions.transactionalId}` }
        : code === GROUP_AUTHORIZATION_FAILED ? { operation: 'READ', resource: `group ${options.group}` }
          : { operation: 'WRITE', resource: `topic ${options.dlqTopic}` }));
      if (refused !== undefined) session.fail(refused);
      throw error;
    }
    for (const { partition, lease, finished, after, last } of batches) {
      dispatch.committed(partition, lease, finished.length);
      parts.done.report(partition, last);
      finished.forEach(({ record, result }, index) => {
        totals.set(lease, after[index] ?? EMPTY_AGGREGATE);
        tally.record(record, result, totals.total());
      });
    }
  };
  const mode = inFlight(parts, dispatch, {
    commit: async (partitions) => {
      try {
        await commitFinished(partitions);
      } catch (error) {
        if (error instanceof AggregatesGapError) session.fail(error);
        else throw error;
      }
    },
    everyMs: COMMIT_EVERY_MS,
    eager: true,
  }, { connect: () => transactions.connect(), assigned: startRestore });
  const { consumer } = mode;

  return {
    ...mode,
    // A gap found by a restore no commit waited for must still fail the run: its totals would be wrong.
    settle: async () => {
      const failure = await restoring;
      if (failure instanceof AggregatesGapError) throw failure;
    },
  };
}
