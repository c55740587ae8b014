import { setTimeout as sleep } from 'node:timers/promises';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { ConsumeOptions } from '../config.js';
import { retryPolicyOf } from '../config.js';
import { SimulatedFailure, messageOf } from '../errors.js';
import type { BatchHandler } from '../kafka/reader.js';
import type { SourceRecord } from '../kafka/record.js';
import type { Consumer, ConsumerTuning, KafkaSession } from '../kafka/session.js';
import { deadLetter, type DeadLetterRecord } from '../processing/dlq.js';
import type { PartitionTotals } from '../processing/partition-totals.js';
import { processRecord, type Outcome } from '../processing/process-record.js';
import { failsAttempt } from '../processing/simulated-failure.js';
import type { ConsumeEvents, Tally } from './tally.js';

/** What both guarantees work with; `totals` and `tally` are the only state that changes. */
export interface ConsumeParts {
  options: ConsumeOptions;
  session: KafkaSession;
  events: ConsumeEvents;
  totals: PartitionTotals;
  tally: Tally;
}

/** One guarantee's way of consuming: its consumer, its start-up, its batch handler. */
export interface ConsumeMode {
  readonly consumer: Consumer;
  /** Partitions handled at once; undefined for all assigned. */
  readonly concurrency: number | undefined;
  start(): Promise<void>;
  readonly handle: BatchHandler;
  /** Waits for work started outside a batch (a restore) so the summary is final. */
  settle(): Promise<void>;
}

const { ERR__ASSIGN_PARTITIONS, ERR__REVOKE_PARTITIONS } = kafkaJavascript.CODES.ERRORS;

/** A rebalance_cb that moves `topic`'s partitions in and out of `totals`, then tells `assigned`. */
export function followRebalances(parts: ConsumeParts, assigned: (partitions: number[]) => void = () => {}): ConsumerTuning {
  const { options: { topic }, totals, session } = parts;
  return {
    rebalance_cb: (error: { code: number }, assignment: { topic: string; partition: number }[]) => {
      const partitions = assignment.filter((tp) => tp.topic === topic).map((tp) => tp.partition);
      if (error.code === ERR__ASSIGN_PARTITIONS) {
        totals.assign(partitions);
        session.logger.info(`assigned ${topic} partitions ${partitions.join(', ') || 'none'}`);
        assigned(partitions);
      } else if (error.code === ERR__REVOKE_PARTITIONS) {
        totals.revoke(partitions);
        session.logger.info(`revoked ${topic} partitions ${partitions.join(', ') || 'none'}`);
      }
    },
  };
}

/** Decodes a record and runs the (simulated) business step with the retry policy. */
export function processOrder(parts: ConsumeParts, record: SourceRecord): Promise<Outcome> {
  const { options, events } = parts;
  return processRecord(record.value, {
    policy: retryPolicyOf(options),
    process: (order, attempt) => {
      if (failsAttempt(options.seed, order.orderId, attempt, options.failRate)) throw new SimulatedFailure(order.orderId, attempt);
    },
    retrying: ({ orderId, attempt, delayMs, error }) =>
      events.retrying({ orderId, partition: record.partition, offset: record.offset, attempt, delayMs, errorMessage: messageOf(error) }),
    sleep: (ms) => sleep(ms),
  });
}

/** The dead letter of a record that must not be retried again. */
export function deadLetterOf(parts: ConsumeParts, record: SourceRecord, outcome: Outcome & { kind: 'dead-letter' }): DeadLetterRecord {
  return deadLetter(record, { group: parts.options.group, attempts: outcome.attempts, reason: outcome.reason, errorMessage: messageOf(outcome.error), failedAt: new Date() });
}
