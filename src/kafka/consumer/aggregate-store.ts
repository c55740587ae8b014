import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AggregatesGapError, BrokerError } from '../../errors.js';
import { EMPTY_AGGREGATE, type Aggregate } from '../../processing/aggregate.js';
import { decideRestore, decodeSnapshot, snapshotKey, type PartitionSnapshot, type RestoreDecision } from '../../processing/snapshot.js';
import { oneByOne, readTopic } from './reader.js';
import type { KafkaSession } from '../session.js';

// How long a snapshot older than its committed offset is read again: the newer one sits behind a transaction
// still open (a consumer killed mid-transaction), which Kafka aborts after its timeout (about 11 s by default).
export const HELD_BACK_WAIT_MS = 60_000;
const REREAD_MS = 250;

/** The prefix of the throw-away groups that read the aggregates topic. */
export const AGGREGATES_READER_PREFIX = 'orders-aggregates-reader-';

/**
 * Reads the aggregates topic (committed transactions only) from the beginning and keeps the newest
 * snapshot per key: to its end, or sooner once `enough` says it has what it needs.
 */
export async function readSnapshots(
  session: KafkaSession,
  aggregatesTopic: string,
  limits: { enough?: (snapshots: Map<string, PartitionSnapshot>) => boolean; idle?: AbortController & { reset(): void } } = {},
): Promise<Map<string, PartitionSnapshot>> {
  // A fresh group each read: starts at the beginning and commits nothing.
  const group = `${AGGREGATES_READER_PREFIX}${randomUUID()}`;
  const consumer = session.consumer(group);
  const newest = new Map<string, PartitionSnapshot>();
  const done = new AbortController();
  const keep = async (record: { value: Buffer | null }): Promise<void> => {
    limits.idle?.reset();
    const snapshot = decodeSnapshot(record.value);
    if (snapshot === undefined) return;
    const key = snapshotKey(snapshot.group, snapshot.topic, snapshot.partition);
    // Snapshots of one partition only move forward, so the highest offset is the newest.
    if ((newest.get(key)?.offset ?? -2) < snapshot.offset) newest.set(key, snapshot);
    if (limits.enough?.(newest) === true) done.abort();
  };
  const until = AbortSignal.any([done.signal, ...(limits.idle === undefined ? [] : [limits.idle.signal])]);
  await readTopic(session, { topic: aggregatesTopic, group, consumer, commit: false, exitAtEnd: true, until }, oneByOne(keep));
  return newest;
}

/**
 * The aggregates of `partitions` of (group, topic) that match the group's committed offsets (-1 for
 * none: the partition starts from nothing), with the offset each is folded up to. A committed offset that no snapshot matches is an
 * AggregatesGapError: totals built on it would silently miss or double orders.
 */
export async function restoreAggregates(
  session: KafkaSession,
  aggregatesTopic: string,
  source: { group: string; topic: string },
  committed: Map<number, number>,
  newerIsFine = false,
): Promise<Map<number, { aggregate: Aggregate; offset: number }>> {
  const decide = (snapshots: Map<string, PartitionSnapshot>): [number, RestoreDecision][] =>
    [...committed].map(([partition, offset]) => [partition, decideRestore(offset, snapshots.get(snapshotKey(source.group, source.topic, partition)), newerIsFine)]);
  const gapsIn = (decisions: [number, RestoreDecision][]): [number, string, boolean][] =>
    decisions.flatMap(([partition, decision]) => (decision.kind === 'gap' ? [[partition, decision.detail, decision.behind] as [number, string, boolean]] : []));
  const heldBackUntil = performance.now() + Math.max(session.timeoutMs, HELD_BACK_WAIT_MS);
  // No such topic, no snapshot: every committed offset is a gap, and nothing can hold one back.
  const exists = await session.admin.topicExists(aggregatesTopic);

  for (let read = 1; ; read++) {
    // A large aggregates topic takes a while to read: what must not last beyond the timeout is a read that stopped moving.
    const deadline = idleTimer(session.timeoutMs);
    const snapshots = exists ? await readSnapshots(session, aggregatesTopic, { enough: (found) => gapsIn(decide(found)).length === 0, idle: deadline }).finally(() => deadline.clear()) : new Map<string, PartitionSnapshot>();
    deadline.clear();
    session.steps.throwIfAborted(`restoring the aggregates of ${source.topic}`);
    const decisions = decide(snapshots);
    const gaps = gapsIn(decisions);
    if (gaps.length === 0) {
      return new Map(decisions.map(([partition, decision]) => [partition, decision.kind === 'restored' ? decision : { aggregate: EMPTY_AGGREGATE, offset: -1 }]));
    }
    if (deadline.signal.aborted) throw new BrokerError(`reading ${aggregatesTopic} to restore the aggregates of ${source.topic} stopped moving for ${session.timeoutMs} ms`);
    // Only snapshots behind their offsets can still come: read again while an open transaction may hold them back.
    // A partition with no snapshot at all may be held back too, if the open transaction began before its first.
    const heldBack = exists && performance.now() < heldBackUntil
      && (gaps.every(([, , behind]) => behind) || await session.admin.transactionOpenOn(aggregatesTopic));
    if (heldBack && read === 2) {
      session.logger.warn(`the newest aggregates of ${source.topic} (${gaps.map(([partition, detail]) => `partition ${partition}: ${detail}`).join('; ')}) are not readable yet: a transaction still open (of a consumer that died?) holds them back until Kafka aborts it; reading ${aggregatesTopic} again`);
    }
    if (heldBack) await sleep(REREAD_MS, undefined, { signal: session.signal }).catch(() => undefined);
    // Read to its end with no match: the newest snapshot's commit marker may have been a moment late; a second read settles it.
    else if (read >= 2) {
      throw new AggregatesGapError(
        `group ${source.group} has committed offsets on ${source.topic} that no aggregate in ${aggregatesTopic} matches `
        + `(${gaps.map(([partition, detail]) => `partition ${partition}: ${detail}`).join('; ')}), so its totals cannot be restored; `
        + `was it consumed --guarantee at-least-once or with another --aggregates-topic? Consume under a new --group, `
        + `or delete the group's offsets (kafka-consumer-groups --delete-offsets) to recompute from the start of ${source.topic}`,
      );
    }
  }
}

/** An AbortController that aborts once `ms` pass without a reset. */
function idleTimer(ms: number): AbortController & { reset(): void; clear(): void } {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), ms);
  return Object.assign(controller, {
    reset: () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), ms);
    },
    clear: () => clearTimeout(timer),
  });
}
