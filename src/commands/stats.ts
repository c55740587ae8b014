import type { StatsOptions } from '../config.js';
import { readSnapshots } from '../kafka/aggregate-store.js';
import { disconnectAll, ensureTopics, type KafkaClients } from '../kafka/client.js';
import type { Logger } from '../logger.js';
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
export async function stats(options: StatsOptions, deps: { clients: KafkaClients; logger: Logger }, signal: AbortSignal): Promise<Stats> {
  const { clients, logger } = deps;
  const admin = clients.admin();
  try {
    await ensureTopics(clients, admin, [{ topic: options.aggregatesTopic, compacted: true }], options.partitions);
  } finally {
    await disconnectAll(logger, admin);
  }
  const snapshots = await readSnapshots(clients, options.aggregatesTopic, logger, signal);
  const partitions = [...snapshots.values()]
    .filter((snapshot) => snapshot.group === options.group && snapshot.topic === options.topic)
    .sort((a, b) => a.partition - b.partition);
  return { group: options.group, topic: options.topic, total: sumAggregates(partitions.map((p) => p.aggregate)), partitions };
}
