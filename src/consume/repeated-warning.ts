/**
 * A warning that may come many times a second (a commit failing the same way at every try): said at
 * once, then at most once per `everyMs`, with how many were held back meanwhile. Pure: the caller gives
 * the time.
 */
export class RepeatedWarning {
  private saidAt: number | undefined;
  private heldBack = 0;

  constructor(private readonly everyMs: number) {}

  /** The line to log now, or undefined while it is held back (and counted). */
  line(text: string, now: number): string | undefined {
    if (this.saidAt !== undefined && now - this.saidAt < this.everyMs) {
      this.heldBack++;
      return undefined;
    }
    const held = this.heldBack;
    this.saidAt = now;
    this.heldBack = 0;
    return held === 0 ? text : `${text} (${held} more like it in the last ${Math.round(this.everyMs / 1000)} s)`;
  }

  /** The trouble is over: the next warning is said at once. */
  reset(): void {
    this.saidAt = undefined;
    this.heldBack = 0;
  }
}
