import { InternalError, messageOf, OrdersError } from '../errors.js';
import type { FlightGate } from '../processing/flight.js';
import type { SourceRecord } from '../kafka/record.js';
import { PartitionFlight, type CommitPlan } from '../processing/flight.js';
import type { Lease } from '../processing/partition-totals.js';
import type { Outcome } from '../processing/process-record.js';
import type { ProcessOrder } from './process-order.js';

interface PartitionState<T> {
  lease: Lease;
  flight: PartitionFlight<T>;
  /** The last record started per key: the next one of that key starts when it ends. */
  chains: Map<string, Promise<boolean>>;
  /** Offsets a commit before the assignment took above its offset: passed, not processed again. */
  skip: Set<number> | undefined;
}

/** What a Dispatch works with, and nothing more. */
export interface DispatchNeeds {
  /** --max-in-flight: records processed at once. */
  maxInFlight: number;
  gate: FlightGate;
  /** Ctrl-C, SIGTERM or a fatal failure: nothing more is taken in, backoffs end. */
  stop: AbortSignal;
  /** The lease of an owned partition, from the totals' owner. */
  lease(partition: number): Lease | undefined;
  process: ProcessOrder;
  /** The output's reader is far behind: nothing is taken in until it caught up. */
  outputBehind(): boolean;
  /** A failure that must stop the command. */
  fail(error: OrdersError): void;
}

/** One partition's commit as planned: what it takes, under the lease the records were read with. */
export interface PlannedCommit<T> {
  partition: number;
  lease: Lease;
  plan: CommitPlan<T>;
}

/** Records of one key are processed in offset order; a record without a key orders with nothing. */
export function orderingKey(record: SourceRecord): string {
  return record.key === null ? `offset:${record.offset}` : `key:${record.key.toString('latin1')}`;
}

// Records read and not committed yet (in flight or finished) at most, unless --max-in-flight asks for
// more: a backlog read faster than commits go through held 1,576 MB consuming 1,000,000 orders.
const HOLD_AT_LEAST = 20_000;

// What a record that found every --max-in-flight slot taken starts after: nothing but its slot.
const SLOT_AWAITED: Promise<boolean> = Promise.resolve(true);

/**
 * Starts every record read on its own clock: a retry's backoff holds up only the later records of its
 * key, never the partition. At most --max-in-flight records are processed at once (the others wait for
 * a slot, held), and a bounded number held until committed; `accept` never waits: what finds no room is
 * left to the reader, which pauses its partition and keeps polling. What finished is kept per
 * partition, in offset order, for the commit: only what `finish` returned, not the record, whose
 * Buffers would otherwise live until the commit and be promoted to V8's old space (issue 27).
 */
export class Dispatch<T> {
  private readonly partitions = new Map<number, PartitionState<T>>();
  private readonly running = new Set<Promise<boolean>>();
  private readonly holdAtMost: number;
  // Records in the flights of owned partitions: read, not committed yet.
  private held = 0;
  // Partitions whose revoke began, with the lease generation then: no record under such a lease is taken in.
  private readonly closed = new Map<number, number>();
  // Per partition, for the assignment of that lease generation: the offsets its last commit named as done above it.
  private readonly skips = new Map<number, { generation: number; offsets: Set<number> }>();
  // The hold was found full, and no record left it since.
  private full = false;
  // The hold reached half full, and has not been below a quarter since: a commit was asked for then.
  private filling = false;

  /** Called when a record finished; exactly-once commits soon after. */
  onFinished: () => void = () => {};
  /**
   * Called when the hold reaches half full (a commit then makes room before the reader must pause a
   * partition), when it is found full, and again whenever a commit could then make room.
   */
  onFilling: () => void = () => {};

  /**
   * @param finish what to do once an order's outcome is decided, under the lease the record was read
   *   with (void once a rebalance came in between); what it returns is all the commit gets of the
   *   record; undefined leaves the record unfinished
   *   (it is read again after a restart), an OrdersError thrown is fatal for the command.
   */
  constructor(
    private readonly needs: DispatchNeeds,
    private readonly finish: (record: SourceRecord, outcome: Outcome, lease: Lease) => T | undefined | Promise<T | undefined>,
  ) {
    this.holdAtMost = Math.max(HOLD_AT_LEAST, 2 * needs.maxInFlight);
  }

  /**
   * Starts `records` (one partition's, in offset order) as far as the hold has room, without waiting;
   * returns how many were taken in (from the first). The reader offers the rest again later.
   */
  accept(records: SourceRecord[]): Promise<number> {
    return Promise.resolve(this.take(records));
  }

  /** True while the hold has room for another record. */
  hasRoom(): boolean {
    return this.held < this.holdAtMost;
  }

  private take(records: SourceRecord[]): number {
    // The reader pauses the partition and offers the records again: lines written faster than read would pile up.
    if (this.needs.outputBehind()) return 0;
    let accepted = 0;
    for (const record of records) {
      if (!this.hasRoom()) {
        if (!this.full) {
          this.full = true;
          this.onFilling();
        }
        break;
      }
      const state = this.stateOf(record.partition);
      if (state === undefined || this.needs.stop.aborted) break;
      accepted++;
      const offset = Number(record.offset);
      if (state.skip?.delete(offset) === true) {
        if (state.flight.addCommitted(offset)) this.hold();
        continue;
      }
      // A record read again (a seek, a re-delivery) is in the flight already: taking it twice would corrupt it.
      if (!state.flight.add(offset)) continue;
      this.hold();
      // No key is running in this partition (the common case): no key to make, nothing to wait for.
      const key = state.chains.size === 0 ? undefined : orderingKey(record);
      const after = key === undefined ? undefined : state.chains.get(key);
      // A slot of --max-in-flight is taken when the record starts: records waiting for their key or a slot hold none.
      this.begin(state, record, key, after ?? (this.needs.gate.tryAcquire() ? undefined : SLOT_AWAITED));
    }
    return accepted;
  }

  /**
   * What a commit of each owned partition (or of `partitions`) would take now: the finished run at the
   * front and, with `above`, the finished records past the first still in flight. Partitions with
   * nothing new are left out.
   */
  plans(partitions: number[] | undefined, above: boolean): PlannedCommit<T>[] {
    const found: PlannedCommit<T>[] = [];
    for (const [partition, state] of this.partitions) {
      if (partitions !== undefined && !partitions.includes(partition)) continue;
      const plan = state.flight.plan(above);
      if (plan !== undefined) found.push({ partition, lease: state.lease, plan });
    }
    return found;
  }

  /** True while nothing finished waits for a commit. */
  allCommitted(): boolean {
    return this.plans(undefined, true).length === 0;
  }

  /** After its commit: the records it passed leave the flight, those above it count as committed. */
  committed({ partition, lease, plan }: PlannedCommit<T>): void {
    const state = this.partitions.get(partition);
    if (state === undefined || state.lease.generation !== lease.generation) return;
    const before = state.flight.pending();
    state.flight.settle(plan);
    this.release(before - state.flight.pending());
  }

  /**
   * What the last commit before this assignment named as done above its offset: those records are
   * passed, not run again, and named by every commit until read. Refused unless `lease` is the
   * partition's current one: an older restore must not overwrite a newer assignment's.
   */
  skip(lease: Lease, offsets: number[]): void {
    if (offsets.length === 0 || this.needs.lease(lease.partition)?.generation !== lease.generation) return;
    this.skips.set(lease.partition, { generation: lease.generation, offsets: new Set(offsets) });
    const state = this.partitions.get(lease.partition);
    if (state !== undefined && state.lease.generation === lease.generation) {
      state.skip = new Set(offsets);
      state.flight.restored(offsets);
    }
  }

  /** A revoke of `partitions` began: from now on no record of theirs is taken in under today's lease. */
  close(partitions: number[]): void {
    for (const partition of partitions) {
      const lease = this.needs.lease(partition);
      if (lease !== undefined) this.closed.set(partition, lease.generation);
    }
  }

  /** Forgets revoked partitions: their records still in flight finish into nothing. */
  forget(partitions: number[]): void {
    for (const partition of partitions) {
      const state = this.partitions.get(partition);
      if (state === undefined) continue;
      this.partitions.delete(partition);
      this.release(state.flight.pending());
    }
  }

  /** Resolves once every record started has finished or given up. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private stateOf(partition: number): PartitionState<T> | undefined {
    const lease = this.needs.lease(partition);
    if (lease === undefined || lease.generation <= (this.closed.get(partition) ?? -1)) return undefined;
    const state = this.partitions.get(partition);
    if (state !== undefined && state.lease.generation === lease.generation) return state;
    // A new assignment: what was in flight under the old one is read again by its owner.
    if (state !== undefined) this.release(state.flight.pending());
    const skip = this.skips.get(partition);
    this.skips.delete(partition);
    const restored = skip?.generation === lease.generation ? skip.offsets : undefined;
    const fresh: PartitionState<T> = { lease, flight: new PartitionFlight<T>(), chains: new Map(), skip: restored };
    if (restored !== undefined) fresh.flight.restored([...restored]);
    this.partitions.set(partition, fresh);
    return fresh;
  }

  // At-least-once commits once a second: waiting for that with a full hold paused partitions 45 times per 1,000,000 orders.
  private hold(): void {
    this.held++;
    if (this.filling || 2 * this.held < this.holdAtMost) return;
    this.filling = true;
    this.onFilling();
  }

  private release(records: number): void {
    this.held -= records;
    if (this.hasRoom()) this.full = false;
    // Not at half: records a blocked front keeps (a retry backing off) could hold it there, a commit at every batch.
    if (4 * this.held < this.holdAtMost) this.filling = false;
  }

  // Runs the record now (its slot taken), or after the running record of its key; a record still running joins the chains.
  private begin(state: PartitionState<T>, record: SourceRecord, key: string | undefined, after: Promise<boolean> | undefined): void {
    const run = after === undefined ? this.now(state, record) : this.later(state, record, after);
    if (run === undefined) return;
    const chain = key ?? orderingKey(record);
    state.chains.set(chain, run);
    this.running.add(run);
    void run.then(() => {
      this.running.delete(run);
      if (state.chains.get(chain) === run) state.chains.delete(chain);
    });
  }

  // Finishes the record without a promise when nothing has to wait (at 100,000s of orders a second a
  // promise per order is much of the cost); else the promise of its end (false: it did not finish).
  private now(state: PartitionState<T>, record: SourceRecord): Promise<boolean> | undefined {
    let result: T | undefined | Promise<T | undefined>;
    try {
      const outcome = this.needs.process(record);
      result = outcome instanceof Promise ? outcome.then((decided) => this.finish(record, decided, state.lease)) : this.finish(record, outcome, state.lease);
    } catch (error) {
      this.failed(record, error);
      this.needs.gate.release();
      return undefined;
    }
    if (result instanceof Promise) return this.settle(state, record, result);
    this.done(state, record, result);
    this.needs.gate.release();
    return undefined;
  }

  private async settle(state: PartitionState<T>, record: SourceRecord, result: Promise<T | undefined>): Promise<boolean> {
    try {
      return this.done(state, record, await result);
    } catch (error) {
      this.failed(record, error);
      return false;
    } finally {
      this.needs.gate.release();
    }
  }

  // False when the record did not finish; the later records of its key then do not start.
  private async later(state: PartitionState<T>, record: SourceRecord, after: Promise<boolean>): Promise<boolean> {
    if (!(await after) || this.needs.stop.aborted) return false;
    await this.needs.gate.acquire();
    try {
      if (this.needs.stop.aborted) return false;
      return this.done(state, record, await this.finish(record, await this.needs.process(record), state.lease));
    } catch (error) {
      this.failed(record, error);
      return false;
    } finally {
      this.needs.gate.release();
    }
  }

  private done(state: PartitionState<T>, record: SourceRecord, result: T | undefined): boolean {
    if (result === undefined) return false;
    const frontGrew = state.flight.finish(Number(record.offset), result);
    // The hold is full and a commit can now make room: ask now, not at the next tick (1 s at least once).
    if (frontGrew && this.full) this.onFilling();
    this.onFinished();
    return true;
  }

  // A record that neither finished nor was dead-lettered would hold back its key and its partition's
  // commits for ever: the command stops with one line instead, and nothing past the record is committed.
  private failed(record: SourceRecord, error: unknown): void {
    // A backoff cut short by the stop is no failure: the record is read again next time.
    if (this.needs.stop.aborted) return;
    this.needs.fail(error instanceof OrdersError ? error
      : new InternalError(`${record.topic}/${record.partition}@${record.offset} failed unexpectedly: ${messageOf(error)}`, error));
  }
}
