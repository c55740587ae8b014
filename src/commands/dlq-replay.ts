import type { DlqReplayOptions } from '../config/flags.js';
import { DeliveryError, messageOf } from '../errors.js';
import { authorizationFailure } from '../kafka/failures.js';
import { readTopic, type BatchHandler } from '../kafka/consumer/reader.js';
import type { SourceRecord } from '../kafka/record.js';
import type { KafkaSession } from '../kafka/session.js';
import type { OrdersMetrics } from '../metrics/metrics.js';
import { readDeadLetter, replayCount, replayOf } from '../processing/dlq.js';

// The consumer's librdkafka statistics for the metrics (round trips, queues).
const STATISTICS_EVERY_MS = 1_000;

export interface ReplayEvent {
  action: 'replayed' | 'would-replay' | 'skipped-max-replays' | 'skipped-no-topic';
  key: string | null;
  reason: string | null;
  dlqPartition: number;
  dlqOffset: string;
  /** Where it goes; null when the dead letter names no original topic and --to is not given. */
  to: string | null;
  /** Replays of this record so far, counting this one when replayed. */
  replayCount: number;
}

export interface DlqReplayEvents {
  replay(event: ReplayEvent): void;
}

export interface DlqReplaySummary {
  replayed: number;
  wouldReplay: number;
  /** Skipped as replayed --max-replays times already. */
  skipped: number;
  /** Skipped as naming no topic to go back to. */
  noTopic: number;
}

/**
 * Sends dead letters back to their original topic (or --to) with their original key, value and headers.
 * Its own consumer group remembers how far it got, so a second run does not replay a dead letter again;
 * letters that do not match the filters are passed by too. --dry-run commits nothing. A send that fails
 * stops the command with an error; what was replayed before it stays committed.
 */
export async function dlqReplay(options: DlqReplayOptions, session: KafkaSession, events: DlqReplayEvents, metrics?: OrdersMetrics): Promise<DlqReplaySummary> {
  const summary: DlqReplaySummary = { replayed: 0, wouldReplay: 0, skipped: 0, noTopic: 0 };
  if (metrics !== undefined) session.statistics(STATISTICS_EVERY_MS, (json, client) => metrics.libraryStatistics(client, json));
  await session.admin.ensureTopics([options.dlqTopic, ...(options.to === undefined ? [] : [options.to])], options);
  const producer = await session.connect(session.producer(), 'producer');
  const consumer = session.consumer(options.group);
  const stop = new AbortController();
  let failure: unknown;
  // Partitions are read concurrently: a slot of --limit is claimed before the await, and given back if the send fails.
  let claimed = 0;

  const matches = (letter: SourceRecord, reason: string | null): boolean =>
    (options.reason === undefined || options.reason === reason) && (options.orderId === undefined || letter.key?.toString() === options.orderId);

  // False once the command must stop before this letter.
  const replayOne = async (letter: SourceRecord): Promise<boolean> => {
    const info = readDeadLetter(letter.headers);
    if (!matches(letter, info.reason)) return true;
    const to = options.to ?? info.originalTopic;
    const count = replayCount(letter.headers);
    const base = { key: letter.key?.toString() ?? null, reason: info.reason, dlqPartition: letter.partition, dlqOffset: letter.offset, to };
    const where = `dead letter ${letter.topic}/${letter.partition}@${letter.offset}`;
    if (to === null) {
      session.logger.warn(`${where} has no dlq.original.topic header; skipped (--to names a topic for such letters)`);
      summary.noTopic++;
      events.replay({ ...base, action: 'skipped-no-topic', replayCount: count });
    } else if (count >= options.maxReplays) {
      session.logger.warn(`${where} was replayed ${count} times already (--max-replays ${options.maxReplays}); skipped`);
      summary.skipped++;
      events.replay({ ...base, action: 'skipped-max-replays', replayCount: count });
    } else if (options.limit !== undefined && claimed >= options.limit) {
      stop.abort();
      return false;
    } else if (options.dryRun) {
      claimed++;
      summary.wouldReplay++;
      events.replay({ ...base, action: 'would-replay', replayCount: count });
    } else {
      claimed++;
      try {
        await producer.send({ topic: to, messages: [replayOf(letter)] });
      } catch (error) {
        claimed--;
        failure ??= authorizationFailure(error, { operation: 'WRITE', resource: `topic ${to}` })
          ?? new DeliveryError(`could not replay ${where} to ${to}: ${messageOf(error)}`, error);
        stop.abort();
        return false;
      }
      summary.replayed++;
      if (metrics !== undefined) metrics.counts.replayed++;
      events.replay({ ...base, action: 'replayed', replayCount: count + 1 });
    }
    return true;
  };

  // Returns what was handled even when a send failed, so that what was replayed is committed.
  const replayBatch: BatchHandler = async (letters, stopping) => {
    let handled = 0;
    for (const letter of letters) {
      if (stopping() || !(await replayOne(letter))) break;
      handled++;
    }
    return handled;
  };

  metrics?.readyWhen(() => true);
  await readTopic(session, {
    topic: options.dlqTopic, group: options.group, consumer, commit: !options.dryRun, exitAtEnd: true, until: stop.signal,
    ...(metrics === undefined ? {} : { heartbeat: () => metrics.beat() }),
  }, replayBatch);
  if (failure !== undefined) throw failure;
  return summary;
}
