import type { StatsOptions } from '../config.js';
import { readSnapshots } from '../kafka/aggregate-store.js';
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

/** The exact aggregate of a consumer group over all partitions, from the committed snapshots. */
export async function stats(options: StatsOptions, session: KafkaSession): Promise<Stats> {
  await session.requireTopics([options.aggregatesTopic]);
  const snapshots = await readSnapshots(session, options.aggregatesTopic);
  // Stopped half way, the figures would be wrong without saying so.
  session.throwIfAborted(`reading ${options.aggregatesTopic}`);
  const partitions = [...snapshots.values()]
    .filter((snapshot) => snapshot.group === options.group && snapshot.topic === options.topic)
    .sort((a, b) => a.partition - b.partition);
  return { group: options.group, topic: options.topic, total: sumAggregates(partitions.map((p) => p.aggregate)), partitions };
}
