import { EMPTY_AGGREGATE, sumAggregates, type Aggregate } from './aggregate.js';
import type { DecodedCommitMetadata } from './commit-metadata.js';

/*
 * The arithmetic of `orders verify`, with no Kafka in it: what a group committed on each partition,
 * the committed dead letters, then the orders of the topic one by one, into what stats should say.
 * An order is decided when it lies below the group's committed offset or is named done above it;
 * a decided order either succeeded (and counts in the aggregate) or has a dead letter (and does not).
 */

/** One partition's committed offset (-1: none) and its decoded metadata. */
export interface CommittedPartition {
  partition: number;
  committed: number;
  metadata: DecodedCommitMetadata;
}

/** Where a dead letter's order came from (its headers), and the key it kept. */
export interface DeadLetterOrigin {
  partition: number;
  offset: number;
  key: string | null;
}

/** An order read from the topic; `cents` undefined when its value is not an order. */
export interface AuditedOrder {
  partition: number;
  offset: number;
  cents: number | undefined;
}

export interface Position {
  partition: number;
  offset: number;
  key: string | null;
}

export type AuditGuarantee = 'exactly-once' | 'at-least-once' | 'none';

export interface AuditResult {
  /** exactly-once: every committed partition carries an aggregate; at-least-once: none does; none: no partition committed by orders. */
  guarantee: AuditGuarantee;
  /** The sum of the committed aggregates: what `orders stats` shows. Undefined without one. */
  stats: Aggregate | undefined;
  /** The decided orders that have no dead letter: what the aggregate must equal. */
  succeeded: Aggregate;
  /** stats minus succeeded; undefined without stats. */
  difference: Aggregate | undefined;
  decided: number;
  deadLettered: number;
  /** Orders of the topic above the committed offsets and not named done: not decided yet. */
  undecided: number;
  /** Decided orders with more than one committed dead letter, with how many. */
  deadLetteredTwice: (Position & { copies: number })[];
  /** Dead letters of orders the group has not committed as decided. */
  deadLettersUndecided: Position[];
  /** Decided orders whose value is not an order, yet with no dead letter: they were lost. */
  undecodableLost: Position[];
  /** Partitions whose commit has no metadata of orders, or a foreign one: their orders cannot be audited. */
  unreadable: number[];
  /** What is wrong, one line each; empty when the group is exact. */
  problems: string[];
}

/** The running audit: the commits and the dead letters first, then every order of the topic. */
export class Audit {
  private readonly partitions = new Map<number, { committed: number; done: Set<number>; aggregate: Aggregate | undefined; readable: boolean }>();
  // Dead letters by original position: `${partition}:${offset}`.
  private readonly letters = new Map<string, { origin: DeadLetterOrigin; copies: number; decided: boolean }>();
  private decided = 0;
  private deadLettered = 0;
  private undecided = 0;
  private succeeded: Aggregate = EMPTY_AGGREGATE;
  private readonly undecodableLost: Position[] = [];

  constructor(committed: readonly CommittedPartition[]) {
    for (const { partition, committed: offset, metadata } of committed) {
      const state = metadata.kind === 'ours' ? metadata.state : undefined;
      this.partitions.set(partition, {
        committed: offset,
        done: new Set(state?.doneAbove ?? []),
        aggregate: state?.aggregate,
        // No commit at all is readable: nothing is decided there yet.
        readable: offset < 0 || state !== undefined,
      });
    }
  }

  deadLetter(origin: DeadLetterOrigin): void {
    const id = `${origin.partition}:${origin.offset}`;
    const known = this.letters.get(id);
    if (known === undefined) this.letters.set(id, { origin, copies: 1, decided: false });
    else known.copies++;
  }

  /** Each order of the topic once, in any order. */
  order(order: AuditedOrder): void {
    if (!this.isDecided(order.partition, order.offset)) {
      this.undecided++;
      return;
    }
    this.decided++;
    const letter = this.letters.get(`${order.partition}:${order.offset}`);
    if (letter !== undefined) {
      letter.decided = true;
      this.deadLettered++;
      return;
    }
    if (order.cents === undefined) {
      this.undecodableLost.push({ partition: order.partition, offset: order.offset, key: null });
      return;
    }
    this.succeeded = { totalCents: this.succeeded.totalCents + order.cents, count: this.succeeded.count + 1 };
  }

  result(): AuditResult {
    const partitions = [...this.partitions.entries()].sort(([a], [b]) => a - b);
    const committed = partitions.filter(([, p]) => p.committed >= 0 && p.readable);
    const withAggregate = committed.filter(([, p]) => p.aggregate !== undefined);
    const guarantee: AuditGuarantee = committed.length === 0 ? 'none' : withAggregate.length === committed.length ? 'exactly-once' : withAggregate.length === 0 ? 'at-least-once' : 'exactly-once';
    const stats = withAggregate.length === 0 ? undefined : sumAggregates(withAggregate.map(([, p]) => p.aggregate ?? EMPTY_AGGREGATE));
    const difference = stats === undefined ? undefined : { totalCents: stats.totalCents - this.succeeded.totalCents, count: stats.count - this.succeeded.count };
    const letters = [...this.letters.values()].sort((a, b) => a.origin.partition - b.origin.partition || a.origin.offset - b.origin.offset);
    const deadLetteredTwice = letters.filter((l) => l.copies > 1).map((l) => ({ ...l.origin, copies: l.copies }));
    const deadLettersUndecided = letters.filter((l) => !l.decided).map((l) => l.origin);
    const unreadable = partitions.filter(([, p]) => !p.readable).map(([partition]) => partition);
    const problems: string[] = [];
    if (unreadable.length > 0) problems.push(`partition${plural(unreadable.length)} ${unreadable.join(', ')} committed without the metadata of orders: their orders cannot be audited`);
    if (this.undecodableLost.length > 0) problems.push(`${this.undecodableLost.length} decided record${plural(this.undecodableLost.length)} not an order and not dead-lettered: lost`);
    if (guarantee === 'exactly-once') {
      const missing = committed.filter(([, p]) => p.aggregate === undefined).map(([partition]) => partition);
      if (missing.length > 0) problems.push(`partition${plural(missing.length)} ${missing.join(', ')} committed without an aggregate beside others with one`);
      if (difference !== undefined && (difference.count !== 0 || difference.totalCents !== 0)) {
        problems.push(`stats differs from the orders it stands for by count ${signed(difference.count)}, total_price ${signed(difference.totalCents / 100, 2)}`);
      }
      if (deadLetteredTwice.length > 0) problems.push(`${deadLetteredTwice.length} order${plural(deadLetteredTwice.length)} dead-lettered more than once`);
      // A transaction commits the dead letter and the offset that passes its order together.
      if (deadLettersUndecided.length > 0) problems.push(`${deadLettersUndecided.length} dead letter${plural(deadLettersUndecided.length)} of orders the group has not committed as decided`);
    }
    return {
      guarantee, stats, succeeded: this.succeeded, difference, decided: this.decided, deadLettered: this.deadLettered, undecided: this.undecided,
      deadLetteredTwice, deadLettersUndecided, undecodableLost: this.undecodableLost, unreadable, problems,
    };
  }

  private isDecided(partition: number, offset: number): boolean {
    const committed = this.partitions.get(partition);
    if (committed === undefined || !committed.readable) return false;
    return offset < committed.committed || committed.done.has(offset);
  }
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

function signed(value: number, digits = 0): string {
  return `${value > 0 ? '+' : ''}${value.toFixed(digits)}`;
}
