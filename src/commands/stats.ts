import type { StatsOptions } from '../config.js';
import { restoreAggregates } from '../kafka/aggregate-store.js';
import type { KafkaSession } from '../kafka/session.js';
import { sumAggregates, type Aggregate } from '../processing/aggregate.js';
import type { PartitionSnapshot } from '../processing/snapshot.js';

export interface Stats {
  group: string;
  topic: string;
  total: Aggregate;
  /** One per partition that has a snapshot, by partition number. */
  partitions: PartitionSnapshot[];
}

/**
 * The exact aggregate of a consumer group over all partitions: for each partition the snapshot written
 * with the group's committed offset, or a newer one if the group committed meanwhile; never an older
 * one that happens to be readable while a newer is held back.
 */
export async function stats(options: StatsOptions, session: KafkaSession): Promise<Stats> {
  const { group, topic } = options;
  await session.requireTopics([options.aggregatesTopic]);
  const committed = await session.groupOffsets(group, topic);
  const aggregates = await restoreAggregates(session, options.aggregatesTopic, { group, topic }, committed, true);
  // Stopped half way, the figures would be wrong without saying so.
  session.throwIfAborted(`reading ${options.aggregatesTopic}`);
  const partitions = [...aggregates]
    .flatMap(([partition, { aggregate, offset }]) => (offset < 0 ? [] : [{ group, topic, partition, aggregate, offset }]))
    .sort((a, b) => a.partition - b.partition);
  return { group, topic, total: sumAggregates(partitions.map((p) => p.aggregate)), partitions };
}
