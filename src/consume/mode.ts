import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { OrderDecoder } from '../avro/codec.js';
import type { ConsumeOptions } from '../config.js';
import { retryPolicyOf } from '../config.js';
import { SimulatedFailure, messageOf } from '../errors.js';
import type { BatchHandler, DoneOffsets } from '../kafka/reader.js';
import type { SourceRecord } from '../kafka/record.js';
import type { Consumer, ConsumerTuning, KafkaSession } from '../kafka/session.js';
import { deadLetter, type DeadLetterRecord } from '../processing/dlq.js';
import type { FlightGate } from '../processing/flight.js';
import type { PartitionTotals } from '../processing/partition-totals.js';
import { processRecord, type Outcome } from '../processing/process-record.js';
import { failsAttempt } from '../processing/simulated-failure.js';
import { Committer } from './committer.js';
import type { Dispatch } from './dispatch.js';
import type { ConsumeEvents, Tally } from './tally.js';

/** What both guarantees work with; `totals`, `tally` and `gate` are the only state that changes. */
export interface ConsumeParts {
  options: ConsumeOptions;
  session: KafkaSession;
  events: ConsumeEvents;
  totals: PartitionTotals;
  tally: Tally;
  gate: FlightGate;
  /** Ctrl-C, SIGTERM or a fatal failure: backoffs end at once, their records are read again next time. */
  stop: AbortSignal;
  /** Told each partition's last committed offset, which is what --exit-at-end waits for. */
  done: DoneOffsets;
  /** Bare Avro, or framed values read through the schema registry. */
  decoder: OrderDecoder;
}

/** One guarantee's way of consuming: its consumer, its start-up, its batch handler, its last commit. */
export interface ConsumeMode {
  readonly consumer: Consumer;
  start(): Promise<void>;
  readonly handle: BatchHandler;
  /**
   * Reading stopped, the consumer still in its group: lets what is in flight finish (Ctrl-C cuts the
   * backoffs short instead) and commits what finished.
   */
  drain(): Promise<void>;
  /** Waits for work started outside a batch (a restore) so the summary is final. */
  settle(): Promise<void>;
}

const { ERR__ASSIGN_PARTITIONS, ERR__REVOKE_PARTITIONS } = kafkaJavascript.CODES.ERRORS;

/**
 * A rebalance_cb that moves `topic`'s partitions in and out of `totals`: it tells `assigned` after an
 * assignment, and awaits `revoking` (the commit of what finished) before partitions leave.
 */
export function followRebalances(
  parts: ConsumeParts,
  hooks: { assigned?: (partitions: number[]) => void; revoking?: (partitions: number[]) => Promise<void> } = {},
): ConsumerTuning {
  const { options: { topic }, totals, session } = parts;
  return {
    rebalance_cb: async (error: { code: number }, assignment: { topic: string; partition: number }[]) => {
      const partitions = assignment.filter((tp) => tp.topic === topic).map((tp) => tp.partition);
      if (error.code === ERR__ASSIGN_PARTITIONS) {
        totals.assign(partitions);
        session.logger.info(`assigned ${topic} partitions ${partitions.join(', ') || 'none'}`);
        hooks.assigned?.(partitions);
      } else if (error.code === ERR__REVOKE_PARTITIONS) {
        // The client waits for this promise before the partitions go: what finished is committed first.
        await hooks.revoking?.(partitions).catch((failure: unknown) => session.logger.warn(`commit before the rebalance failed: ${messageOf(failure)}`));
        totals.revoke(partitions);
        session.logger.info(`revoked ${topic} partitions ${partitions.join(', ') || 'none'}`);
      }
    },
  };
}

/**
 * What both guarantees build around a Dispatch: the consumer (what finished is committed before a
 * revoke takes partitions away), the handler that starts records, and the drain that commits the rest.
 */
export function inFlight<T>(
  parts: ConsumeParts,
  dispatch: Dispatch<T>,
  commits: { commit: (partitions?: number[]) => Promise<void>; everyMs: number; eager: boolean },
  setup: { connect: () => Promise<void>; assigned?: (partitions: number[]) => void },
): Omit<ConsumeMode, 'settle'> {
  let committer: Committer | undefined;
  const consumer = parts.session.consumer(parts.options.group, followRebalances(parts, {
    ...(setup.assigned === undefined ? {} : { assigned: setup.assigned }),
    revoking: async (partitions) => {
      await committer?.now(partitions);
      dispatch.forget(partitions);
    },
  }));
  return {
    consumer,
    start: async () => {
      await setup.connect();
      committer = new Committer(commits.commit, commits.everyMs, parts.session.logger);
      // A commit as soon as the previous one is done and something finished: latency is one commit.
      if (commits.eager) dispatch.onFinished = () => committer?.soon();
      // Reading waits for room: what finished is committed now, not at the next tick.
      dispatch.onFull = () => committer?.soon();
    },
    handle: (records) => dispatch.accept(records),
    drain: async () => {
      await dispatch.idle();
      // Everything finished is committed before the consumer leaves, unless Ctrl-C or a fatal failure says go.
      await committer?.close(() => dispatch.finished().size === 0, parts.stop);
    },
  };
}

/** Decodes a record and runs the (simulated) business step with the retry policy; a stop rejects the backoff. */
export function processOrder(parts: ConsumeParts, record: SourceRecord): Outcome | Promise<Outcome> {
  const { options, events, gate } = parts;
  return processRecord(record.value, {
    decoder: parts.decoder,
    policy: retryPolicyOf(options),
    process: (order, attempt) => {
      if (failsAttempt(options.seed, order.orderId, attempt, options.failRate)) throw new SimulatedFailure(order.orderId, attempt);
    },
    retrying: ({ orderId, attempt, delayMs, error }) =>
      events.retrying({ orderId, partition: record.partition, offset: record.offset, attempt, delayMs, errorMessage: messageOf(error) }),
    sleep: (ms) => gate.backoff(ms),
  });
}

/** The dead letter of a record that must not be retried again. */
export function deadLetterOf(parts: ConsumeParts, record: SourceRecord, outcome: Outcome & { kind: 'dead-letter' }): DeadLetterRecord {
  return deadLetter(record, { group: parts.options.group, attempts: outcome.attempts, reason: outcome.reason, errorMessage: messageOf(outcome.error), failedAt: new Date() });
}
