import type { OrderDecoder } from '../avro/codec.js';
import { retryPolicyOf, type ConsumeOptions } from '../config/flags.js';
import { SimulatedFailure, messageOf } from '../errors.js';
import type { SourceRecord } from '../kafka/record.js';
import { deadLetter, type DeadLetterRecord } from '../processing/dlq.js';
import type { FlightGate } from '../processing/flight.js';
import { processRecord, type Outcome } from '../processing/process-record.js';
import { failsAttempt } from '../processing/simulated-failure.js';
import type { ConsumeEvents } from './tally.js';

/** Decides one record: decoded, run through the (simulated) business step with the retry policy. */
export type ProcessOrder = (record: SourceRecord) => Outcome | Promise<Outcome>;

/** Decodes a record and runs the (simulated) business step with the retry policy; a stop rejects the backoff. */
export function orderProcessor(options: ConsumeOptions, decoder: OrderDecoder, events: Pick<ConsumeEvents, 'retrying'>, gate: FlightGate): ProcessOrder {
  const policy = retryPolicyOf(options);
  return (record) => processRecord(record.value, {
    decoder,
    policy,
    process: (order, attempt) => {
      if (failsAttempt(options.seed, order.orderId, attempt, options.failRate)) throw new SimulatedFailure(order.orderId, attempt);
    },
    retrying: ({ orderId, attempt, delayMs, error }) =>
      events.retrying({ orderId, partition: record.partition, offset: record.offset, attempt, delayMs, errorMessage: messageOf(error) }),
    sleep: (ms) => gate.backoff(ms),
  });
}

/** The dead letter of a record that must not be retried again. */
export function deadLetterOf(group: string, record: SourceRecord, outcome: Outcome & { kind: 'dead-letter' }): DeadLetterRecord {
  return deadLetter(record, { group, attempts: outcome.attempts, reason: outcome.reason, errorMessage: messageOf(outcome.error), failedAt: new Date() });
}
