import type { Order } from '../avro/codec.js';
import { messageOf } from '../errors.js';
import { EMPTY_AGGREGATE, type Aggregate } from '../processing/aggregate.js';
import type { DeadLetterReason } from '../processing/dlq.js';
import type { FlightStatus } from '../processing/flight.js';
import type { Outcome } from '../processing/process-record.js';
import type { ProgressReport } from './progress.js';

export interface ProcessedOrder {
  order: Order;
  partition: number;
  offset: string;
  attempts: number;
  /** Over the partitions this consumer owns. */
  aggregate: Aggregate;
  /** From the order's createdAt to the end of its processing. */
  latencyMs: number;
}

export interface RetryNotice {
  orderId: string;
  partition: number;
  offset: string;
  attempt: number;
  delayMs: number;
  errorMessage: string;
}

export interface DeadLetteredOrder {
  orderId: string | null;
  partition: number;
  offset: string;
  reason: DeadLetterReason;
  attempts: number;
  errorMessage: string;
}

export interface ConsumeEvents {
  processed(result: ProcessedOrder): void;
  retrying(notice: RetryNotice): void;
  deadLettered(result: DeadLetteredOrder): void;
  /** Each second: what is in flight and waiting out a backoff. */
  flight?(status: FlightStatus): void;
  /** Each second: the lag of the assigned partitions, the rate, and with --exit-at-end how far to the end. */
  progress?(report: ProgressReport): void;
  /** Characters of events told that the output's reader has not taken yet: no record is taken in while many are. */
  unwritten?(): number;
  /**
   * Before a commit passes the orders told so far: whatever holds their events back writes them now; true
   * once they have left the process (not queued in it for a slow reader), false if `stop` came first.
   */
  written?(stop: AbortSignal): Promise<boolean>;
}

export interface ConsumeSummary {
  processed: number;
  succeeded: number;
  deadLettered: number;
  /** Over the partitions this consumer owned at the end, including what earlier runs folded in (exactly-once). */
  aggregate: Aggregate;
  seed: number;
}

/** Counts outcomes once they are durable and tells the events; the one owner of the summary's counts. */
export class Tally {
  private processed = 0;
  private succeeded = 0;
  private deadLettered = 0;

  constructor(private readonly events: ConsumeEvents) {}

  /** The outcome of the record at `partition`/`offset`; `total` is the owned partitions' aggregate after it. */
  record(partition: number, offset: string, outcome: Outcome, total: Aggregate): void {
    this.processed++;
    if (outcome.kind === 'processed') {
      this.succeeded++;
      const { order, attempts } = outcome;
      this.events.processed({ order, partition, offset, attempts, aggregate: total, latencyMs: Date.now() - order.createdAt });
    } else {
      this.deadLettered++;
      this.events.deadLettered({ orderId: outcome.orderId, partition, offset, reason: outcome.reason, attempts: outcome.attempts, errorMessage: messageOf(outcome.error) });
    }
  }

  /**
   * At-least-once, before a commit: an order's event is out of the process before its offset is
   * committed, so a crash cannot lose it; false when `stop` came first (then nothing may be committed).
   */
  written(stop: AbortSignal): Promise<boolean> {
    return this.events.written?.(stop) ?? Promise.resolve(true);
  }

  summary(aggregate: Aggregate = EMPTY_AGGREGATE, seed: number): ConsumeSummary {
    return { processed: this.processed, succeeded: this.succeeded, deadLettered: this.deadLettered, aggregate, seed };
  }
}
