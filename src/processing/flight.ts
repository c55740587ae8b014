/** How many records are in flight, and how many of those are waiting out a retry's backoff. */
export interface FlightStatus {
  inFlight: number;
  backingOff: number;
}

/**
 * Admits at most `capacity` records into processing at once, across partitions; a partition whose
 * next record finds no slot waits (it is paused). Counts what is in flight and what is backing off.
 */
export class FlightGate {
  private inFlight = 0;
  private backingOff = 0;
  private readonly waiting: (() => void)[] = [];
  // Backoffs under way, ended all at once by the stop: one listener, not one per backoff (thousands
  // of listeners on one signal made addEventListener 13 % of the CPU).
  private readonly backoffs = new Set<{ timer: NodeJS.Timeout; cancel: () => void }>();
  private stopped = false;

  constructor(private readonly capacity: number, stop?: AbortSignal) {
    stop?.addEventListener('abort', () => {
      this.stopped = true;
      for (const backoff of this.backoffs) backoff.cancel();
    }, { once: true });
    if (stop?.aborted === true) this.stopped = true;
  }

  /** Resolves once a slot is free; the caller must `release()` it. */
  async acquire(): Promise<void> {
    while (this.inFlight >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  /** Waits out a retry's backoff, counted in the status; rejects at once when the stop comes. */
  async backoff(ms: number): Promise<void> {
    if (this.stopped) throw new Error('stopped');
    this.backingOff++;
    try {
      await new Promise<void>((resolve, reject) => {
        const backoff = {
          timer: setTimeout(() => {
            this.backoffs.delete(backoff);
            resolve();
          }, ms),
          cancel: () => {
            clearTimeout(backoff.timer);
            this.backoffs.delete(backoff);
            reject(new Error('stopped'));
          },
        };
        this.backoffs.add(backoff);
      });
    } finally {
      this.backingOff--;
    }
  }

  status(): FlightStatus {
    return { inFlight: this.inFlight, backingOff: this.backingOff };
  }
}

/**
 * The records of one partition that were read and are not committed yet, in offset order, each
 * pending or finished with its result. Only the finished run at the front may be committed: the
 * committable offset never passes a record still in flight.
 */
export class PartitionFlight<T> {
  private readonly records: { offset: number; result: T | undefined }[] = [];
  // The same entries by offset: a finish must not scan thousands of records in flight.
  private readonly byOffset = new Map<number, { offset: number; result: T | undefined }>();
  // Offset after the last record taken (committed); -1 before any.
  private committed = -1;

  /** A record was read; offsets arrive in increasing order. */
  add(offset: number): void {
    const entry = { offset, result: undefined };
    this.records.push(entry);
    this.byOffset.set(offset, entry);
  }

  finish(offset: number, result: T): void {
    const entry = this.byOffset.get(offset);
    if (entry !== undefined) entry.result = result;
  }

  /** The finished records at the front, oldest first, without taking them. */
  finishedPrefix(): { offset: number; result: T }[] {
    const prefix: { offset: number; result: T }[] = [];
    for (const record of this.records) {
      if (record.result === undefined) break;
      prefix.push({ offset: record.offset, result: record.result });
    }
    return prefix;
  }

  /** Takes the first `count` records (once their commit went through): the next offset to commit moves past them. */
  take(count: number): void {
    const taken = this.records.splice(0, count);
    for (const entry of taken) this.byOffset.delete(entry.offset);
    const last = taken[taken.length - 1];
    if (last !== undefined) this.committed = last.offset + 1;
  }

  /** The offset to commit: the first record not finished-and-taken. */
  committable(): number {
    return this.committed;
  }

  pending(): number {
    return this.records.length;
  }
}
