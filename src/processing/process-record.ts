import type { Order, OrderDecoder } from '../avro/codec.js';
import { UndecodableError } from '../errors.js';
import type { DeadLetterReason } from './dlq.js';
import { decideRetry, type RetryPolicy } from './retry.js';

export type Outcome =
  | { kind: 'processed'; order: Order; attempts: number }
  | { kind: 'dead-letter'; orderId: string | null; attempts: number; reason: DeadLetterReason; error: unknown };

export interface RetryNotice {
  orderId: string;
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface ProcessSteps {
  decoder: OrderDecoder;
  policy: RetryPolicy;
  /** The business step for one attempt; throwing fails the attempt. */
  process(order: Order, attempt: number): void;
  retrying(notice: RetryNotice): void;
  sleep(ms: number): Promise<void>;
}

/**
 * Decodes a record and runs the business step with bounded retries; says whether it succeeded or must be
 * dead-lettered. Synchronous when nothing has to wait (no retry, a decoder that has the schema): at
 * hundreds of thousands of orders a second a promise per order is a large part of the cost.
 */
export function processRecord(value: Buffer | null, steps: ProcessSteps): Outcome | Promise<Outcome> {
  let decoded: Order | Promise<Order>;
  try {
    decoded = steps.decoder.decode(value);
  } catch (error) {
    return undecodable(error);
  }
  if (decoded instanceof Promise) return decoded.then((order) => attemptFrom(order, steps, 1), undecodable);
  return attemptFrom(decoded, steps, 1);
}

// Anything else (a registry not answering, a stop) is no verdict on the record: it stays unfinished.
function undecodable(error: unknown): Outcome {
  if (!(error instanceof UndecodableError)) throw error;
  return { kind: 'dead-letter', orderId: null, attempts: 1, reason: 'undecodable', error };
}

function attemptFrom(order: Order, steps: ProcessSteps, attempt: number): Outcome | Promise<Outcome> {
  try {
    steps.process(order, attempt);
    return { kind: 'processed', order, attempts: attempt };
  } catch (error) {
    const decision = decideRetry(steps.policy, error, attempt);
    if (decision.action === 'dead-letter') return { kind: 'dead-letter', orderId: order.orderId, attempts: attempt, reason: decision.reason, error };
    steps.retrying({ orderId: order.orderId, attempt, delayMs: decision.delayMs, error });
    return steps.sleep(decision.delayMs).then(() => attemptFrom(order, steps, attempt + 1));
  }
}
