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

  /** Takes a slot if one is free, without waiting; the caller must then `release()` it. */
  tryAcquire(): boolean {
    if (this.inFlight >= this.capacity) return false;
    this.inFlight++;
    return true;
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
  // Offsets increase, so entries stay sorted: a finish finds its record by binary search, and a
  // take moves `head` instead of splicing (both were linear in what is held, and it can be many).
  private records: { offset: number; result: T | undefined }[] = [];
  private head = 0;
  // Index of the first record not finished: the finished run at the front ends there.
  private open = 0;
  // Offset after the last record taken (committed); -1 before any: what add() checks a re-read against.
  private committed = -1;

  /** A record was read; false (and nothing added) unless its offset is above every one added before. */
  add(offset: number): boolean {
    const last = this.records[this.records.length - 1];
    if ((last?.offset ?? this.committed - 1) >= offset) return false;
    this.records.push({ offset, result: undefined });
    return true;
  }

  /** Records `offset` finished; true when that lengthened the finished run at the front (what a commit can take). */
  finish(offset: number, result: T): boolean {
    const index = this.indexOf(offset);
    const entry = index === undefined ? undefined : this.records[index];
    if (index === undefined || entry === undefined) return false;
    entry.result = result;
    if (index !== this.open) return false;
    while (this.records[this.open]?.result !== undefined) this.open++;
    return true;
  }

  private indexOf(offset: number): number | undefined {
    // Most records finish as soon as they are read: the last one.
    const last = this.records.length - 1;
    if (this.records[last]?.offset === offset) return last;
    let low = this.head;
    let high = last;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const entry = this.records[middle];
      if (entry === undefined) return undefined;
      if (entry.offset === offset) return middle;
      if (entry.offset < offset) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /** The finished records at the front, oldest first, without taking them. */
  finishedPrefix(): { offset: number; result: T }[] {
    const prefix: { offset: number; result: T }[] = [];
    // `open` already marks where the finished run ends.
    for (let index = this.head; index < this.open; index++) {
      const record = this.records[index];
      if (record?.result !== undefined) prefix.push({ offset: record.offset, result: record.result });
    }
    return prefix;
  }

  /** Takes the first `count` records (once their commit went through): the next offset to commit moves past them. */
  take(count: number): void {
    const last = this.records[Math.min(this.head + count, this.records.length) - 1];
    if (count <= 0 || last === undefined) return;
    this.head = Math.min(this.head + count, this.records.length);
    this.open = Math.max(this.open, this.head);
    this.committed = last.offset + 1;
    // Drop the taken entries once they are the larger part: each is copied a bounded number of times.
    if (this.head > 1_024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.open -= this.head;
      this.head = 0;
    }
  }

  pending(): number {
    return this.records.length - this.head;
  }
}
