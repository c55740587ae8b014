import type { Order, OrderDecoder } from '../avro/codec.js';
import { retryPolicyOf, type ConsumeOptions } from '../config/flags.js';
import { SimulatedFailure, messageOf } from '../errors.js';
import type { SourceRecord } from '../kafka/record.js';
import { deadLetter, type DeadLetterRecord } from '../processing/dlq.js';
import type { FlightGate } from '../processing/flight.js';
import { processRecord, type Outcome, type ProcessSteps, type RetryNotice } from '../processing/process-record.js';
import type { RetryPolicy } from '../processing/retry.js';
import { failsAttempt } from '../processing/simulated-failure.js';
import type { ConsumeEvents } from './tally.js';

/** Decides one record: decoded, run through the (simulated) business step with the retry policy. */
export type ProcessOrder = (record: SourceRecord) => Outcome | Promise<Outcome>;

/** Decodes a record and runs the (simulated) business step with the retry policy; a stop rejects the backoff. */
export function orderProcessor(options: ConsumeOptions, decoder: OrderDecoder, events: Pick<ConsumeEvents, 'retrying'>, gate: FlightGate): ProcessOrder {
  const shared: SharedSteps = { options, decoder, policy: retryPolicyOf(options), events, gate };
  return (record) => processRecord(record.value, new RecordSteps(shared, record));
}

interface SharedSteps {
  options: ConsumeOptions;
  decoder: OrderDecoder;
  policy: RetryPolicy;
  events: Pick<ConsumeEvents, 'retrying'>;
  gate: FlightGate;
}

// One object per record, its steps on the prototype: a steps object and three closures a record were four allocations.
class RecordSteps implements ProcessSteps {
  constructor(private readonly shared: SharedSteps, private readonly record: SourceRecord) {}

  get decoder(): OrderDecoder {
    return this.shared.decoder;
  }

  get policy(): RetryPolicy {
    return this.shared.policy;
  }

  process(order: Order, attempt: number): void {
    const { seed, failRate } = this.shared.options;
    if (failsAttempt(seed, order.orderId, attempt, failRate)) throw new SimulatedFailure(order.orderId, attempt);
  }

  retrying({ orderId, attempt, delayMs, error }: RetryNotice): void {
    const { partition, offset } = this.record;
    this.shared.events.retrying({ orderId, partition, offset, attempt, delayMs, errorMessage: messageOf(error) });
  }

  sleep(ms: number): Promise<void> {
    return this.shared.gate.backoff(ms);
  }
}

/** The dead letter of a record that must not be retried again. */
export function deadLetterOf(group: string, record: SourceRecord, outcome: Outcome & { kind: 'dead-letter' }): DeadLetterRecord {
  return deadLetter(record, { group, attempts: outcome.attempts, reason: outcome.reason, errorMessage: messageOf(outcome.error), failedAt: new Date() });
}
