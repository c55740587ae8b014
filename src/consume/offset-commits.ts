import { encodeCommitMetadata, type CommitState } from '../processing/commit-metadata.js';
import type { Dispatch, PlannedCommit } from './dispatch.js';

/** One partition's commit: what it takes, its offset (`plan.next`) and the metadata that goes with it. */
export interface OffsetCommit<T> extends PlannedCommit<T> {
  metadata: string;
}

/**
 * Each partition's commit with its metadata (`stateOf` says what it carries; undefined leaves the
 * partition out): the finished records above the first one still in flight go with it where the
 * metadata holds them. Where it does not, `tooBig` is told and only the finished run at the front goes.
 */
export function offsetCommits<T>(
  dispatch: Dispatch<T>,
  partitions: number[] | undefined,
  stateOf: (planned: PlannedCommit<T>) => CommitState | undefined,
  tooBig: (partition: number) => void,
): OffsetCommit<T>[] {
  const commits: OffsetCommit<T>[] = [];
  for (const planned of dispatch.plans(partitions, true)) {
    const state = stateOf(planned);
    if (state === undefined) continue;
    const encoded = encodeCommitMetadata(planned.plan.next, state);
    if (encoded.fits) {
      commits.push({ ...planned, metadata: encoded.metadata });
      continue;
    }
    tooBig(planned.partition);
    // The front alone still names what earlier commits took above it: if even that does not fit, this partition waits.
    const front = dispatch.plans([planned.partition], false)[0];
    const frontState = front === undefined ? undefined : stateOf(front);
    const frontEncoded = front === undefined || frontState === undefined ? undefined : encodeCommitMetadata(front.plan.next, frontState);
    if (front !== undefined && frontEncoded?.fits === true) commits.push({ ...front, metadata: frontEncoded.metadata });
  }
  return commits;
}

/** Warns once per partition that its finished records above the first in flight wait for the front. */
export function warnOnceTooBig(warn: (line: string) => void, topic: string): (partition: number) => void {
  const told = new Set<number>();
  return (partition) => {
    if (told.has(partition)) return;
    told.add(partition);
    warn(`${topic}/${partition}: the finished orders above the first one still in flight do not fit in the offset commit's metadata (offset.metadata.max.bytes); they are committed once the orders before them are`);
  };
}
