import type { OrderDecoder } from '../avro/codec.js';
import type { ConsumeOptions } from '../config.js';
import { retryPolicyOf } from '../config.js';
import { SimulatedFailure, messageOf } from '../errors.js';
import type { NativeConsumer } from '../kafka/consumer.js';
import type { BatchHandler, DoneOffsets, RebalanceHooks } from '../kafka/reader.js';
import type { SourceRecord } from '../kafka/record.js';
import type { KafkaSession } from '../kafka/session.js';
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
  /** Told how long each commit took, in seconds (an offset commit, or a whole transaction). */
  commitTook?: (seconds: number) => void;
}

/** One guarantee's way of consuming: its consumer, its start-up, its batch handler, its last commit. */
export interface ConsumeMode {
  readonly consumer: NativeConsumer;
  start(): Promise<void>;
  readonly handle: BatchHandler;
  /** What the reader does as partitions come and go. */
  readonly rebalance: RebalanceHooks;
  /**
   * Reading stopped, the consumer still in its group: lets what is in flight finish (Ctrl-C cuts the
   * backoffs short instead) and commits what finished.
   */
  drain(): Promise<void>;
  /** Waits for work started outside a batch (a restore) so the summary is final. */
  settle(): Promise<void>;
}

/**
 * Moves `topic`'s partitions in and out of `totals`: tells `assigned` after an assignment; before
 * partitions leave, closes their intake and awaits `revoking` (the commit of what finished), unless
 * they are lost already: then nothing may be committed for them.
 */
export function followRebalances(
  parts: ConsumeParts,
  dispatch: { close(partitions: number[]): void; forget(partitions: number[]): void },
  hooks: { assigned?: (partitions: number[]) => void; revoking?: (partitions: number[]) => Promise<void> } = {},
): RebalanceHooks {
  const { options: { topic }, totals, session } = parts;
  return {
    assigned: (partitions) => {
      totals.assign(partitions);
      session.logger.info(`assigned ${topic} partitions ${partitions.join(', ') || 'none'}`);
      hooks.assigned?.(partitions);
    },
    revoking: async (partitions, lost) => {
      dispatch.close(partitions);
      if (lost) session.logger.warn(`lost ${topic} partitions ${partitions.join(', ')} (the group went on without this consumer): what finished there is not committed, their new owner reads it again`);
      else await hooks.revoking?.(partitions).catch((failure: unknown) => session.logger.warn(`commit before the rebalance failed: ${messageOf(failure)}`));
      dispatch.forget(partitions);
      totals.revoke(partitions);
      session.logger.info(`revoked ${topic} partitions ${partitions.join(', ') || 'none'}`);
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
  const consumer = parts.session.consumer(parts.options.group);
  const rebalance = followRebalances(parts, dispatch, {
    ...(setup.assigned === undefined ? {} : { assigned: setup.assigned }),
    revoking: async (partitions) => {
      await committer?.now(partitions);
    },
  });
  return {
    consumer,
    rebalance,
    start: async () => {
      await setup.connect();
      committer = new Committer(timed(commits.commit, (partitions) => dispatch.finished(partitions).size > 0, parts.commitTook), commits.everyMs, parts.session.logger);
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

/**
 * `commit`, its duration told to `took` when it ends, committed or failed; only when something had
 * finished, as the ticks that find nothing to commit would bury the real commits under zeros.
 */
function timed(commit: (partitions?: number[]) => Promise<void>, anything: (partitions?: number[]) => boolean, took: ((seconds: number) => void) | undefined): (partitions?: number[]) => Promise<void> {
  if (took === undefined) return commit;
  return async (partitions) => {
    if (!anything(partitions)) return commit(partitions);
    const started = performance.now();
    try {
      await commit(partitions);
    } finally {
      took((performance.now() - started) / 1000);
    }
  };
}
