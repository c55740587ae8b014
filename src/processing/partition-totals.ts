import { EMPTY_AGGREGATE, addOrder, sumAggregates, type Aggregate } from './aggregate.js';

/** Proof of ownership of one partition, taken before an await; a rebalance in between voids it. */
export interface Lease {
  readonly partition: number;
  readonly generation: number;
}

interface Owned {
  generation: number;
  aggregate: Aggregate;
  /** Exactly-once: the aggregate is still being restored from its snapshot, so nothing may be folded in. */
  restoring: boolean;
}

/**
 * The one owner of the running totals of the partitions a consumer owns. Rebalances move partitions
 * in and out; a fold whose lease predates a rebalance is refused, so a revoked partition never
 * comes back through work that was in flight.
 */
export class PartitionTotals {
  private readonly owned = new Map<number, Owned>();
  // Revoked, but kept until the next assignment says whether they come back (an eager rebalance revokes everything).
  private readonly revoked = new Map<number, Aggregate>();
  private generation = 0;
  private frozen = false;

  /**
   * @param restoreOnAssign exactly-once: assigned partitions wait for their snapshot (restore);
   *   at-least-once: a partition that comes back keeps its total, a new one starts from nothing.
   */
  constructor(private readonly restoreOnAssign: boolean) {}

  /** A rebalance assigned `partitions` (the whole assignment, or the added part of an incremental one). */
  assign(partitions: number[]): void {
    if (this.frozen) return;
    this.generation++;
    for (const partition of partitions) {
      const kept = this.restoreOnAssign ? undefined : (this.owned.get(partition)?.aggregate ?? this.revoked.get(partition));
      this.owned.set(partition, { generation: this.generation, aggregate: kept ?? EMPTY_AGGREGATE, restoring: this.restoreOnAssign });
    }
    this.revoked.clear();
  }

  /** A rebalance took `partitions` away: their totals leave, and leases on them are void. */
  revoke(partitions: number[]): void {
    if (this.frozen) return;
    this.generation++;
    for (const partition of partitions) {
      const owned = this.owned.get(partition);
      if (owned === undefined) continue;
      this.owned.delete(partition);
      this.revoked.set(partition, owned.aggregate);
    }
  }

  /** The consumer is closing: its final revoke must not empty the totals the summary reports. */
  freeze(): void {
    this.frozen = true;
  }

  /** The lease to fold into `partition` later, or undefined when this consumer does not own it. */
  lease(partition: number): Lease | undefined {
    const owned = this.owned.get(partition);
    return owned === undefined ? undefined : { partition, generation: owned.generation };
  }

  /**
   * Exactly-once: the restored aggregate of a partition assigned under `lease`; false (and nothing
   * written) if the lease is void or the partition is live already: an older aggregate never
   * overwrites what was folded in since.
   */
  restore(lease: Lease, aggregate: Aggregate): boolean {
    const owned = this.current(lease);
    if (owned === undefined || !owned.restoring) return false;
    owned.aggregate = aggregate;
    owned.restoring = false;
    return true;
  }

  /** True while `lease` is the partition's current one: no rebalance took it away since. */
  holds(lease: Lease): boolean {
    return this.current(lease) !== undefined;
  }

  /** The aggregate of an owned, ready partition. */
  aggregateOf(lease: Lease): Aggregate | undefined {
    const owned = this.current(lease);
    return owned === undefined || owned.restoring ? undefined : owned.aggregate;
  }

  /** Adds one order's price; false (and nothing added) when the lease is void or the partition still restoring. */
  fold(lease: Lease, price: number): boolean {
    const owned = this.current(lease);
    if (owned === undefined || owned.restoring) return false;
    owned.aggregate = addOrder(owned.aggregate, price);
    return true;
  }

  /** Exactly-once: the aggregate a committed transaction wrote; false when the lease is void. */
  set(lease: Lease, aggregate: Aggregate): boolean {
    const owned = this.current(lease);
    if (owned === undefined || owned.restoring) return false;
    owned.aggregate = aggregate;
    return true;
  }

  /** Over the owned partitions. */
  total(): Aggregate {
    return sumAggregates([...this.owned.values()].map((owned) => owned.aggregate));
  }

  /** Owned partitions whose aggregate is still to be restored. */
  restoring(): number[] {
    return [...this.owned].filter(([, owned]) => owned.restoring).map(([partition]) => partition).sort((a, b) => a - b);
  }

  private current(lease: Lease): Owned | undefined {
    const owned = this.owned.get(lease.partition);
    return owned !== undefined && owned.generation === lease.generation ? owned : undefined;
  }
}
