/** How many records are in flight, and how many of those are waiting out a retry's backoff. */
export interface FlightStatus {
  inFlight: number;
  backingOff: number;
}

/**
 * Admits at most `capacity` records into processing at once, across partitions; a record that finds no
 * slot waits for one, first come first served (reading goes on meanwhile, up to the hold). Counts what
 * is in flight and what is backing off.
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

  /** Takes a slot if one is free and nobody waits for one, without waiting; the caller must then `release()` it. */
  tryAcquire(): boolean {
    if (this.inFlight >= this.capacity) return false;
    this.inFlight++;
    return true;
  }

  /** Resolves once a slot is free; the caller must `release()` it. */
  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    // The slot is handed over by release(): a record read later cannot take it first.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.inFlight--;
    else next();
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

/** What one commit of a partition takes, computed from its flight. */
export interface CommitPlan<T> {
  /** Finished records no commit took yet, oldest first: the run at the front, then (if asked) those above it. */
  fresh: { offset: number; result: T }[];
  /** How many records at the front the commit passes, records committed before above the front among them. */
  front: number;
  /** The offset to commit: the first record not finished, or the one after the last record. */
  next: number;
  /** Finished offsets above `next`, committed before or by this commit: a restart skips them. */
  doneAbove: number[];
}

interface Entry<T> {
  offset: number;
  result: T | undefined;
  /** Finished and committed (above the front, or before a restart): nothing left to do but pass it. */
  committed: boolean;
}

/**
 * The records of one partition that were read and are not committed yet, in offset order, each
 * pending, finished with its result, or committed above the front. A commit takes the finished run at
 * the front and (as Confluent's Parallel Consumer does) the finished records above it: the committed
 * offset stops at the first record still in flight, and the finished ones above it are named beside it.
 */
export class PartitionFlight<T> {
  // Offsets increase, so entries stay sorted: a finish finds its record by binary search, and a
  // take moves `head` instead of splicing (both were linear in what is held, and it can be many).
  private records: Entry<T>[] = [];
  private head = 0;
  // Index of the first record not finished: the finished run at the front ends there.
  private open = 0;
  // Offset after the last record taken (committed); -1 before any: what add() checks a re-read against.
  private committed = -1;
  // Offsets the last commit before this assignment named as done above its offset, ascending, and how
  // many of them were read (or passed) already: the rest are named in every commit until read.
  private restoredDone: number[] = [];
  private restoredRead = 0;

  /** What the last commit before this assignment named as done above its offset: named again by every commit until read. */
  restored(offsets: number[]): void {
    this.restoredDone = [...offsets].sort((a, b) => a - b);
    this.restoredRead = 0;
  }

  /** A record was read; false (and nothing added) unless its offset is above every one added before. */
  add(offset: number): boolean {
    return this.push({ offset, result: undefined, committed: false });
  }

  /** A record a commit before a restart already took (it stood above that commit's offset): it is passed, not processed. */
  addCommitted(offset: number): boolean {
    if (!this.push({ offset, result: undefined, committed: true })) return false;
    this.advance();
    return true;
  }

  private push(entry: Entry<T>): boolean {
    const last = this.records[this.records.length - 1];
    if ((last?.offset ?? this.committed - 1) >= entry.offset) return false;
    this.records.push(entry);
    // Read now, or gone (compaction): either way no longer to be named as unread.
    while ((this.restoredDone[this.restoredRead] ?? Infinity) <= entry.offset) this.restoredRead++;
    return true;
  }

  /** Records `offset` finished; true when that lengthened the finished run at the front (what a commit can take). */
  finish(offset: number, result: T): boolean {
    const index = this.indexOf(offset);
    const entry = index === undefined ? undefined : this.records[index];
    if (index === undefined || entry === undefined || entry.committed) return false;
    entry.result = result;
    if (index !== this.open) return false;
    this.advance();
    return true;
  }

  // Moves `open` past the finished records at the front.
  private advance(): void {
    for (let entry = this.records[this.open]; entry !== undefined && (entry.result !== undefined || entry.committed); entry = this.records[this.open]) this.open++;
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

  /**
   * What a commit would take now, undefined when nothing finished since the last and nothing can be
   * passed: the finished run at the front (records a commit before took count) and, with `above`, the
   * finished records past the first one still in flight. Records committed above the front before, and
   * restored ones not read yet, are named in `doneAbove` either way, so that a restart never runs them again.
   */
  plan(above: boolean): CommitPlan<T> | undefined {
    const fresh: { offset: number; result: T }[] = [];
    for (let index = this.head; index < this.open; index++) {
      const entry = this.records[index];
      if (entry?.result !== undefined) fresh.push({ offset: entry.offset, result: entry.result });
    }
    const doneAbove: number[] = [];
    // Past the first record in flight: scanned only when something is held there (a retry backing off, say).
    for (let index = this.open + 1; index < this.records.length; index++) {
      const entry = this.records[index];
      if (entry === undefined) continue;
      if (entry.committed) doneAbove.push(entry.offset);
      else if (above && entry.result !== undefined) {
        doneAbove.push(entry.offset);
        fresh.push({ offset: entry.offset, result: entry.result });
      }
    }
    const first = this.records[this.open];
    const last = this.records[this.records.length - 1];
    const front = this.open - this.head;
    // A front of records passed only (a commit before took them) is committed too: else the offset, and the end, never move.
    if ((fresh.length === 0 && front === 0) || last === undefined) return undefined;
    let next = first?.offset ?? last.offset + 1;
    let unread = this.restoredRead;
    // Everything read is done: restored offsets right after it are done as well, and the offset passes them.
    if (first === undefined) for (; this.restoredDone[unread] === next; unread++) next++;
    for (; unread < this.restoredDone.length; unread++) doneAbove.push(this.restoredDone[unread] as number);
    return { fresh, front, next, doneAbove };
  }

  /** After its commit went through: the front leaves, and the records above it that it took count as committed. */
  settle(plan: CommitPlan<T>): void {
    this.take(plan.front);
    for (const { offset } of plan.fresh) {
      if (offset <= plan.next) continue;
      const index = this.indexOf(offset);
      const entry = index === undefined ? undefined : this.records[index];
      if (entry === undefined) continue;
      entry.committed = true;
      entry.result = undefined;
    }
  }

  // The first `count` records leave (their commit went through): the committed offset moves past them.
  private take(count: number): void {
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

  /** Records held: read and not yet passed by a commit. */
  pending(): number {
    return this.records.length - this.head;
  }
}
