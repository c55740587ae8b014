/**
 * How many per-record lines a person can read: up to `perSecond` lines in each one-second window;
 * past that, records are only counted and a progress line once a second stands in for them.
 */
export class LineBudget {
  private readonly perSecond: number;
  private windowStart = 0;
  private used = 0;
  private suppressed = 0;

  constructor(perSecond: number) {
    this.perSecond = perSecond;
  }

  /** Whether the record at `now` (ms) gets its own line. */
  allow(now: number): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.perSecond) {
      this.used++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** Records without a line since the last call; resets the count. */
  takeSuppressed(): number {
    const count = this.suppressed;
    this.suppressed = 0;
    return count;
  }
}
