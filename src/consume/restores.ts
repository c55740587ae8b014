import { setTimeout as sleep } from 'node:timers/promises';
import { OrdersError, messageOf } from '../errors.js';
import { transientCause } from '../kafka/transient.js';
import type { KafkaSession } from '../kafka/session.js';
import type { Lease, PartitionTotals } from '../processing/partition-totals.js';

/** What a restore takes of the run (mode.ts's ConsumeParts has it), and nothing more. */
export interface RestoreParts {
  /** Ctrl-C, SIGTERM or a fatal failure. */
  stop: AbortSignal;
  totals: Pick<PartitionTotals, 'lease'>;
  session: Pick<KafkaSession, 'timeoutMs' | 'fail' | 'logger'>;
  options: { topic: string };
}

/** What a guarantee restores of its newly assigned partitions: read once for the assignment, applied per partition. */
export interface RestoreWork<R> {
  /** Reads what the group committed for `partitions`, each librdkafka call bounded by `timeoutMs`. */
  read(partitions: number[], timeoutMs: number): Promise<Map<number, R>>;
  /** Applies one partition's restored state; does nothing when `lease` no longer restores it. */
  apply(lease: Lease, restored: R | undefined): void;
}

// A committed() call is this short and asked again while the group's offsets are held back (an open
// transaction): a stop waits for one call at most before the consumer may close.
const CALL_MS = 2_000;
// A committed offset that could not be read is asked for again this soon at first, doubling up to the cap.
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 2_000;

/**
 * The restores of a consumer's assignments, one per assignment: each reads the committed offsets of
 * that assignment's partitions only, and applies them only under the leases taken when it began. At
 * shutdown they are waited for (bounded) and then abandoned: the reader is told they ended while its
 * client is still open, and what they read after that is dropped.
 */
export class Restores<R> {
  private readonly running = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly signal: AbortSignal;

  constructor(private readonly parts: RestoreParts, private readonly work: RestoreWork<R>) {
    this.signal = AbortSignal.any([parts.stop, this.closing.signal]);
  }

  /**
   * The `assigned` hook: restores `partitions` (this assignment's) before any of their records is read.
   * Resolves once restored, or once shutdown abandoned it.
   */
  assigned(partitions: number[]): Promise<void> {
    const leases = partitions.flatMap((partition) => this.parts.totals.lease(partition) ?? []);
    if (leases.length === 0 || this.signal.aborted) return Promise.resolve();
    const run = untilRestored(this.parts, this.signal, async (timeoutMs) => {
      const found = await this.work.read(leases.map(({ partition }) => partition), timeoutMs);
      if (this.signal.aborted) return;
      for (const lease of leases) this.work.apply(lease, found.get(lease.partition));
    });
    this.running.add(run);
    const forget = (): void => { this.running.delete(run); };
    void run.then(forget, forget);
    return untilEnded(run, this.signal);
  }

  /**
   * Reading stopped: the restores under way get up to `waitMs` (none after Ctrl-C, SIGTERM or a
   * failure), then are abandoned; their hooks resolve now, before the consumer closes.
   */
  async close(waitMs: number): Promise<void> {
    if (!this.signal.aborted) await this.allEnded(waitMs, this.signal);
    this.closing.abort();
  }

  /** Resolves once the abandoned restores' last librdkafka calls came back, `waitMs` at most: nothing restores after the summary. */
  settled(waitMs: number): Promise<void> {
    return this.allEnded(waitMs);
  }

  private async allEnded(waitMs: number, cut?: AbortSignal): Promise<void> {
    if (this.running.size === 0) return;
    const timer = new AbortController();
    const signal = cut === undefined ? timer.signal : AbortSignal.any([timer.signal, cut]);
    await Promise.race([Promise.allSettled([...this.running]), sleep(waitMs, undefined, { signal }).catch(() => undefined)]);
    timer.abort();
  }
}

/** Resolves when `run` settles or `signal` aborts, whichever comes first; the listener goes with it. */
function untilEnded(run: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const end = (): void => {
      signal.removeEventListener('abort', end);
      resolve();
    };
    signal.addEventListener('abort', end, { once: true });
    void run.then(end, end);
  });
}

/**
 * Runs `restore` (reading the committed offsets of newly assigned partitions) until it works, `signal`
 * aborts, or a failure no retry fixes, which stops the command. Each call is bounded by the timeout it
 * is given: short ones first, asked again at once while they time out (an open transaction holds the
 * offsets back), as today's one long call would have waited; past that, the session's timeout thrice.
 */
export async function untilRestored(parts: RestoreParts, signal: AbortSignal, restore: (timeoutMs: number) => Promise<void>): Promise<void> {
  const patienceMs = parts.session.timeoutMs * 3;
  const started = performance.now();
  for (let pause = FIRST_RETRY_MS; !signal.aborted;) {
    const quiet = performance.now() - started < patienceMs;
    try {
      await restore(quiet ? Math.min(CALL_MS, patienceMs) : patienceMs);
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof OrdersError && !error.canRetry) {
        parts.session.fail(error);
        return;
      }
      if (quiet && transientCause(error) !== undefined) {
        parts.session.logger.debug(`committed offsets of ${parts.options.topic} not readable yet, asking again: ${messageOf(error)}`);
        // Not doubled: the call itself waited; this only keeps a call that fails at once from spinning.
        await sleep(FIRST_RETRY_MS, undefined, { signal }).catch(() => undefined);
        continue;
      }
      parts.session.logger.warn(`could not read the committed offsets of ${parts.options.topic}, trying again: ${messageOf(error)}`);
      await sleep(pause, undefined, { signal }).catch(() => undefined);
      pause = Math.min(2 * pause, MAX_RETRY_MS);
    }
  }
}
