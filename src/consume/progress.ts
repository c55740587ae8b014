import { lagOf, readableEnd } from '../processing/lag.js';

/** One assigned partition as the consumer's statistics and commits show it. */
export interface PartitionView {
  /** The next offset the group committed (ours, or librdkafka's view); -1 for none. */
  committed: number;
  /** The log end where a read_committed consumer stops (the last stable offset). */
  end: number;
  /** The log start. */
  start: number;
}

/** What the progress line shows each second. */
export interface ProgressReport {
  /** Records still to read over the assigned partitions; undefined before the first statistics. */
  lag: number | undefined;
  /** Orders decided per second, smoothed over a few seconds. */
  ratePerSecond: number;
  /** Some order was decided since the last report. */
  moved: boolean;
  /** --exit-at-end: how far toward the ends seen when each partition was first seen. */
  toEnd?: { done: number; total: number; etaSeconds: number | undefined };
}

// Each second's rate counts for this much; the rest is the previous estimate (a 3-4 s memory).
const RATE_WEIGHT = 0.3;
// Below this many orders a second the time left means nothing (a stalled rate decays toward 0 and never
// reaches it: 14,218,992,145 h was shown): `eta -`.
const MIN_RATE_FOR_ETA = 0.1;

/**
 * The lag and the progress toward the end of the assigned partitions, from what librdkafka's statistics
 * and our commits show; pure, driven by `tick` once a second.
 */
export class ProgressTracker {
  private readonly partitions = new Map<number, PartitionView>();
  // --exit-at-end: where each partition stood and ended when first seen: the bar goes from one to the other.
  private readonly target = new Map<number, { from: number; end: number }>();
  private rate: number | undefined;
  private lastTick: { at: number; decided: number } | undefined;

  constructor(private readonly toEnd: boolean) {}

  /** The latest view of an assigned partition. */
  see(partition: number, view: PartitionView): void {
    this.partitions.set(partition, view);
    if (!this.target.has(partition) && view.end >= 0) this.target.set(partition, { from: view.committed >= 0 ? view.committed : Math.max(0, view.start), end: view.end });
  }

  /** We committed up to `next`: the lag and the bar move now, not at the next statistics. */
  committed(partition: number, next: number): void {
    const view = this.partitions.get(partition);
    if (view !== undefined && next > view.committed) view.committed = next;
  }

  /** The partition left: it counts no more. */
  forget(partition: number): void {
    this.partitions.delete(partition);
    this.target.delete(partition);
  }

  /** Per partition, its lag (only those whose end is known). */
  lags(): Map<number, number> {
    const lags = new Map<number, number>();
    for (const [partition, { committed, end, start }] of this.partitions) {
      const lag = lagOf(committed, end, start);
      if (lag !== undefined) lags.set(partition, lag);
    }
    return lags;
  }

  /** Once a second: `decided` is the number of orders decided so far, `at` the time in ms. */
  tick(at: number, decided: number): ProgressReport {
    const moved = this.lastTick !== undefined && decided > this.lastTick.decided;
    if (this.lastTick !== undefined && at > this.lastTick.at) {
      const now = ((decided - this.lastTick.decided) * 1000) / (at - this.lastTick.at);
      this.rate = this.rate === undefined ? now : RATE_WEIGHT * now + (1 - RATE_WEIGHT) * this.rate;
    }
    this.lastTick = { at, decided };
    const lags = this.lags();
    const lag = lags.size === 0 ? undefined : [...lags.values()].reduce((sum, value) => sum + value, 0);
    const ratePerSecond = this.rate ?? 0;
    if (!this.toEnd || this.target.size === 0) return { lag, ratePerSecond, moved };
    let done = 0;
    let total = 0;
    for (const [partition, { from, end }] of this.target) {
      const committed = this.partitions.get(partition)?.committed ?? -1;
      total += end - from;
      done += Math.min(end - from, Math.max(0, committed - from));
    }
    const etaSeconds = ratePerSecond >= MIN_RATE_FOR_ETA ? (total - done) / ratePerSecond : undefined;
    return { lag, ratePerSecond, moved, toEnd: { done, total, etaSeconds } };
  }
}

/** A partition's view from librdkafka's statistics and the offset we committed last (-1: none yet). */
export function partitionView(stats: { committedOffset: number; hiOffset: number; lsOffset: number; loOffset: number }, ourCommit: number): PartitionView {
  return { committed: Math.max(ourCommit, stats.committedOffset), end: readableEnd(stats.hiOffset, stats.lsOffset), start: stats.loOffset };
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/** `[########------------]` for done of total, `width` characters inside the brackets. */
export function progressBar(done: number, total: number, width = 20): string {
  const share = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}%`;
}

/** 45 s, 3 min 20 s, 2 h 5 min; - when there is no rate to tell. */
export function etaText(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const whole = Math.ceil(Math.max(0, seconds));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** The figures of the progress line: `lag=1,234 rate=5,000/s`, then the bar and the time left with --exit-at-end. */
export function progressText(report: ProgressReport): string {
  const lag = `lag=${report.lag === undefined ? '?' : count(report.lag)} rate=${count(report.ratePerSecond)}/s`;
  if (report.toEnd === undefined) return lag;
  const { done, total, etaSeconds } = report.toEnd;
  return `${lag} ${progressBar(done, total)} ${count(done)}/${count(total)} eta ${done >= total ? '0 s' : etaText(etaSeconds)}`;
}
