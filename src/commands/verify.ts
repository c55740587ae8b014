import { randomUUID } from 'node:crypto';
import type { OrderDecoder } from '../avro/codec.js';
import type { VerifyOptions } from '../config/flags.js';
import { MissingGroupError, UndecodableError } from '../errors.js';
import { oneByOne, readTopic } from '../kafka/consumer/reader.js';
import { groupOffsets } from '../kafka/consumer/group-offsets.js';
import type { SourceRecord } from '../kafka/record.js';
import type { KafkaSession } from '../kafka/session.js';
import { toCents } from '../processing/aggregate.js';
import { Audit, type AuditResult, type CommittedPartition } from '../processing/audit.js';
import { decodeCommitMetadata } from '../processing/commit-metadata.js';
import { readDeadLetter } from '../processing/dlq.js';
import { orderDecoder } from '../registry/value-format.js';

export interface Verification extends AuditResult {
  group: string;
  topic: string;
  dlqTopic: string;
  /** Members of the group while it was read: with any, the figures are a moving snapshot. */
  members: number;
}

/** The prefix of the throw-away groups verify reads through. */
export const VERIFY_GROUP_PREFIX = 'orders-verify-';

/**
 * Audits a group independently of the consume path: its committed offsets (with the finished offsets
 * their metadata names above them), the committed dead letters it wrote, and every order of the topic,
 * into whether the aggregate of `stats` equals what the decided orders add up to.
 */
export async function verify(options: VerifyOptions, session: KafkaSession): Promise<Verification> {
  const { group, topic, dlqTopic } = options;
  await session.admin.requireTopics([topic]);
  const ends = await session.admin.topicOffsets(topic);
  // Stable: an audit of offsets a transaction is about to move would be wrong the moment it is read.
  const offsets = await groupOffsets(session, group, topic, [...ends.keys()], true);
  // Only once its coordinator answered (src/kafka/admin/admin-requests.ts describeGroup says why).
  const description = await session.admin.describeGroup(group);
  const committed: CommittedPartition[] = [...offsets].map(([partition, { offset, metadata }]) => ({
    partition, committed: offset, metadata: offset < 0 ? { kind: 'none' } : decodeCommitMetadata(offset, metadata),
  }));
  if (!committed.some((p) => p.committed >= 0)) {
    throw new MissingGroupError(description.state === 'Dead' || description.state === 'Unknown'
      ? `group ${group} does not exist on ${session.brokers.join(',')}`
      : `group ${group} has no committed offset on topic ${topic}`);
  }
  const audit = new Audit(committed);
  // The dead letters first, after the offsets: a transaction commits both together, so none is missed.
  if (await session.admin.topicExists(dlqTopic)) {
    await readWhole(session, dlqTopic, async (record) => {
      const info = readDeadLetter(record.headers);
      if (info.group !== group || info.originalTopic !== topic || info.originalPartition === null || info.originalOffset === null) return;
      audit.deadLetter({ partition: info.originalPartition, offset: Number(info.originalOffset), key: record.key?.toString() ?? null });
    });
  }
  const decoder = orderDecoder(session, options.registry, AbortSignal.any([session.signal, session.failed]));
  await readWhole(session, topic, async (record) => {
    audit.order({ partition: record.partition, offset: Number(record.offset), cents: await centsOf(decoder, record) });
  });
  // Stopped half way, the audit would be wrong without saying so.
  session.steps.throwIfAborted(`reading ${topic}`);
  return { group, topic, dlqTopic, members: description.members.length, ...audit.result() };
}

/** Reads a topic from its beginning to its end (read_committed) through a fresh group that commits nothing. */
async function readWhole(session: KafkaSession, topic: string, handle: (record: SourceRecord) => Promise<void>): Promise<void> {
  const group = `${VERIFY_GROUP_PREFIX}${randomUUID()}`;
  await readTopic(session, { topic, group, consumer: session.consumer(group), commit: false, exitAtEnd: true }, oneByOne(handle));
}

async function centsOf(decoder: OrderDecoder, record: SourceRecord): Promise<number | undefined> {
  try {
    return toCents((await decoder.decode(record.value)).price);
  } catch (error) {
    if (error instanceof UndecodableError) return undefined;
    throw error;
  }
}
