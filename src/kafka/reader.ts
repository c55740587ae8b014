import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Headers, SourceRecord } from '../processing/dlq.js';
import { withinTimeout, type Admin, type Consumer, type KafkaClients } from './client.js';
import { EndOfTopic } from './end-of-topic.js';

export interface ReadOptions {
  topic: string;
  /** Commit each partition's position after each batch (false for readers that must leave no trace). */
  commit: boolean;
  exitAtEnd: boolean;
}

/** Handles one record; throwing leaves it unacknowledged so it is read again. */
export type RecordHandler = (record: SourceRecord) => Promise<void>;

const END_CHECK_MS = 100;
const REDELIVERY_PAUSE_MS = 500;

/**
 * Reads `topic` in partition order, one batch per partition at a time, until the signal aborts
 * or (with exitAtEnd) every assigned partition is at its end. Positions advance only past handled records.
 */
export async function readTopic(
  clients: KafkaClients,
  admin: Admin,
  consumer: Consumer,
  options: ReadOptions,
  handle: RecordHandler,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const offsets = await topicOffsets(clients, admin, options.topic);
  const position = new EndOfTopic(new Map([...offsets].map(([partition, { high }]) => [partition, high])));
  await withinTimeout(clients, 'connecting the consumer', consumer.connect());
  await withinTimeout(clients, `subscribing to ${options.topic}`, consumer.subscribe({ topics: [options.topic] }));
  let stopping = false;

  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: Math.max(1, offsets.size),
    eachBatch: async ({ batch, resolveOffset, isStale }) => {
      let next: number | undefined;
      for (const message of batch.messages) {
        if (stopping || isStale()) break;
        const record: SourceRecord = {
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key,
          value: message.value,
          headers: (message.headers ?? {}) as Headers,
        };
        try {
          await handle(record);
        } catch (error) {
          logger.warn(`record ${batch.topic}/${batch.partition}@${message.offset} will be read again: ${messageOf(error)}`);
          await sleep(REDELIVERY_PAUSE_MS);
          break;
        }
        resolveOffset(message.offset);
        position.consumed(batch.partition, Number(message.offset));
        next = Number(message.offset) + 1;
      }
      if (options.commit && next !== undefined) await commit(consumer, options.topic, batch.partition, next, logger);
    },
  });

  const atEnd = options.exitAtEnd ? waitForEnd(consumer, options.topic, offsets, position, signal) : new Promise<void>(() => {});
  await Promise.race([atEnd, aborted(signal)]);
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
        position.startAt(entry.partition, Math.max(offsets.get(entry.partition)?.low ?? 0, Number(entry.offset)));
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
