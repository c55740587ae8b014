import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import { authorizationFailure } from '../kafka/failures.js';
import type { SourceRecord } from '../kafka/record.js';
import type { BatchHandler } from '../kafka/reader.js';
import { deadLetterOf, followRebalances, processOrder, type ConsumeMode, type ConsumeParts } from './mode.js';

// Offsets of handled records are committed by librdkafka this often, and on shutdown; a commit after
// every batch swamped the group coordinator at 10,000 orders/s.
const COMMIT_EVERY_MS = 1_000;
// A record whose dead letter could not be sent (the broker is away) is read again after this pause.
const REDELIVERY_PAUSE_MS = 500;

/**
 * At-least-once: an offset is committed only after its order was folded into the totals or its dead
 * letter acknowledged; after a crash the records since the last commit are handled again.
 */
export function atLeastOnce(parts: ConsumeParts): ConsumeMode {
  const { options, session, totals, tally } = parts;
  const producer = session.producer();
  const consumer = session.consumer(options.group, followRebalances(parts), COMMIT_EVERY_MS);

  // False when the partition was revoked meanwhile: its new owner reads the record again.
  const handleOne = async (record: SourceRecord): Promise<boolean> => {
    const lease = totals.lease(record.partition);
    if (lease === undefined) return false;
    const outcome = await processOrder(parts, record);
    if (outcome.kind === 'dead-letter') await producer.send({ topic: options.dlqTopic, messages: [deadLetterOf(parts, record, outcome)] });
    else if (!totals.fold(lease, outcome.order.price)) return false;
    tally.record(record, outcome, totals.total());
    return true;
  };

  const handle: BatchHandler = async (records, stopping) => {
    let handled = 0;
    for (const record of records) {
      if (stopping()) break;
      try {
        if (!(await handleOne(record))) break;
      } catch (error) {
        // A refused principal stays refused: stop with the reason instead of reading the record for ever.
        const refused = authorizationFailure(error, { operation: 'WRITE', resource: `topic ${options.dlqTopic}` });
        if (refused !== undefined) throw refused;
        session.logger.warn(`record ${record.topic}/${record.partition}@${record.offset} will be read again: ${messageOf(error)}`);
        await sleep(REDELIVERY_PAUSE_MS);
        break;
      }
      handled++;
    }
    return handled;
  };

  return {
    consumer,
    concurrency: undefined,
    start: async () => { await session.connect(producer, 'dead-letter producer'); },
    handle,
    settle: async () => {},
  };
}
