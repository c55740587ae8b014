import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import { authorizationFailure } from '../kafka/failures.js';
import type { SourceRecord } from '../kafka/record.js';
import type { Outcome } from '../processing/process-record.js';
import { Dispatch } from './dispatch.js';
import { dispatchNeeds, inFlight, type ConsumeMode, type ConsumeParts } from './mode.js';
import { MetadataFit, offsetCommits } from './offset-commits.js';
import { deadLetterOf } from './process-order.js';
import type { RestoreWork } from './restores.js';
import { decodeCommitMetadata } from '../processing/commit-metadata.js';

// The offsets below which every record is done are committed this often, on a rebalance and at the end;
// a commit after every batch swamped the group coordinator at 10,000 orders/s.
const COMMIT_EVERY_MS = 1_000;
// How long a revoke's commit waits for stdout's reader to take the lines of the orders it passes.
const REVOKE_WAIT_MS = 5_000;
// A dead letter the broker did not take (it is away) is sent again after this pause, for as long as it takes.
const RESEND_PAUSE_MS = 500;

/**
 * At-least-once: an order is folded into the totals, or its dead letter acknowledged, as soon as it is
 * done; the committed offset never passes a record still in flight. After a crash the records since the
 * last commit are handled again.
 */
export function atLeastOnce(parts: ConsumeParts): ConsumeMode {
  const { options, session, totals, tally, stop } = parts;
  const producer = session.producer();

  // True once acknowledged; false when the stop came first (the record is read again next time).
  const sendDeadLetter = async (record: SourceRecord, outcome: Outcome & { kind: 'dead-letter' }): Promise<boolean> => {
    for (let tries = 1; !stop.aborted; tries++) {
      try {
        await producer.send({ topic: options.dlqTopic, messages: [deadLetterOf(options.group, record, outcome)] });
        return true;
      } catch (error) {
        // A refused principal stays refused: stop with the reason.
        const refused = authorizationFailure(error, { operation: 'WRITE', resource: `topic ${options.dlqTopic}` });
        if (refused !== undefined) throw refused;
        if (tries === 1) session.logger.warn(`dead letter of ${record.topic}/${record.partition}@${record.offset} not acknowledged, sending it again until it is: ${messageOf(error)}`);
        await sleep(RESEND_PAUSE_MS, undefined, { signal: stop }).catch(() => undefined);
      }
    }
    return false;
  };

  const dispatch = new Dispatch<true>(dispatchNeeds(parts), (record, outcome, lease) => {
    const done = (): true => {
      tally.record(record.partition, record.offset, outcome, totals.total());
      return true;
    };
    // Revoked meanwhile (even if assigned back): its owner reads the record again.
    if (totals.aggregateOf(lease) === undefined) return undefined;
    if (outcome.kind === 'dead-letter') return sendDeadLetter(record, outcome).then((sent) => (sent ? done() : undefined));
    return totals.fold(lease, outcome.order.price) ? done() : undefined;
  });

  const fit = new MetadataFit((line) => session.logger.warn(line), options.topic);
  // Each offset names the finished records above it: a restart passes them instead of running them again.
  const commitFinished = async (partitions?: number[]): Promise<boolean> => {
    const commits = offsetCommits(dispatch, partitions, ({ plan }) => ({ doneAbove: plan.doneAbove }), fit);
    if (commits.length === 0) return false;
    // A SIGKILL takes the lines stdout still queues for a slow reader: 36 orders of a killed member were
    // committed without their lines in cluster.test. Stopped meanwhile: not committed, read again next time.
    // A revoke waits a while only: the whole group's rebalance waits for it, and the new owner reads them again.
    const waitUntil = partitions === undefined ? stop : AbortSignal.any([stop, AbortSignal.timeout(REVOKE_WAIT_MS)]);
    if (!(await tally.written(waitUntil))) return false;
    await consumer.commit(commits.map(({ partition, plan, metadata }) => ({ topic: options.topic, partition, offset: plan.next, metadata })));
    for (const commit of commits) {
      dispatch.committed(commit);
      // Only under the lease it was read with: an old commit says nothing of a newer assignment's end.
      if (totals.holds(commit.lease)) parts.done.report(commit.partition, commit.plan.next - 1);
    }
    return true;
  };
  // What the last commit named as done above its offset is passed, not run again; only under the lease
  // of the assignment that read it, as a later one of the same partition has its own.
  const restore: RestoreWork<number[]> = {
    read: async (partitions, timeoutMs) => {
      const found = new Map<number, number[]>();
      for (const { partition, offset, metadata } of await consumer.committed(options.topic, partitions, timeoutMs)) {
        const decoded = offset < 0 ? undefined : decodeCommitMetadata(offset, metadata);
        if (decoded?.kind === 'ours') found.set(partition, decoded.state.doneAbove);
      }
      return found;
    },
    apply: (lease, doneAbove) => {
      if (doneAbove !== undefined && totals.holds(lease)) dispatch.skip(lease, doneAbove);
    },
  };
  const mode = inFlight(parts, dispatch, { commit: commitFinished, everyMs: COMMIT_EVERY_MS, eager: false }, {
    connect: async () => { await session.connect(producer, 'dead-letter producer'); },
    restore,
  });
  const { consumer } = mode;
  // A refused commit is answered after commit() returned: metadata too large steps down for the next ones.
  consumer.commitRefused = (error) => fit.refused(error);
  return mode;
}
