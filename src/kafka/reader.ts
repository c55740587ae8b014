import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import { EndOfTopic } from './end-of-topic.js';
import type { Headers, SourceRecord } from './record.js';
import { committedOffset, type Consumer, type KafkaSession, type LogRange } from './session.js';

export interface ReadOptions {
  topic: string;
  /** The consumer's group, named when the broker refuses it. */
  group: string;
  /** Made by the session; readTopic connects, subscribes and disconnects it. */
  consumer: Consumer;
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
  /** Stops the read like Ctrl-C does, e.g. once a handler has what it needs. */
  until?: AbortSignal;
  /** Awaited once reading stops, before the consumer leaves its group (and so before its last revoke). */
  beforeDisconnect?: () => Promise<void>;
  /**
   * For handlers that finish records after they return: how far each partition is done comes from
   * here, not from what the handler took in, so --exit-at-end waits for the work, not the reading.
   */
  done?: DoneOffsets;
}

/** Where a handler that finishes records later says how far each partition is done (its last offset). */
export class DoneOffsets {
  private listener: ((partition: number, lastOffset: number) => void) | undefined;

  report(partition: number, lastOffset: number): void {
    this.listener?.(partition, lastOffset);
  }

  listen(listener: (partition: number, lastOffset: number) => void): void {
    this.listener = listener;
  }
}

/**
 * Handles a batch of one partition's records in order; returns how many (from the first) were handled,
 * and the rest are read again. Throwing fails the whole read: the command stops with that error.
 */
export type BatchHandler = (records: SourceRecord[], stopping: () => boolean) => Promise<number>;

/** Handles one record; throwing fails the read. */
export type RecordHandler = (record: SourceRecord) => Promise<void>;

// Dead letters are written in transactions (exactly-once consume), whose commit markers follow the last record.
export const DLQ_QUIET_END_MS = 1_000;

const END_CHECK_MS = 100;

/** A batch handler that handles records one by one, in order. */
export function oneByOne(handle: RecordHandler): BatchHandler {
  return async (records, stopping) => {
    let handled = 0;
    for (const record of records) {
      if (stopping()) break;
      await handle(record);
      handled++;
    }
    return handled;
  };
}

/**
 * Reads `topic` in partition order until Ctrl-C, `until`, a failed handler or (with exitAtEnd) every
 * assigned partition is at its end. Positions advance only past handled records.
 */
export async function readTopic(session: KafkaSession, options: ReadOptions, handle: BatchHandler): Promise<void> {
  const { consumer, topic } = options;
  session.readingAs(options.group, topic);
  const offsets = await session.topicOffsets(topic);
  const position = new EndOfTopic(new Map([...offsets].map(([partition, { high }]) => [partition, high])), options.quietEndMs);
  options.done?.listen((partition, lastOffset) => position.consumed(partition, lastOffset));
  await session.connect(consumer, 'consumer', { operation: 'READ', resource: `group ${options.group}` });
  await session.step(`subscribing to ${topic}`, () => consumer.subscribe({ topics: [topic] }), { operation: 'READ', resource: `topic ${topic}` });
  const stop = new AbortController();
  // A refused principal or bad credentials show only in librdkafka's log, and it would retry for ever.
  const stopped = AbortSignal.any([session.signal, session.failed, stop.signal, ...(options.until === undefined ? [] : [options.until])]);
  let failure: { error: unknown } | undefined;

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
      const stopping = (): boolean => stopped.aborted || isStale();
      // Stuck until a record is handled: a handler still waiting (say for the schema registry), or records
      // left over unhandled, keep the partition from counting as at its end, however quiet.
      position.stuck(batch.partition);
      let handled: number;
      try {
        handled = await handle(records, stopping);
      } catch (error) {
        // Not the client's to retry: the command fails with this error once the consumer is closed.
        failure ??= { error };
        stop.abort();
        return;
      }
      const last = records[handled - 1];
      if (last === undefined) return;
      resolveOffset(last.offset);
      if (options.done === undefined) position.consumed(batch.partition, Number(last.offset));
      if (options.commit) await commit(session, consumer, topic, batch.partition, Number(last.offset) + 1);
    },
  });

  try {
    if (options.exitAtEnd) await waitForEnd(consumer, topic, offsets, position, stopped);
    else await aborted(stopped);
  } finally {
    stop.abort();
    await options.beforeDisconnect?.();
    // disconnect waits for the batches in progress, so their commits land before we return.
    await consumer.disconnect();
  }
  if (failure !== undefined) throw failure.error;
  session.throwIfFailed();
}

async function commit(session: KafkaSession, consumer: Consumer, topic: string, partition: number, offset: number): Promise<void> {
  try {
    await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
  } catch (error) {
    // Not fatal: the records are read again after a restart, which at-least-once allows.
    session.logger.warn(`commit of ${topic}/${partition}@${offset} failed: ${messageOf(error)}`);
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
    await sleep(END_CHECK_MS, undefined, { signal }).catch(() => undefined);
  }
}

/** Resolves once `signal` aborts, also when it already has. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
