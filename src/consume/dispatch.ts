import { messageOf, OrdersError } from '../errors.js';
import type { SourceRecord } from '../kafka/record.js';
import { PartitionFlight } from '../processing/flight.js';
import type { Lease } from '../processing/partition-totals.js';
import type { Outcome } from '../processing/process-record.js';
import { processOrder, type ConsumeParts } from './mode.js';

/** What a finished record leaves for the commit: the record and what its finish returned. */
export interface Finished<T> {
  record: SourceRecord;
  result: T;
}

interface PartitionState<T> {
  lease: Lease;
  flight: PartitionFlight<Finished<T>>;
  /** The last record started per key: the next one of that key starts when it ends. */
  chains: Map<string, Promise<boolean>>;
}

/** Records of one key are processed in offset order; a record without a key orders with nothing. */
export function orderingKey(record: SourceRecord): string {
  return record.key === null ? `offset:${record.offset}` : `key:${record.key.toString('latin1')}`;
}

/**
 * Starts every record read on its own clock: a retry's backoff holds up only the later records of its
 * key, never the partition. At most --max-in-flight records are held; a partition whose next record
 * finds no slot waits. What finished is kept per partition, in offset order, for the commit.
 */
export class Dispatch<T> {
  private readonly partitions = new Map<number, PartitionState<T>>();
  private readonly running = new Set<Promise<boolean>>();

  /** Called when a record finished; exactly-once commits soon after. */
  onFinished: () => void = () => {};

  /**
   * @param finish what to do once an order's outcome is decided, under the lease the record was read
   *   with (void once a rebalance came in between); undefined leaves the record unfinished
   *   (it is read again after a restart), an OrdersError thrown is fatal for the command.
   */
  constructor(private readonly parts: ConsumeParts, private readonly finish: (record: SourceRecord, outcome: Outcome, lease: Lease) => Promise<T | undefined>) {}

  /** Starts `records` (one partition's, in offset order); returns how many were taken in. */
  async accept(records: SourceRecord[]): Promise<number> {
    let accepted = 0;
    for (const record of records) {
      const state = this.stateOf(record.partition);
      if (state === undefined || this.parts.stop.aborted) break;
      await this.parts.gate.acquire();
      state.flight.add(Number(record.offset));
      const key = orderingKey(record);
      const run = this.start(state, record, state.chains.get(key) ?? Promise.resolve(true));
      state.chains.set(key, run);
      this.running.add(run);
      void run.then(() => {
        this.running.delete(run);
        if (state.chains.get(key) === run) state.chains.delete(key);
      });
      accepted++;
    }
    return accepted;
  }

  /** The finished records at the front of each owned partition, oldest first. */
  finished(partitions?: number[]): Map<number, { lease: Lease; finished: Finished<T>[] }> {
    const found = new Map<number, { lease: Lease; finished: Finished<T>[] }>();
    for (const [partition, state] of this.partitions) {
      if (partitions !== undefined && !partitions.includes(partition)) continue;
      const finished = state.flight.finishedPrefix().map((entry) => entry.result);
      if (finished.length > 0) found.set(partition, { lease: state.lease, finished });
    }
    return found;
  }

  /** After their commit: those records leave the flight. */
  committed(partition: number, lease: Lease, count: number): void {
    const state = this.partitions.get(partition);
    if (state !== undefined && state.lease.generation === lease.generation) state.flight.take(count);
  }

  /** Forgets revoked partitions: their records still in flight finish into nothing. */
  forget(partitions: number[]): void {
    for (const partition of partitions) this.partitions.delete(partition);
  }

  /** Resolves once every record started has finished or given up. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private stateOf(partition: number): PartitionState<T> | undefined {
    const lease = this.parts.totals.lease(partition);
    if (lease === undefined) return undefined;
    const state = this.partitions.get(partition);
    if (state !== undefined && state.lease.generation === lease.generation) return state;
    // A new assignment: what was in flight under the old one is read again by its owner.
    const fresh: PartitionState<T> = { lease, flight: new PartitionFlight<Finished<T>>(), chains: new Map() };
    this.partitions.set(partition, fresh);
    return fresh;
  }

  // False when the record did not finish; the later records of its key then do not start.
  private async start(state: PartitionState<T>, record: SourceRecord, after: Promise<boolean>): Promise<boolean> {
    try {
      if (!(await after) || this.parts.stop.aborted) return false;
      const result = await this.finish(record, await processOrder(this.parts, record), state.lease);
      if (result === undefined) return false;
      state.flight.finish(Number(record.offset), { record, result });
      this.onFinished();
      return true;
    } catch (error) {
      // A backoff cut short by the stop is no failure: the record is read again next time.
      if (!this.parts.stop.aborted) {
        const failure = error instanceof OrdersError ? error : undefined;
        if (failure !== undefined && !failure.canRetry) this.parts.session.fail(failure);
        else this.parts.session.logger.warn(`${record.topic}/${record.partition}@${record.offset} left unfinished: ${messageOf(error)}`);
      }
      return false;
    } finally {
      this.parts.gate.release();
    }
  }
}
