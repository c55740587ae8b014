import { messageOf } from '../errors.js';

export interface OutageHooks {
  /** Waits `ms`; rejects once the command is stopping. */
  sleep(ms: number): Promise<void>;
  warn(message: string): void;
  info(message: string): void;
  now(): number;
}

const FIRST_WAIT_MS = 200;
// The bound: a registry down for long is asked at most every 30 s per schema id.
export const MAX_WAIT_MS = 30_000;
const LOG_EVERY_MS = 30_000;

/**
 * A registry that does not answer is waited out, never blamed on the record: each caller backs off
 * (doubling, at most 30 s) until one of them gets an answer, which ends every wait; the outage is
 * logged once when it starts, then every 30 s, and once more when the registry answers again.
 */
export class RegistryOutage {
  private since: number | undefined;
  private loggedAt = 0;
  // Resolved when the registry answers: every other wait ends then, not up to 30 s later.
  private wake = signal();

  constructor(private readonly hooks: OutageHooks) {}

  /** After the `attempt`-th failure in a row (1 for the first): logs if due, then waits before the next try. */
  async wait(error: unknown, attempt: number): Promise<void> {
    const now = this.hooks.now();
    if (this.since === undefined) {
      this.since = now;
      this.loggedAt = now;
      this.hooks.warn(`${messageOf(error)}; records needing it wait and are tried again`);
    } else if (now - this.loggedAt >= LOG_EVERY_MS) {
      this.loggedAt = now;
      this.hooks.warn(`schema registry still not answering after ${Math.round((now - this.since) / 1000)} s: ${messageOf(error)}`);
    }
    await Promise.race([this.hooks.sleep(Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (attempt - 1))), this.wake.promise]);
  }

  /** The registry answered. */
  answered(): void {
    if (this.since === undefined) return;
    this.hooks.info(`schema registry answers again after ${((this.hooks.now() - this.since) / 1000).toFixed(1)} s`);
    this.since = undefined;
    this.wake.resolve();
    this.wake = signal();
  }
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => { resolve = done; });
  return { promise, resolve };
}
