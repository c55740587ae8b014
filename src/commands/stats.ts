import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { StatsOptions } from '../config/flags.js';
import { MissingGroupError } from '../errors.js';
import { restoreAggregates } from '../kafka/consumer/aggregate-store.js';
import { groupOffsets } from '../kafka/consumer/group-offsets.js';
import type { GroupDescription } from '../kafka/admin/admin-requests.js';
import type { KafkaSession } from '../kafka/session.js';
import { sumAggregates, type Aggregate } from '../processing/aggregate.js';
import { decodeCommitMetadata } from '../processing/commit-metadata.js';
import { lagOf } from '../processing/lag.js';
import type { PartitionSnapshot } from '../processing/snapshot.js';

const { IsolationLevel } = kafkaJavascript.KafkaJS;

export interface Stats {
  group: string;
  topic: string;
  total: Aggregate;
  /** One per partition that has an aggregate, by partition number. */
  partitions: PartitionSnapshot[];
  lag: GroupLag;
}

/** Where the group stands on each partition of the topic, and who reads it. */
export interface PartitionLag {
  partition: number;
  /** The next offset the group reads; -1 where it committed none (it then starts at the log start). */
  committed: number;
  /** The high watermark. */
  logEnd: number;
  /** Where read_committed readers (orders consume) stop: below an open transaction's first record. */
  lastStable: number;
  /** Records from the committed offset (or the log start) to the log end. */
  lag: number;
  /** The member the partition is assigned to now, if any. */
  owner: { memberId: string; clientId: string; host: string } | undefined;
}

export interface GroupLag {
  state: string;
  protocolType: string;
  protocol: string;
  members: number;
  partitions: PartitionLag[];
  total: number;
}

/**
 * The exact aggregate of a consumer group over all partitions: for each partition the aggregate
 * committed with the group's offset (in its metadata), or, for offsets committed by orders before the
 * aggregates moved there, the snapshot of the aggregates topic that matches it, or a newer one if the
 * group committed meanwhile; never an older one that happens to be readable while a newer is held back.
 * Beside it, the group's lag on each partition and which member reads it.
 */
export async function stats(options: StatsOptions, session: KafkaSession): Promise<Stats> {
  const { group, topic } = options;
  await session.admin.requireTopics([topic]);
  const [ends, stable] = await Promise.all([session.admin.topicOffsets(topic), session.admin.topicOffsets(topic, IsolationLevel.READ_COMMITTED)]);
  // The last committed state at once: a dead member's open transaction would hold a stable read 10-20 s.
  const committed = await groupOffsets(session, group, topic, [...ends.keys()], false);
  // Only once its coordinator answered (src/kafka/admin/admin-requests.ts describeGroup says why).
  const description = await session.admin.describeGroup(group);
  const lag = groupLag(description, topic, committed, ends, stable);
  if (![...committed.values()].some(({ offset }) => offset >= 0) && !lag.partitions.some((p) => p.owner !== undefined)) {
    throw new MissingGroupError(lag.state === 'Dead' || lag.state === 'Unknown'
      ? `group ${group} does not exist on ${session.brokers.join(',')}`
      : `group ${group} has no committed offset on topic ${topic}, and no member of it reads ${topic}`);
  }
  const partitions: PartitionSnapshot[] = [];
  const older = new Map<number, number>();
  for (const [partition, { offset, metadata }] of committed) {
    const decoded = offset < 0 ? undefined : decodeCommitMetadata(offset, metadata);
    const aggregate = decoded?.kind === 'ours' ? decoded.state.aggregate : undefined;
    if (aggregate !== undefined) partitions.push({ group, topic, partition, aggregate, offset: offset - 1 });
    else if (decoded !== undefined) older.set(partition, offset);
  }
  if (older.size > 0) {
    await session.admin.requireTopics([options.aggregatesTopic]);
    const aggregates = await restoreAggregates(session, options.aggregatesTopic, { group, topic }, older, true);
    // Stopped half way, the figures would be wrong without saying so.
    session.steps.throwIfAborted(`reading ${options.aggregatesTopic}`);
    for (const [partition, { aggregate, offset }] of aggregates) if (offset >= 0) partitions.push({ group, topic, partition, aggregate, offset });
  }
  partitions.sort((a, b) => a.partition - b.partition);
  return { group, topic, total: sumAggregates(partitions.map((p) => p.aggregate)), partitions, lag };
}

/** Each partition of the topic: committed offset, log end and last stable offset, lag and owner. */
export function groupLag(
  description: GroupDescription,
  topic: string,
  committed: Map<number, { offset: number }>,
  ends: Map<number, { low: number; high: number }>,
  stable: Map<number, { high: number }>,
): GroupLag {
  const owners = new Map<number, PartitionLag['owner']>();
  for (const member of description.members) {
    for (const assigned of member.partitions) {
      if (assigned.topic === topic) owners.set(assigned.partition, { memberId: member.memberId, clientId: member.clientId, host: member.host });
    }
  }
  const partitions = [...ends].sort(([a], [b]) => a - b).map(([partition, { low, high }]) => {
    const offset = committed.get(partition)?.offset ?? -1;
    return {
      partition, committed: offset, logEnd: high, lastStable: stable.get(partition)?.high ?? high,
      lag: lagOf(offset, high, low) ?? 0, owner: owners.get(partition),
    };
  });
  return {
    state: description.state, protocolType: description.protocolType, protocol: description.protocol, members: description.members.length,
    partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0),
  };
}
