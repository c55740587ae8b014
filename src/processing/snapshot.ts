import type { Aggregate } from './aggregate.js';

/** The aggregate of one source partition, and the last offset folded into it. */
export interface PartitionSnapshot {
  group: string;
  topic: string;
  partition: number;
  aggregate: Aggregate;
  /** The last offset folded in; -1 before any. */
  offset: number;
}

/** One compacted-topic key per (group, topic, partition): compaction keeps only the newest snapshot. */
export function snapshotKey(group: string, topic: string, partition: number): string {
  return JSON.stringify([group, topic, partition]);
}

/** Parses a snapshot record's value; undefined for anything that is not one (it is skipped, not trusted). */
export function decodeSnapshot(value: Buffer | null): PartitionSnapshot | undefined {
  if (value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { group, topic, partition, total_cents: totalCents, count, offset } = parsed as Record<string, unknown>;
  if (typeof group !== 'string' || typeof topic !== 'string') return undefined;
  if (![partition, totalCents, count, offset].every(Number.isSafeInteger)) return undefined;
  return { group, topic, partition: partition as number, aggregate: { totalCents: totalCents as number, count: count as number }, offset: offset as number };
}

export type RestoreDecision =
  | { kind: 'fresh' }
  | { kind: 'restored'; aggregate: Aggregate; offset: number }
  /** `behind`: a snapshot older than the offset, whose newer one a transaction still open may hold back. */
  | { kind: 'gap'; detail: string; behind: boolean };

/**
 * Where a partition's aggregate starts, given the group's committed offset (-1 for none) and the newest
 * snapshot: a snapshot folded up to offset o goes only with committed offset o + 1, as both were written
 * in one transaction. Anything else is a gap that no total may be built on; with `newerIsFine` (a reader
 * of a group that may be committing meanwhile) a snapshot past the offset read earlier is taken too.
 */
export function decideRestore(committed: number, snapshot: PartitionSnapshot | undefined, newerIsFine = false): RestoreDecision {
  // Nothing committed: the partition is read from its start, so the total starts from nothing.
  if (committed < 0) return newerIsFine && snapshot !== undefined ? { kind: 'restored', aggregate: snapshot.aggregate, offset: snapshot.offset } : { kind: 'fresh' };
  if (snapshot === undefined) return { kind: 'gap', detail: `offset ${committed} committed, no aggregate snapshot`, behind: false };
  const matches = snapshot.offset + 1 === committed || (newerIsFine && snapshot.offset + 1 > committed);
  if (!matches) return { kind: 'gap', detail: `offset ${committed} committed, snapshot folded up to offset ${snapshot.offset}`, behind: snapshot.offset + 1 < committed };
  return { kind: 'restored', aggregate: snapshot.aggregate, offset: snapshot.offset };
}
