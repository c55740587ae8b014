import { headerText, type Headers, type SourceRecord } from '../kafka/record.js';

/** Why an order ended in the dead-letter topic. */
export type DeadLetterReason = 'retries-exhausted' | 'undecodable' | 'non-retryable';

export interface FailureContext {
  group: string;
  attempts: number;
  reason: DeadLetterReason;
  errorMessage: string;
  failedAt: Date;
}

export interface DeadLetterRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

/** What a dead letter's headers say about how it got there; null where a header is missing or malformed. */
export interface DeadLetterInfo {
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  /** Milliseconds since the epoch as text, as Kafka gives a record's timestamp. */
  originalTimestamp: string | null;
  group: string | null;
  attempts: number | null;
  reason: string | null;
  errorMessage: string | null;
  failedAt: string | null;
}

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['retries-exhausted', 'undecodable', 'non-retryable'];

/** How often a record has been replayed from the dead-letter topic; set by dlq-replay. */
export const REPLAY_COUNT_HEADER = 'dlq.replay.count';

export const DLQ_HEADER = {
  originalTopic: 'dlq.original.topic',
  originalPartition: 'dlq.original.partition',
  originalOffset: 'dlq.original.offset',
  originalTimestamp: 'dlq.original.timestamp',
  group: 'dlq.consumer.group',
  attempts: 'dlq.attempts',
  reason: 'dlq.reason',
  errorMessage: 'dlq.error.message',
  failedAt: 'dlq.failed.at',
} as const;

// The client sends a zero-length Buffer without memory behind it as null; a view into real memory stays empty.
const EMPTY_VALUE = Buffer.alloc(1).subarray(1);

/** The value to send so that an empty value stays empty and null stays null. */
export function sameValue(value: Buffer | null): Buffer | null {
  return value !== null && value.length === 0 ? EMPTY_VALUE : value;
}

/** The dead letter keeps the original key, value bytes and headers, and adds where and why it failed. */
export function deadLetter(record: SourceRecord, context: FailureContext): DeadLetterRecord {
  return {
    key: record.key,
    value: sameValue(record.value),
    headers: {
      ...record.headers,
      [DLQ_HEADER.originalTopic]: record.topic,
      [DLQ_HEADER.originalPartition]: String(record.partition),
      [DLQ_HEADER.originalOffset]: record.offset,
      [DLQ_HEADER.originalTimestamp]: record.timestamp,
      [DLQ_HEADER.group]: context.group,
      [DLQ_HEADER.attempts]: String(context.attempts),
      [DLQ_HEADER.reason]: context.reason,
      [DLQ_HEADER.errorMessage]: context.errorMessage,
      [DLQ_HEADER.failedAt]: context.failedAt.toISOString(),
    },
  };
}

export function readDeadLetter(headers: Headers): DeadLetterInfo {
  const text = (name: string): string | null => {
    const value = headerText(headers[name]);
    return value === '' ? null : value;
  };
  return {
    originalTopic: text(DLQ_HEADER.originalTopic),
    originalPartition: wholeNumber(text(DLQ_HEADER.originalPartition)),
    originalOffset: text(DLQ_HEADER.originalOffset),
    originalTimestamp: text(DLQ_HEADER.originalTimestamp),
    group: text(DLQ_HEADER.group),
    attempts: wholeNumber(text(DLQ_HEADER.attempts)),
    reason: text(DLQ_HEADER.reason),
    errorMessage: text(DLQ_HEADER.errorMessage),
    failedAt: text(DLQ_HEADER.failedAt),
  };
}

export function replayCount(headers: Headers): number {
  return wholeNumber(headerText(headers[REPLAY_COUNT_HEADER])) ?? 0;
}

// Number('') is 0 and Number('1e3') is 1000: only plain digits count.
function wholeNumber(text: string | null): number | null {
  if (text === null || !/^\d{1,15}$/.test(text.trim())) return null;
  return Number(text.trim());
}

/** The record to send back: original key, value and headers, without the dead-letter context, one replay more. */
export function replayOf(letter: { key: Buffer | null; value: Buffer | null; headers: Headers }): DeadLetterRecord {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(letter.headers)) {
    if (!name.startsWith('dlq.')) headers[name] = value;
  }
  headers[REPLAY_COUNT_HEADER] = String(replayCount(letter.headers) + 1);
  return { key: letter.key, value: sameValue(letter.value), headers };
}
