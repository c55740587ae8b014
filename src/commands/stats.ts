import type { StatsOptions } from '../config.js';
import { restoreAggregates } from '../kafka/aggregate-store.js';
import type { KafkaSession } from '../kafka/session.js';
import { sumAggregates, type Aggregate } from '../processing/aggregate.js';
import { decodeCommitMetadata } from '../processing/commit-metadata.js';
import type { PartitionSnapshot } from '../processing/snapshot.js';

export interface Stats {
  group: string;
  topic: string;
  total: Aggregate;
  /** One per partition that has an aggregate, by partition number. */
  partitions: PartitionSnapshot[];
}

/**
 * The exact aggregate of a consumer group over all partitions: for each partition the aggregate
 * committed with the group's offset (in its metadata), or, for offsets committed by orders before the
 * aggregates moved there, the snapshot of the aggregates topic that matches it, or a newer one if the
 * group committed meanwhile; never an older one that happens to be readable while a newer is held back.
 */
export async function stats(options: StatsOptions, session: KafkaSession): Promise<Stats> {
  const { group, topic } = options;
  const committed = await session.groupOffsets(group, topic);
  const partitions: PartitionSnapshot[] = [];
  const older = new Map<number, number>();
  for (const [partition, { offset, metadata }] of committed) {
    const decoded = offset < 0 ? undefined : decodeCommitMetadata(offset, metadata);
    const aggregate = decoded?.kind === 'ours' ? decoded.state.aggregate : undefined;
    if (aggregate !== undefined) partitions.push({ group, topic, partition, aggregate, offset: offset - 1 });
    else if (decoded !== undefined) older.set(partition, offset);
  }
  if (older.size > 0) {
    await session.requireTopics([options.aggregatesTopic]);
    const aggregates = await restoreAggregates(session, options.aggregatesTopic, { group, topic }, older, true);
    // Stopped half way, the figures would be wrong without saying so.
    session.throwIfAborted(`reading ${options.aggregatesTopic}`);
    for (const [partition, { aggregate, offset }] of aggregates) if (offset >= 0) partitions.push({ group, topic, partition, aggregate, offset });
  }
  partitions.sort((a, b) => a.partition - b.partition);
  return { group, topic, total: sumAggregates(partitions.map((p) => p.aggregate)), partitions };
}
