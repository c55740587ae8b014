import { randomUUID } from 'node:crypto';
import { restoreAggregates } from '../kafka/consumer/aggregate-store.js';
import { GROUP_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, authorizationFailure } from '../kafka/failures.js';
import { Transactions } from '../kafka/producer/transactions.js';
import { EMPTY_AGGREGATE, addOrder, type Aggregate } from '../processing/aggregate.js';
import { decodeCommitMetadata, type CommitState } from '../processing/commit-metadata.js';
import type { SourceRecord } from '../kafka/record.js';
import type { Outcome } from '../processing/process-record.js';
import { Dispatch, type PlannedCommit } from './dispatch.js';
import { dispatchNeeds, inFlight, type ConsumeMode, type ConsumeParts } from './mode.js';
import { MetadataFit, offsetCommits, type OffsetCommit } from './offset-commits.js';
import { deadLetterOf } from './process-order.js';
import type { RestoreWork } from './restores.js';

// Commits follow each other as soon as something finished; this tick only catches what a failed commit left.
const COMMIT_EVERY_MS = 100;

// Retries run outside transactions, which hold only one commit: Kafka Streams' 10 s under exactly-once.
// A consumer killed mid-transaction holds its partitions' offsets back until the broker aborts it, this long at most.
const TRANSACTION_TIMEOUT_MS = 10_000;

/** What a decided record keeps until its transaction commits: its outcome, and a dead letter's record. */
type Decided = Exclude<Outcome, { kind: 'dead-letter' }> | (Outcome & { kind: 'dead-letter'; record: SourceRecord });

/** The prefix of the transactional ids exactly-once consumers use: `<prefix><group>-<instance id or uuid>`. */
export const TRANSACTIONAL_ID_PREFIX = 'orders-';

/**
 * With --instance-id, the same id across restarts: the restart's initTransactions fences its
 * predecessor and aborts its open transaction at once, where a fresh id leaves it to the broker's
 * transaction timeout (10 s, then up to 10 s more until its abort check runs).
 */
export function transactionalIdOf(group: string, instanceId: string | undefined): string {
  return `${TRANSACTIONAL_ID_PREFIX}${group}-${instanceId ?? randomUUID()}`;
}

/**
 * Exactly-once: as soon as orders finished (1 ms apart at the least), one transaction takes each
 * partition's unbroken run of finished orders: their dead letters and the consumed offsets, each
 * with its partition's aggregate in the offset's metadata. On assignment the aggregates are restored
 * from the committed offsets.
 */
export function exactlyOnce(parts: ConsumeParts): ConsumeMode {
  const { options, session, totals, tally } = parts;
  const source = { group: options.group, topic: options.topic };
  const transactions = new Transactions(session, transactionalIdOf(options.group, options.instanceId), TRANSACTION_TIMEOUT_MS);

  // Decisions are pure functions of the record (seed, orderId, attempt): they wait here, side-effect free,
  // until a transaction commits them, and after a crash the same records are decided the same way. Only
  // a dead letter keeps its record (it is written whole); an order keeps its outcome alone.
  const dispatch = new Dispatch<Decided>(dispatchNeeds(parts), (record, outcome) => (outcome.kind === 'dead-letter' ? { ...outcome, record } : outcome));

  // A partition's aggregate and the offsets done above its committed one travel in the offset's
  // metadata: one committed() call, whatever its history. Offsets committed by orders before that have
  // their snapshot in the aggregates topic. Awaited before any record of these partitions is read, and
  // applied only to a partition still restoring under the lease its assignment gave.
  const restore: RestoreWork<{ aggregate: Aggregate; doneAbove: number[] }> = {
    read: async (partitions, timeoutMs) => {
      // read_committed: an offset commit in a transaction still open is waited for, not read stale.
      const committed = await consumer.committed(options.topic, partitions, timeoutMs);
      const restored = new Map<number, { aggregate: Aggregate; doneAbove: number[] }>();
      const older = new Map<number, number>();
      for (const { partition, offset, metadata } of committed) {
        const decoded = offset < 0 ? undefined : decodeCommitMetadata(offset, metadata);
        if (decoded === undefined) restored.set(partition, { aggregate: EMPTY_AGGREGATE, doneAbove: [] });
        // At-least-once commits carry no aggregate: as with offsets of no metadata, the aggregates topic is asked.
        else if (decoded.kind === 'ours' && decoded.state.aggregate !== undefined) restored.set(partition, { aggregate: decoded.state.aggregate, doneAbove: decoded.state.doneAbove });
        else older.set(partition, offset);
      }
      if (older.size > 0) {
        for (const [partition, { aggregate }] of await restoreAggregates(session, options.aggregatesTopic, source, older)) restored.set(partition, { aggregate, doneAbove: [] });
      }
      session.logger.info(`restored ${options.topic} partitions ${partitions.join(', ')}: ${[...restored].map(([partition, { aggregate }]) => `p${partition} count=${aggregate.count}`).join(' ')}`);
      return restored;
    },
    apply: (lease, found) => {
      if (totals.restore(lease, found?.aggregate ?? EMPTY_AGGREGATE)) dispatch.skip(lease, found?.doneAbove ?? []);
    },
  };

  // What a transaction commits for a partition: its aggregate with the fresh orders, and what is done above the front.
  const stateOf = ({ lease, plan }: PlannedCommit<Decided>): CommitState | undefined => {
    let aggregate = totals.aggregateOf(lease);
    if (aggregate === undefined) return undefined;
    for (const { result } of plan.fresh) if (result.kind === 'processed') aggregate = addOrder(aggregate, result.order.price);
    return { aggregate, doneAbove: plan.doneAbove };
  };
  const fit = new MetadataFit((line) => session.logger.warn(line), options.topic);

  // The outcome of these counts, and their events are told, once their transaction committed.
  const committed = (commits: OffsetCommit<Decided>[]): void => {
    for (const commit of commits) {
      let aggregate = totals.aggregateOf(commit.lease) ?? EMPTY_AGGREGATE;
      dispatch.committed(commit);
      // Only under the lease it was read with: an old commit says nothing of a newer assignment's end.
      if (totals.holds(commit.lease)) parts.done.report(commit.partition, commit.plan.next - 1);
      for (const { offset, result } of commit.plan.fresh) {
        if (result.kind === 'processed') aggregate = addOrder(aggregate, result.order.price);
        totals.set(commit.lease, aggregate);
        tally.record(commit.partition, String(offset), result, totals.total());
      }
    }
  };

  // A transaction that failed may still have committed (a commit under way when its broker went away, a
  // producer left behind): its offsets and their metadata tell, read as stable offsets.
  let uncertain: OffsetCommit<Decided>[] | undefined;
  // Judged on the partitions still owned under its leases: a transaction is all or nothing, so one of them
  // showing what it wrote proves it committed, whatever a later owner did to the others since.
  const landed = async (commits: OffsetCommit<Decided>[]): Promise<OffsetCommit<Decided>[]> => {
    const owned = commits.filter(({ lease }) => totals.holds(lease));
    if (owned.length === 0) return [];
    const found = await consumer.committed(options.topic, owned.map(({ partition }) => partition), session.timeoutMs);
    const wrote = owned.some(({ partition, plan, metadata }) => found.some((entry) => entry.partition === partition && entry.offset === plan.next && entry.metadata === metadata));
    return wrote ? owned : [];
  };

  /**
   * One transaction for what finished in every partition (or in `partitions`): their dead letters and
   * the offsets, each with its partition's aggregate and what is done above it. Only once it commits
   * are the outcomes counted and shown.
   */
  const commitFinished = async (partitions?: number[]): Promise<boolean> => {
    if (uncertain !== undefined) {
      // Fenced first: left open, the transaction would hold the group's offsets (and every commit) back 10-20 s.
      await transactions.fence();
      // Not sent again if it landed: its dead letters would be written twice.
      committed(await landed(uncertain));
      uncertain = undefined;
    }
    const commits = offsetCommits(dispatch, partitions, stateOf, fit);
    if (commits.length === 0) return false;
    try {
      await transactions.run(async (txn) => {
        // The offsets first: while the coordinator still ends the previous transaction it answers
        // CONCURRENT_TRANSACTIONS, which librdkafka retries after retry.backoff.ms for offsets but after a
        // fixed 20 ms for the partitions a send adds. Then the records, queued; the commit fails if any is not written.
        await txn.sendOffsets(commits.map(({ partition, plan, metadata }) => ({ topic: options.topic, partition, offset: plan.next, metadata })), consumer);
        for (const { plan } of commits) {
          for (const { result } of plan.fresh) if (result.kind === 'dead-letter') txn.produce(options.dlqTopic, deadLetterOf(options.group, result.record, result));
        }
      });
    } catch (error) {
      uncertain = commits;
      fit.refused(error);
      // A refused principal stays refused: stop with the reason instead of aborting for ever.
      const refused = authorizationFailure(error, (code) => (code === TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        ? { operation: 'WRITE', resource: `transactional id ${transactions.transactionalId}` }
        : code === GROUP_AUTHORIZATION_FAILED ? { operation: 'READ', resource: `group ${options.group}` }
          : { operation: 'WRITE', resource: `topic ${options.dlqTopic}` }));
      if (refused !== undefined) session.fail(refused);
      throw error;
    }
    committed(commits);
    return true;
  };
  const mode = inFlight(parts, dispatch, { commit: commitFinished, everyMs: COMMIT_EVERY_MS, eager: true }, {
    connect: () => transactions.connect(),
    restore,
    close: () => transactions.close(session.timeoutMs),
  });
  const { consumer } = mode;
  return mode;
}
