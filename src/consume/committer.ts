import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import { oldGeneration, putOut } from '../kafka/consumer/put-out.js';
import type { Logger } from '../logger.js';
import { RepeatedWarning } from './repeated-warning.js';

// At least this long between two commits: at 1,000 orders/s exactly-once, 20 ms made p50 21 ms, 5 ms 11-12, 1 ms 9.
const MIN_GAP_MS = 1;
const RETRY_PAUSE_MS = 500;
// A commit failing the same way is tried again at every tick (10 a second): said once in this long.
const WARN_EVERY_MS = 5_000;

/**
 * Runs a commit every `everyMs`, one at a time, until stopped, and sooner when `soon()` says there is
 * something to commit: at a low rate an order waits for one commit, not for the next tick. A failed
 * commit is logged (once every few seconds) and tried again: what it would have committed stays in
 * flight. A commit refused because the group put this member out is not tried again at the end: its
 * partitions are lost (librdkafka revokes them as such and rejoins), and their next owner reads them.
 */
export class Committer {
  private queue: Promise<void> = Promise.resolve();
  private readonly stopped = new AbortController();
  private readonly loop: Promise<void>;
  // soon(): a commit is wanted, and a run of commits is under way.
  private wanted = false;
  private busy = false;
  private readonly failing = new RepeatedWarning(WARN_EVERY_MS);
  // The last commit failed because the group put this member out.
  private putOut = false;

  constructor(private readonly commit: (partitions?: number[]) => Promise<unknown>, everyMs: number, private readonly logger: Logger) {
    this.loop = (async () => {
      while (!this.stopped.signal.aborted) {
        await sleep(everyMs, undefined, { signal: this.stopped.signal }).catch(() => undefined);
        if (!this.stopped.signal.aborted) await this.now();
      }
    })();
  }

  /** There is something to commit: commit now, or right after the commit in progress. */
  soon(): void {
    if (this.stopped.signal.aborted) return;
    this.wanted = true;
    if (this.busy) return;
    this.busy = true;
    void (async () => {
      while (this.wanted && !this.stopped.signal.aborted) {
        this.wanted = false;
        await this.now();
        // Under load, what finishes meanwhile waits a moment and goes into one larger commit.
        await sleep(MIN_GAP_MS);
      }
      this.busy = false;
    })();
  }

  /** Commits now (after any commit in progress); `partitions` limits it, say to those being revoked. */
  now(partitions?: number[]): Promise<void> {
    this.queue = this.queue.then(async () => {
      await this.commit(partitions);
      this.putOut = false;
      this.failing.reset();
    }).catch((error: unknown) => {
      this.putOut = putOut(error);
      const line = this.failing.line(!this.putOut ? `commit failed, trying again: ${messageOf(error)}`
        : oldGeneration(error) ? `commit refused under the group's previous generation (a rebalance moved on, or the group put this consumer out): tried again in the next; what it lost its next owner reads (${messageOf(error)})`
          : `commit refused, the group put this consumer out: its partitions count as lost, it rejoins (${messageOf(error)})`, Date.now());
      if (line !== undefined) this.logger.warn(line);
    });
    return this.queue;
  }

  /**
   * Stops the ticks, then commits until `done()` says nothing finished is left (the broker or a
   * restore may need a while), or `giveUp` aborts (Ctrl-C: what is left is read again next time).
   */
  async close(done: () => boolean, giveUp: AbortSignal): Promise<void> {
    this.stopped.abort();
    await this.loop;
    await this.now();
    while (!done() && !giveUp.aborted) {
      if (this.putOut) {
        this.logger.warn('what finished and is not committed is left to the partitions\' next owner: the group put this consumer out');
        return;
      }
      await sleep(RETRY_PAUSE_MS, undefined, { signal: giveUp }).catch(() => undefined);
      await this.now();
    }
  }
}
