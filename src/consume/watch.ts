import { DoneOffsets, type RebalanceHooks } from '../kafka/consumer/reader.js';
import { parseStatistics, type ClientStatistics } from '../kafka/statistics.js';
import type { FlightGate } from '../processing/flight.js';
import type { PartitionTotals } from '../processing/partition-totals.js';
import type { OrderCounts, OrdersMetrics } from '../metrics/metrics.js';
import { ProgressTracker, partitionView, type ProgressReport } from './progress.js';
import type { ConsumeEvents } from './tally.js';

/** Commits that tell the watch how far each partition is committed, then go on to the reader as before. */
class WatchedDone extends DoneOffsets {
  constructor(private readonly committed: (partition: number, next: number) => void) {
    super();
  }

  override report(partition: number, lastOffset: number): void {
    this.committed(partition, lastOffset + 1);
    super.report(partition, lastOffset);
  }
}

/**
 * What an operator watches of one consume: counts of outcomes and retries (plain numbers on the hot
 * path), the assigned partitions and their lag (librdkafka's statistics and our own commits), progress
 * toward the end, and readiness (assigned, restored, not stopping). Hooks into consume's events,
 * commits and rebalances; changes none of them.
 */
export class ConsumeWatch {
  readonly counts: OrderCounts;
  readonly done: DoneOffsets;
  private readonly assignedPartitions = new Set<number>();
  private readonly ourCommits = new Map<number, number>();
  private readonly tracker: ProgressTracker;
  private everAssigned = false;
  private lastDecided = 0;

  constructor(
    private readonly topic: string,
    exitAtEnd: boolean,
    gate: FlightGate,
    private readonly totals: PartitionTotals,
    private readonly metrics: OrdersMetrics | undefined,
  ) {
    this.counts = metrics?.counts ?? { succeeded: 0, deadLettered: 0, retries: 0, produced: 0, replayed: 0 };
    this.tracker = new ProgressTracker(exitAtEnd);
    this.done = new WatchedDone((partition, next) => {
      this.ourCommits.set(partition, next);
      this.tracker.committed(partition, next);
    });
    metrics?.watchConsumer({
      flight: () => gate.status(),
      lag: () => [...this.tracker.lags()].map(([partition, lag]) => ({ topic, partition, lag })),
      assigned: () => this.assignedPartitions.size,
    });
    metrics?.readyWhen(() => this.ready());
  }

  /** `events`, with each outcome and retry counted first: one increment, and one bucket for the latency. */
  events(events: ConsumeEvents): ConsumeEvents {
    const { counts } = this;
    const latency = this.metrics?.latency;
    return {
      processed: (result) => {
        counts.succeeded++;
        latency?.observe(result.latencyMs / 1000);
        events.processed(result);
      },
      deadLettered: (result) => {
        counts.deadLettered++;
        events.deadLettered(result);
      },
      retrying: (notice) => {
        counts.retries++;
        events.retrying(notice);
      },
      ...(events.flight === undefined ? {} : { flight: (status) => events.flight?.(status) }),
      ...(events.progress === undefined ? {} : { progress: (report) => events.progress?.(report) }),
      ...(events.unwritten === undefined ? {} : { unwritten: () => events.unwritten?.() ?? 0 }),
      ...(events.written === undefined ? {} : { written: (stop: AbortSignal) => events.written?.(stop) ?? Promise.resolve(true) }),
    };
  }

  /** `hooks`, with the assignment followed. */
  rebalance(hooks: RebalanceHooks): RebalanceHooks {
    return {
      assigned: async (partitions) => {
        for (const partition of partitions) this.assignedPartitions.add(partition);
        this.everAssigned = true;
        await hooks.assigned?.(partitions);
      },
      revoking: async (partitions, lost) => {
        await hooks.revoking?.(partitions, lost);
        for (const partition of partitions) {
          this.assignedPartitions.delete(partition);
          this.ourCommits.delete(partition);
          this.tracker.forget(partition);
        }
      },
    };
  }

  /** The consumer's librdkafka statistics: the offsets of its assigned partitions, and the broker figures. */
  statistics(json: string): void {
    const statistics = parseStatistics(json);
    if (statistics === undefined) return;
    this.metrics?.statistics('consumer', statistics);
    this.seePartitions(statistics);
  }

  private seePartitions(statistics: ClientStatistics): void {
    for (const stats of statistics.partitions) {
      if (stats.topic !== this.topic || !this.assignedPartitions.has(stats.partition)) continue;
      this.tracker.see(stats.partition, partitionView(stats, this.ourCommits.get(stats.partition) ?? -1));
    }
  }

  /** Once a second: the progress figures; an outcome since the last tick also counts as the loop alive. */
  tick(at: number): ProgressReport {
    const decided = this.counts.succeeded + this.counts.deadLettered;
    if (decided !== this.lastDecided) this.metrics?.beat();
    this.lastDecided = decided;
    return this.tracker.tick(at, decided);
  }

  /** The read loop turned. */
  beat(): void {
    this.metrics?.beat();
  }

  /** Assigned (any assignment, even none when the group has more members than partitions) and nothing left to restore. */
  ready(): boolean {
    return this.everAssigned && this.totals.restoring().length === 0;
  }
}
