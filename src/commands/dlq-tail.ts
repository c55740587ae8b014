import { randomUUID } from 'node:crypto';
import { decodeOrder, type Order } from '../avro/codec.js';
import type { DlqTailOptions } from '../config.js';
import { UndecodableError } from '../errors.js';
import { disconnectAll, ensureTopics, type KafkaClients } from '../kafka/client.js';
import { DLQ_QUIET_END_MS, oneByOne, readTopic } from '../kafka/reader.js';
import type { Logger } from '../logger.js';
import { readDeadLetter, type DeadLetterInfo, type SourceRecord } from '../processing/dlq.js';

export interface DeadLetterView {
  partition: number;
  offset: string;
  key: string | null;
  /** The decoded order, or null when the original bytes were not a valid order. */
  order: Order | null;
  /** The original value as base64 when it could not be decoded. */
  rawBase64: string | null;
  info: DeadLetterInfo;
}

export interface DlqTailDeps {
  clients: KafkaClients;
  logger: Logger;
  events: { deadLetter(view: DeadLetterView): void };
}

export interface DlqTailSummary {
  shown: number;
}

/** Shows every dead letter from the beginning; commits nothing, so it never moves anyone's position. */
export async function dlqTail(options: DlqTailOptions, deps: DlqTailDeps, signal: AbortSignal): Promise<DlqTailSummary> {
  const { clients, logger, events } = deps;
  const admin = clients.admin();
  // A fresh group each run: it starts at the beginning and, with no commits, leaves nothing behind.
  const consumer = clients.consumer(`orders-dlq-tail-${randomUUID()}`);
  const summary: DlqTailSummary = { shown: 0 };

  const show = async (record: SourceRecord): Promise<void> => {
    events.deadLetter(viewOf(record));
    summary.shown++;
  };

  try {
    await ensureTopics(clients, admin, [options.dlqTopic], options.partitions);
    await readTopic(clients, admin, consumer, { topic: options.dlqTopic, commit: false, exitAtEnd: options.exitAtEnd, quietEndMs: DLQ_QUIET_END_MS }, oneByOne(show, logger), logger, signal);
    return summary;
  } finally {
    await disconnectAll(logger, consumer, admin);
  }
}

export function viewOf(record: SourceRecord): DeadLetterView {
  let order: Order | null = null;
  try {
    order = decodeOrder(record.value);
  } catch (error) {
    if (!(error instanceof UndecodableError)) throw error;
  }
  return {
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString() ?? null,
    order,
    rawBase64: order === null ? (record.value?.toString('base64') ?? '') : null,
    info: readDeadLetter(record.headers),
  };
}
