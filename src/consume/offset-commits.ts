import kafkaJavascript from '@confluentinc/kafka-javascript';
import { encodeCommitMetadata, type CommitState } from '../processing/commit-metadata.js';
import type { Dispatch, PlannedCommit } from './dispatch.js';

const { ERR_OFFSET_METADATA_TOO_LARGE } = kafkaJavascript.CODES.ERRORS;

/** One partition's commit: what it takes, its offset (`plan.next`) and the metadata that goes with it. */
export interface OffsetCommit<T> extends PlannedCommit<T> {
  metadata: string;
}

/**
 * What a commit's metadata may carry: everything finished (the finished records above the first one
 * in flight named), the front only, or the aggregate alone. A broker whose offset.metadata.max.bytes is
 * below what a commit writes refuses it (OFFSET_METADATA_TOO_LARGE) whatever the retries: each refusal
 * steps down once, said in one warning.
 */
export class MetadataFit {
  private level: 'all' | 'front' | 'aggregate' = 'all';
  private readonly told = new Set<number>();

  constructor(private readonly warn: (line: string) => void, private readonly topic: string) {}

  /** True while the finished records above the first in flight may be named. */
  get above(): boolean {
    return this.level === 'all';
  }

  /** True once only the aggregate may go: no offset named above the committed one. */
  get aggregateAlone(): boolean {
    return this.level === 'aggregate';
  }

  /** Warns once per partition that its finished records above the first in flight wait for the front. */
  tooBig(partition: number): void {
    if (this.told.has(partition)) return;
    this.told.add(partition);
    this.warn(`${this.topic}/${partition}: the finished orders above the first one still in flight do not fit in the offset commit's metadata (offset.metadata.max.bytes); they are committed once the orders before them are`);
  }

  /** A commit failed: where the broker refused its metadata as too large, the next ones carry less. */
  refused(error: unknown): void {
    if (!metadataTooLarge(error) || this.level === 'aggregate') return;
    this.level = this.level === 'all' ? 'front' : 'aggregate';
    this.warn(`${this.topic}: the broker refuses this much offset commit metadata (its offset.metadata.max.bytes is lower): commits now carry ${this.level === 'front'
      ? 'only the finished run at the front; the orders finished above the first one in flight are committed once the orders before them are'
      : 'the aggregate alone; an order finished above the first one in flight is committed once the orders before it are'}`);
  }
}

/**
 * Each partition's commit with its metadata (`stateOf` says what it carries; undefined leaves the
 * partition out): the finished records above the first one still in flight go with it where the
 * metadata holds them and `fit` allows. Where it does not, only the finished run at the front goes
 * (`fit.tooBig` is told), or nothing for now.
 */
export function offsetCommits<T>(
  dispatch: Dispatch<T>,
  partitions: number[] | undefined,
  stateOf: (planned: PlannedCommit<T>) => CommitState | undefined,
  fit: MetadataFit,
): OffsetCommit<T>[] {
  const commits: OffsetCommit<T>[] = [];
  for (const planned of dispatch.plans(partitions, fit.above)) {
    const commit = encoded(planned, stateOf, fit);
    if (commit !== undefined) {
      commits.push(commit);
      continue;
    }
    if (!fit.above) continue;
    fit.tooBig(planned.partition);
    // The front alone still names what earlier commits took above it: if even that does not fit, this partition waits.
    const front = dispatch.plans([planned.partition], false)[0];
    const frontCommit = front === undefined ? undefined : encoded(front, stateOf, fit);
    if (frontCommit !== undefined) commits.push(frontCommit);
  }
  return commits;
}

// The commit with its metadata, undefined where it does not fit. The aggregate alone drops the offsets
// named above: harmless without an aggregate (at-least-once runs them again), and where none is named.
function encoded<T>(planned: PlannedCommit<T>, stateOf: (planned: PlannedCommit<T>) => CommitState | undefined, fit: MetadataFit): OffsetCommit<T> | undefined {
  const state = stateOf(planned);
  if (state === undefined) return undefined;
  if (fit.aggregateAlone) {
    if (state.aggregate !== undefined && state.doneAbove.length > 0) return undefined;
    return { ...planned, metadata: encodeCommitMetadata(planned.plan.next, { ...state, doneAbove: [] }).metadata };
  }
  const { metadata, fits } = encodeCommitMetadata(planned.plan.next, state);
  return fits ? { ...planned, metadata } : undefined;
}

// librdkafka's error, or one a transaction wrapped it in.
function metadataTooLarge(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if ((cause as { code?: unknown }).code === ERR_OFFSET_METADATA_TOO_LARGE) return true;
  }
  return false;
}
