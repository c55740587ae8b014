import type { KafkaSession } from '../session.js';

/** A partition's committed offset (-1: none) and its metadata. */
export interface GroupOffset {
  offset: number;
  metadata: string | undefined;
}

/**
 * The offsets `group` committed on `topic`, read by a consumer that never joins the group. `stable`: a
 * commit inside a transaction still open is waited for (as long as the broker takes to end it, 10-20 s
 * after a member's death); else the last one committed is read at once. Not by the admin client: librdkafka 2.15.1 answers
 * an admin OffsetFetch refused with NOT_COORDINATOR (a coordinator moving, or not ready on a fresh
 * cluster) by asking the consumer group handle an admin client does not have for a new coordinator
 * (rd_kafka_handle_OffsetFetch → rd_kafka_cgrp_op(NULL)): a SIGSEGV, caught with gdb (issue 26).
 */
export async function groupOffsets(session: KafkaSession, group: string, topic: string, partitions: number[], stable: boolean): Promise<Map<number, GroupOffset>> {
  const access = { operation: 'DESCRIBE', resource: `group ${group}` } as const;
  // librdkafka asks the broker for stable offsets (require_stable) exactly when it reads committed records.
  const consumer = session.consumer(group, undefined, { 'isolation.level': stable ? 'read_committed' : 'read_uncommitted' });
  await session.connect({ connect: () => consumer.connect(session.timeoutMs) }, 'offsets reader', access);
  try {
    const found = await session.steps.run(`reading the offsets of group ${group}`, (remainingMs) => consumer.committed(topic, partitions, Math.max(1, remainingMs)), access);
    return new Map(found.map(({ partition, offset, metadata }) => [partition, { offset, metadata }]));
  } finally {
    await consumer.disconnect();
  }
}
