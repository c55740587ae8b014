import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InternalError, SimulatedFailure, UndecodableError } from '../../src/errors.js';
import { backoffDelay, decideRetry, type RetryPolicy } from '../../src/processing/retry.js';

const policy: RetryPolicy = { retries: 2, backoffMs: 100, maxBackoffMs: 1000 };
const transient = new SimulatedFailure('o1', 1);

describe('retry policy', () => {
  it('retries a retryable failure `retries` times, then dead-letters it', () => {
    assert.equal(decideRetry(policy, transient, 1).action, 'retry');
    assert.equal(decideRetry(policy, transient, 2).action, 'retry');
    assert.deepEqual(decideRetry(policy, transient, 3), { action: 'dead-letter', reason: 'retries-exhausted' });
  });

  it('with zero retries dead-letters on the first failure', () => {
    assert.deepEqual(decideRetry({ ...policy, retries: 0 }, transient, 1), { action: 'dead-letter', reason: 'retries-exhausted' });
  });

  it('never retries undecodable records or non-retryable errors', () => {
    assert.deepEqual(decideRetry(policy, new UndecodableError('bad'), 1), { action: 'dead-letter', reason: 'undecodable' });
    assert.deepEqual(decideRetry(policy, new InternalError('no'), 1), { action: 'dead-letter', reason: 'non-retryable' });
    assert.deepEqual(decideRetry(policy, new TypeError('boom'), 1), { action: 'dead-letter', reason: 'non-retryable' });
  });

  it('doubles the backoff ceiling each attempt, with jitter in [ceiling/2, ceiling]', () => {
    assert.equal(backoffDelay(policy, 1, () => 0), 50);
    assert.equal(backoffDelay(policy, 1, () => 0.999999), 100);
    assert.equal(backoffDelay(policy, 2, () => 0), 100);
    assert.equal(backoffDelay(policy, 3, () => 0.999999), 400);
  });

  it('caps the backoff at maxBackoffMs', () => {
    assert.equal(backoffDelay(policy, 10, () => 0.999999), 1000);
    assert.equal(backoffDelay(policy, 10, () => 0), 500);
  });

  it('spreads jittered delays over the whole range', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(policy, 2, Math.random));
    assert.ok(delays.every((delay) => delay >= 100 && delay <= 200));
    assert.ok(Math.min(...delays) < 110 && Math.max(...delays) > 190, 'jitter does not cover its range');
  });

  it('returns the delay with a retry decision', () => {
    assert.deepEqual(decideRetry(policy, transient, 2, () => 0), { action: 'retry', delayMs: 100 });
  });
});

describe('worst-case backoff', () => {
  it('adds the capped ceilings of every retry', async () => {
    const { worstCaseBackoffMs } = await import('../../src/processing/retry.js');
    assert.equal(worstCaseBackoffMs({ retries: 0, backoffMs: 100, maxBackoffMs: 1000 }), 0);
    assert.equal(worstCaseBackoffMs({ retries: 2, backoffMs: 100, maxBackoffMs: 1000 }), 300);
    assert.equal(worstCaseBackoffMs({ retries: 5, backoffMs: 100, maxBackoffMs: 1000 }), 100 + 200 + 400 + 800 + 1000);
  });
});
