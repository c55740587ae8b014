import type { DlqReplayOptions } from '../config.js';
import { disconnectAll, ensureTopics, withinTimeout, type KafkaClients } from '../kafka/client.js';
import { DLQ_QUIET_END_MS, readTopic, type BatchHandler } from '../kafka/reader.js';
import type { Logger } from '../logger.js';
import { readDeadLetter, replayCount, replayOf, type SourceRecord } from '../processing/dlq.js';

export interface ReplayEvent {
  action: 'replayed' | 'would-replay' | 'skipped-max-replays';
  key: string | null;
  reason: string;
  dlqPartition: number;
  dlqOffset: string;
  to: string;
  /** Replays of this record so far, counting this one when replayed. */
  replayCount: number;
}

export interface DlqReplayDeps {
  clients: KafkaClients;
  logger: Logger;
  events: { replay(event: ReplayEvent): void };
}

export interface DlqReplaySummary {
  replayed: number;
  wouldReplay: number;
  skipped: number;
}

/**
 * Sends dead letters back to their original topic (or --to) with their original key, value and headers.
 * Its own consumer group remembers how far it got, so a second run does not replay a dead letter again;
 * letters that do not match the filters are passed by too. --dry-run commits nothing.
 */
export async function dlqReplay(options: DlqReplayOptions, deps: DlqReplayDeps, signal: AbortSignal): Promise<DlqReplaySummary> {
  const { clients, logger, events } = deps;
  const admin = clients.admin();
  const producer = clients.producer();
  const consumer = clients.consumer(options.group);
  const summary: DlqReplaySummary = { replayed: 0, wouldReplay: 0, skipped: 0 };
  const enough = new AbortController();
  // Partitions are read concurrently: claim a slot of --limit before the await, not after.
  let claimed = 0;

  const matches = (letter: SourceRecord, reason: string): boolean =>
    (options.reason === undefined || options.reason === reason) && (options.orderId === undefined || letter.key?.toString() === options.orderId);

  const replayBatch: BatchHandler = async (letters, stopping) => {
    let handled = 0;
    for (const letter of letters) {
      if (stopping()) break;
      const info = readDeadLetter(letter.headers);
      if (matches(letter, info.reason)) {
        const to = options.to ?? info.originalTopic;
        const count = replayCount(letter.headers);
        const base = { key: letter.key?.toString() ?? null, reason: info.reason, dlqPartition: letter.partition, dlqOffset: letter.offset, to };
        if (count >= options.maxReplays) {
          logger.warn(`dead letter ${letter.topic}/${letter.partition}@${letter.offset} was replayed ${count} times already (--max-replays ${options.maxReplays}); skipped`);
          summary.skipped++;
          events.replay({ ...base, action: 'skipped-max-replays', replayCount: count });
        } else if (options.limit !== undefined && claimed >= options.limit) {
          enough.abort();
          break;
        } else if (options.dryRun) {
          claimed++;
          summary.wouldReplay++;
          events.replay({ ...base, action: 'would-replay', replayCount: count });
        } else {
          claimed++;
          await producer.send({ topic: to, messages: [replayOf(letter)] });
          summary.replayed++;
          events.replay({ ...base, action: 'replayed', replayCount: count + 1 });
        }
      }
      handled++;
    }
    return handled;
  };

  try {
    await ensureTopics(clients, admin, [options.dlqTopic, ...(options.to === undefined ? [] : [options.to])], options.partitions);
    await withinTimeout(clients, 'connecting the producer', producer.connect());
    await readTopic(
      clients, admin, consumer,
      { topic: options.dlqTopic, commit: !options.dryRun, exitAtEnd: true, quietEndMs: DLQ_QUIET_END_MS },
      replayBatch, logger, AbortSignal.any([signal, enough.signal]),
    );
    return summary;
  } finally {
    await disconnectAll(logger, consumer, producer, admin);
  }
}
