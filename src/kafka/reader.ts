import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Headers, SourceRecord } from '../processing/dlq.js';
import { committedOffset, withinTimeout, type Admin, type Consumer, type KafkaClients } from './client.js';
import { EndOfTopic } from './end-of-topic.js';

export interface ReadOptions {
  topic: string;
  /** Commit each partition's position after each batch; false where a transaction or librdkafka commits it, or nobody may. */
  commit: boolean;
  exitAtEnd: boolean;
  /**
   * For topics written in transactions: commit markers sit past the last record, so a reader's position can
   * stop short of the high watermark; a partition quiet for this long counts as read to its end.
   */
  quietEndMs?: number;
  /** Partitions handled at once; 1 means one batch at a time (one transaction per batch). */
  concurrency?: number;
}

/** Handles a batch of one partition's records in order; returns how many (from the first) were handled. The rest are read again. */
export type BatchHandler = (records: SourceRecord[], stopping: () => boolean) => Promise<number>;

/** Handles one record; throwing leaves it and the rest of its batch to be read again. */
export type RecordHandler = (record: SourceRecord) => Promise<void>;

// Dead letters are written in transactions (exactly-once consume), whose commit markers follow the last record.
export const DLQ_QUIET_END_MS = 1_000;

const END_CHECK_MS = 100;
const REDELIVERY_PAUSE_MS = 500;

/** A batch handler that handles records one by one, stopping at the first failure. */
export function oneByOne(handle: RecordHandler, logger: Logger): BatchHandler {
  return async (records, stopping) => {
    let handled = 0;
    for (const record of records) {
      if (stopping()) break;
      try {
        await handle(record);
      } catch (error) {
        logger.warn(`record ${record.topic}/${record.partition}@${record.offset} will be read again: ${messageOf(error)}`);
        await sleep(REDELIVERY_PAUSE_MS);
        break;
      }
      handled++;
    }
    return handled;
  };
}

/**
 * Reads `topic` in partition order until the signal aborts or (with exitAtEnd) every assigned
 * partition is at its end. Positions advance only past handled records.
 */
export async function readTopic(
  clients: KafkaClients,
  admin: Admin,
  consumer: Consumer,
  options: ReadOptions,
  handle: BatchHandler,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const offsets = await topicOffsets(clients, admin, options.topic);
  const position = new EndOfTopic(new Map([...offsets].map(([partition, { high }]) => [partition, high])), options.quietEndMs);
  await withinTimeout(clients, 'connecting the consumer', consumer.connect());
  await withinTimeout(clients, `subscribing to ${options.topic}`, consumer.subscribe({ topics: [options.topic] }));
  let stopping = false;

  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.concurrency ?? Math.max(1, offsets.size),
    eachBatch: async ({ batch, resolveOffset, isStale }) => {
      const records: SourceRecord[] = batch.messages.map((message) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        timestamp: message.timestamp,
        key: message.key,
        value: message.value,
        headers: (message.headers ?? {}) as Headers,
      }));
      const handled = await handle(records, () => stopping || isStale());
      const last = records[handled - 1];
      if (last === undefined) return;
      resolveOffset(last.offset);
      position.consumed(batch.partition, Number(last.offset));
      if (options.commit) await commit(consumer, options.topic, batch.partition, Number(last.offset) + 1, logger);
    },
  });

  const stop = new AbortController();
  const forward = (): void => stop.abort();
  signal.addEventListener('abort', forward, { once: true });
  try {
    const atEnd = options.exitAtEnd ? waitForEnd(consumer, options.topic, offsets, position, stop.signal) : new Promise<void>(() => {});
    await Promise.race([atEnd, aborted(stop.signal)]);
  } finally {
    signal.removeEventListener('abort', forward);
    stop.abort();
  }
  stopping = true;
  // disconnect waits for the batches in progress, so their commits land before we return.
  await consumer.disconnect();
}

interface LogRange {
  low: number;
  high: number;
}

/** Log start and high watermark of every partition of `topic`, read once at start. */
async function topicOffsets(clients: KafkaClients, admin: Admin, topic: string): Promise<Map<number, LogRange>> {
  const offsets = await withinTimeout(clients, `reading the offsets of ${topic}`, admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]));
}

async function commit(consumer: Consumer, topic: string, partition: number, offset: number, logger: Logger): Promise<void> {
  try {
    await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
  } catch (error) {
    // Not fatal: the records are read again after a restart, which at-least-once allows.
    logger.warn(`commit of ${topic}/${partition}@${offset} failed: ${messageOf(error)}`);
  }
}

async function waitForEnd(consumer: Consumer, topic: string, offsets: Map<number, LogRange>, position: EndOfTopic, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const assigned = consumer.assignment().filter((tp) => tp.topic === topic).map((tp) => tp.partition);
    const unknown = assigned.filter((partition) => !position.hasStart(partition));
    if (unknown.length > 0) {
      const committed = await consumer.committed(unknown.map((partition) => ({ topic, partition })), 5_000).catch(() => []);
      for (const entry of committed) {
        // No committed offset (negative), or one below the log start, means reading starts at the log start.
        position.startAt(entry.partition, Math.max(offsets.get(entry.partition)?.low ?? 0, committedOffset(entry.offset ?? null)));
      }
    }
    if (position.reached(assigned)) return;
    await sleep(END_CHECK_MS);
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
