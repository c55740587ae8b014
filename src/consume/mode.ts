import type { OrderDecoder } from '../avro/codec.js';
import type { ConsumeOptions } from '../config/flags.js';
import { messageOf } from '../errors.js';
import type { NativeConsumer } from '../kafka/consumer/native-consumer.js';
import type { Membership } from '../kafka/consumer/group-protocol.js';
import type { BatchHandler, DoneOffsets, RebalanceHooks } from '../kafka/consumer/reader.js';
import type { KafkaSession } from '../kafka/session.js';
import type { FlightGate } from '../processing/flight.js';
import type { PartitionTotals } from '../processing/partition-totals.js';
import { Committer } from './committer.js';
import type { Dispatch, DispatchNeeds } from './dispatch.js';
import { orderProcessor } from './process-order.js';
import { RepeatedWarning } from './repeated-warning.js';
import { Restores, type RestoreWork } from './restores.js';
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
  /** How the consumer joins the group: protocol and static membership. */
  membership: Membership;
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
  /**
   * After the consumer closed: waits (bounded) for the last calls of abandoned restores, so nothing
   * changes the totals after the summary, and closes the clients the guarantee made.
   */
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
  hooks: { assigned?: (partitions: number[]) => Promise<void>; revoking?: (partitions: number[]) => Promise<void> } = {},
): RebalanceHooks {
  const { options: { topic }, totals, session } = parts;
  return {
    assigned: async (partitions) => {
      totals.assign(partitions);
      session.logger.info(`assigned ${topic} partitions ${partitions.join(', ') || 'none'}`);
      await hooks.assigned?.(partitions);
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
 * revoke takes partitions away), one restore per assignment, the handler that starts records, the
 * drain that commits the rest, and the settle that closes what `setup.close` names.
 */
export function inFlight<T, R>(
  parts: ConsumeParts,
  dispatch: Dispatch<T>,
  commits: { commit: (partitions?: number[]) => Promise<boolean>; everyMs: number; eager: boolean },
  setup: { connect: () => Promise<void>; restore: RestoreWork<R>; close?: () => Promise<void> },
): ConsumeMode {
  let committer: Committer | undefined;
  const consumer = parts.session.consumer(parts.options.group, parts.membership);
  const restores = new Restores(parts, setup.restore);
  const rebalance = followRebalances(parts, dispatch, {
    assigned: (partitions) => restores.assigned(partitions),
    revoking: async (partitions) => {
      await committer?.now(partitions);
    },
  });
  return {
    consumer,
    rebalance,
    start: async () => {
      await setup.connect();
      committer = new Committer(timed(commits.commit, parts.commitTook), commits.everyMs, parts.session.logger);
      // A commit as soon as the previous one is done and something finished: latency is one commit.
      if (commits.eager) dispatch.onFinished = () => committer?.soon();
      // Reading would wait for room: what finished is committed now, not at the next tick.
      dispatch.onFilling = () => committer?.soon();
    },
    handle: (records) => dispatch.accept(records),
    drain: async () => {
      // Before the consumer closes: a restore under way gets a while (--exit-at-end), none after a stop.
      await restores.close(parts.session.timeoutMs);
      await dispatch.idle();
      // Everything finished is committed before the consumer leaves, unless Ctrl-C or a fatal failure says go.
      await committer?.close(() => dispatch.allCommitted(), parts.stop);
    },
    settle: async () => {
      await restores.settled(parts.session.timeoutMs);
      await setup.close?.();
    },
  };
}

// Output not yet taken by its reader, at most, in characters: a pipe read slower than orders wrote its
// lines held 121 MB of them (812 MB peak RSS, 1,000,000 orders, --json piped to tail); 8 MB is 0.3 s of
// lines at 100,000 orders/s, more than a turn of the reader (100 ms), so the pipe does not run dry.
const OUTPUT_BEHIND_AT_MOST = 8_000_000;
// A wait for stdout's reader is said as it begins, once a minute at most (a pipe read slowly flips often).
const OUTPUT_WAIT_SAID_EVERY_MS = 60_000;

/** What a Dispatch needs of the parts: the slots, the stop, the leases of the totals, the order processing, the output, the session's failure. */
export function dispatchNeeds({ options, gate, stop, totals, decoder, events, session }: ConsumeParts): DispatchNeeds {
  const waiting = new RepeatedWarning(OUTPUT_WAIT_SAID_EVERY_MS);
  let behind = false;
  return {
    outputBehind: () => {
      const now = (events.unwritten?.() ?? 0) > OUTPUT_BEHIND_AT_MOST;
      // Said, or a consumer stalled by a pipe nobody reads (| less, a blocked log collector) looks like a hang.
      if (now && !behind) {
        const line = waiting.line(`stdout's reader is more than ${OUTPUT_BEHIND_AT_MOST / 1_000_000} MB of lines behind: no order is taken in until it reads them`, Date.now());
        if (line !== undefined) session.logger.warn(line);
      }
      behind = now;
      return now;
    },
    maxInFlight: options.maxInFlight,
    gate,
    stop,
    lease: (partition) => totals.lease(partition),
    process: orderProcessor(options, decoder, events, gate),
    fail: (error) => session.fail(error),
  };
}

/**
 * `commit`, its duration told to `took` when it ends, committed or failed; only when something had
 * finished, as the ticks that find nothing to commit would bury the real commits under zeros.
 */
function timed(commit: (partitions?: number[]) => Promise<boolean>, took: ((seconds: number) => void) | undefined): (partitions?: number[]) => Promise<boolean> {
  if (took === undefined) return commit;
  return async (partitions) => {
    const started = performance.now();
    const committed = await commit(partitions);
    // The empty ticks would bury the real commits under zeros.
    if (committed) took((performance.now() - started) / 1000);
    return committed;
  };
}
