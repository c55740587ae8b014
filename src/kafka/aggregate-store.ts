import { randomUUID } from 'node:crypto';
import { BrokerError } from '../errors.js';
import type { Logger } from '../logger.js';
import { decodeSnapshot, snapshotKey, type PartitionSnapshot } from '../processing/snapshot.js';
import { disconnectAll, withinTimeout, type KafkaClients } from './client.js';
import { oneByOne, readTopic } from './reader.js';

/** Commit markers follow every snapshot, so a quiet partition marks the end of the aggregates topic. */
const QUIET_END_MS = 500;

/**
 * Reads the aggregates topic (committed transactions only) from the beginning and keeps the newest
 * snapshot per key: to its end, or until `enough` says it has what it needs.
 */
export async function readSnapshots(
  clients: KafkaClients,
  aggregatesTopic: string,
  logger: Logger,
  signal: AbortSignal,
  enough?: (snapshots: Map<string, PartitionSnapshot>) => boolean,
): Promise<Map<string, PartitionSnapshot>> {
  const admin = clients.admin();
  // A fresh group each read: starts at the beginning and commits nothing.
  const consumer = clients.consumer(`orders-aggregates-reader-${randomUUID()}`);
  const newest = new Map<string, PartitionSnapshot>();
  const done = new AbortController();
  const keep = async (record: { value: Buffer | null }): Promise<void> => {
    const snapshot = decodeSnapshot(record.value);
    if (snapshot === undefined) return;
    const key = snapshotKey(snapshot.group, snapshot.topic, snapshot.partition);
    // Snapshots of one partition only move forward, so the highest offset is the newest.
    if ((newest.get(key)?.offset ?? -2) < snapshot.offset) newest.set(key, snapshot);
    if (enough?.(newest) === true) done.abort();
  };
  try {
    await withinTimeout(clients, 'connecting the admin client', admin.connect());
    const options = { topic: aggregatesTopic, commit: false, exitAtEnd: enough === undefined, quietEndMs: QUIET_END_MS };
    await readTopic(clients, admin, consumer, options, oneByOne(keep, logger), logger, AbortSignal.any([signal, done.signal]));
    return newest;
  } finally {
    await disconnectAll(logger, consumer, admin);
  }
}

/**
 * The snapshots of `partitions` of (group, topic) that match their committed offsets: a snapshot
 * folded up to offset o goes with committed offset o + 1, as both were written in one transaction.
 * A partition with no committed offset (-1) starts from nothing.
 */
export async function restoreSnapshots(
  clients: KafkaClients,
  aggregatesTopic: string,
  source: { group: string; topic: string },
  committed: Map<number, number>,
  logger: Logger,
  signal: AbortSignal,
): Promise<Map<number, PartitionSnapshot>> {
  const wanted = [...committed].filter(([, offset]) => offset >= 0);
  const matching = (snapshots: Map<string, PartitionSnapshot>): Map<number, PartitionSnapshot> => {
    const found = new Map<number, PartitionSnapshot>();
    for (const [partition, offset] of wanted) {
      const snapshot = snapshots.get(snapshotKey(source.group, source.topic, partition));
      if (snapshot !== undefined && snapshot.offset >= offset - 1) found.set(partition, snapshot);
    }
    return found;
  };
  if (wanted.length === 0) return new Map();
  const deadline = AbortSignal.timeout(clients.timeoutMs);
  const snapshots = await readSnapshots(clients, aggregatesTopic, logger, AbortSignal.any([signal, deadline]), (read) => matching(read).size === wanted.length);
  const found = matching(snapshots);
  const missing = wanted.filter(([partition]) => !found.has(partition)).map(([partition]) => partition);
  if (missing.length > 0 && !signal.aborted) {
    throw new BrokerError(`no aggregate snapshot in ${aggregatesTopic} within ${clients.timeoutMs} ms matches the committed offsets of ${source.topic} partitions ${missing.join(', ')} (group ${source.group})`);
  }
  return found;
}
