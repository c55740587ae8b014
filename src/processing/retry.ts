import { OrdersError, UndecodableError } from '../errors.js';
import type { DeadLetterReason } from './dlq.js';

export interface RetryPolicy {
  /** Retries after the first attempt, so at most retries + 1 attempts. */
  retries: number;
  /** Delay before the first retry; it doubles on each retry. */
  backoffMs: number;
  maxBackoffMs: number;
}

export type RetryDecision =
  | { action: 'retry'; delayMs: number }
  | { action: 'dead-letter'; reason: DeadLetterReason };

/** What to do after `attempt` (1-based) failed with `error`. Reads the error's flags, never its text. */
export function decideRetry(policy: RetryPolicy, error: unknown, attempt: number, random: () => number = Math.random): RetryDecision {
  if (error instanceof UndecodableError) return { action: 'dead-letter', reason: 'undecodable' };
  if (!(error instanceof OrdersError) || !error.canRetry) return { action: 'dead-letter', reason: 'non-retryable' };
  if (attempt > policy.retries) return { action: 'dead-letter', reason: 'retries-exhausted' };
  return { action: 'retry', delayMs: backoffDelay(policy, attempt, random) };
}

/** Exponential backoff with "equal jitter": uniform in [d/2, d] where d = backoffMs * 2^(attempt-1), capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The longest one record can spend sleeping between its attempts. */
export function worstCaseBackoffMs(policy: RetryPolicy): number {
  let total = 0;
  for (let attempt = 1; attempt <= policy.retries; attempt++) total += Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1));
  return total;
}
