import { randomUUID } from 'node:crypto';
import type { Order, OrderDecoder } from '../avro/codec.js';
import type { DlqTailOptions } from '../config/flags.js';
import { BrokerError, UndecodableError } from '../errors.js';
import { oneByOne, readTopic } from '../kafka/consumer/reader.js';
import type { SourceRecord } from '../kafka/record.js';
import type { KafkaSession } from '../kafka/session.js';
import { readDeadLetter, type DeadLetterInfo } from '../processing/dlq.js';
import { orderDecoder } from '../registry/value-format.js';
import { schemaIdOf } from '../registry/wire.js';

export interface DeadLetterView {
  partition: number;
  offset: string;
  key: string | null;
  /** The decoded order, or null when the original bytes were not a valid order. */
  order: Order | null;
  /** The original value as base64 when it could not be decoded. */
  rawBase64: string | null;
  /** With a schema registry: the schema id the value names, if it has the header. */
  schemaId: number | null;
  info: DeadLetterInfo;
}

export interface DlqTailEvents {
  deadLetter(view: DeadLetterView): void;
}

export interface DlqTailSummary {
  shown: number;
}

/** The prefix of the throw-away groups dlq-tail reads through. */
export const DLQ_TAIL_GROUP_PREFIX = 'orders-dlq-tail-';

/** Shows every dead letter from the beginning; commits nothing, so it never moves anyone's position. */
export async function dlqTail(options: DlqTailOptions, session: KafkaSession, events: DlqTailEvents): Promise<DlqTailSummary> {
  const summary: DlqTailSummary = { shown: 0 };
  await session.admin.requireTopics([options.dlqTopic]);
  // A fresh group each run: it starts at the beginning and, with no commits, leaves nothing behind.
  const group = `${DLQ_TAIL_GROUP_PREFIX}${randomUUID()}`;
  const consumer = session.consumer(group);
  const stop = AbortSignal.any([session.signal, session.failed]);
  const decoder = orderDecoder(session, options.registry, stop);
  const show = async (record: SourceRecord): Promise<void> => {
    let view: DeadLetterView;
    try {
      view = await viewOf(record, decoder, options.registry !== undefined);
    } catch (error) {
      // Ctrl-C while waiting for the registry ends the tail, it is not a failed one.
      if (stop.aborted) return;
      throw error;
    }
    events.deadLetter(view);
    summary.shown++;
  };
  // With --exit-at-end, a group never joined is a failure, not a wait for ever: librdkafka retries a
  // coordinator that cannot write its offsets topic (two of three brokers down) without end. Twice the
  // timeout: the connecting steps before may take one each.
  const joinCheck = options.exitAtEnd ? setTimeout(() => {
    if (consumer.assignment(options.dlqTopic).length === 0) {
      session.fail(new BrokerError(`no answer from the group coordinator at ${session.brokers.join(',')} within ${2 * session.timeoutMs} ms while joining a group to read ${options.dlqTopic}; are the brokers running?`));
    }
  }, 2 * session.timeoutMs) : undefined;
  try {
    await readTopic(session, { topic: options.dlqTopic, group, consumer, commit: false, exitAtEnd: options.exitAtEnd }, oneByOne(show));
  } finally {
    clearTimeout(joinCheck);
  }
  return summary;
}

export async function viewOf(record: SourceRecord, decoder: OrderDecoder, framed: boolean): Promise<DeadLetterView> {
  let order: Order | null = null;
  try {
    order = await decoder.decode(record.value);
  } catch (error) {
    if (!(error instanceof UndecodableError)) throw error;
  }
  return {
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString() ?? null,
    order,
    rawBase64: order === null ? (record.value?.toString('base64') ?? '') : null,
    schemaId: framed ? schemaIdOf(record.value) : null,
    info: readDeadLetter(record.headers),
  };
}
