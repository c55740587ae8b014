import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeOrder, type Order } from '../../src/avro/codec.js';
import { bareAvro } from '../../src/registry/value-format.js';
import { SimulatedFailure } from '../../src/errors.js';
import { processRecord, type ProcessSteps, type RetryNotice } from '../../src/processing/process-record.js';

const order: Order = { orderId: 'o-1', product: 'dock', price: 99.99, createdAt: 1_700_000_000_000 };

function steps(failures: number, thrown: (attempt: number) => unknown = (attempt) => new SimulatedFailure('o-1', attempt)) {
  const notices: RetryNotice[] = [];
  const slept: number[] = [];
  const attempts: number[] = [];
  const value: ProcessSteps = {
    decoder: bareAvro,
    policy: { retries: 2, backoffMs: 100, maxBackoffMs: 1000 },
    process: (_order, attempt) => {
      attempts.push(attempt);
      if (attempt <= failures) throw thrown(attempt);
    },
    retrying: (notice) => notices.push(notice),
    sleep: async (ms) => { slept.push(ms); },
  };
  return { value, notices, slept, attempts };
}

describe('processing one record', () => {
  it('succeeds on the first attempt without sleeping', async () => {
    const s = steps(0);
    const outcome = await processRecord(encodeOrder(order), s.value);
    assert.equal(outcome.kind, 'processed');
    assert.equal(outcome.attempts, 1);
    assert.deepEqual(s.slept, []);
  });

  it('retries transient failures with growing backoff and then succeeds', async () => {
    const s = steps(2);
    const outcome = await processRecord(encodeOrder(order), s.value);
    assert.deepEqual({ kind: outcome.kind, attempts: outcome.attempts }, { kind: 'processed', attempts: 3 });
    assert.deepEqual(s.attempts, [1, 2, 3]);
    assert.equal(s.slept.length, 2);
    assert.ok((s.slept[0] ?? 0) >= 50 && (s.slept[0] ?? 0) <= 100 && (s.slept[1] ?? 0) >= 100 && (s.slept[1] ?? 0) <= 200);
    assert.deepEqual(s.notices.map((notice) => notice.attempt), [1, 2]);
  });

  it('dead-letters after retries + 1 failed attempts', async () => {
    const s = steps(99);
    const outcome = await processRecord(encodeOrder(order), s.value);
    assert.equal(outcome.kind, 'dead-letter');
    assert.deepEqual(outcome.kind === 'dead-letter' && [outcome.orderId, outcome.attempts, outcome.reason], ['o-1', 3, 'retries-exhausted']);
    assert.deepEqual(s.attempts, [1, 2, 3]);
  });

  it('dead-letters undecodable bytes at once, without running the business step', async () => {
    const s = steps(0);
    const outcome = await processRecord(Buffer.from('garbage'), s.value);
    assert.deepEqual(outcome.kind === 'dead-letter' && [outcome.orderId, outcome.attempts, outcome.reason], [null, 1, 'undecodable']);
    assert.deepEqual(s.attempts, []);
  });

  it('does not retry an error that is not retryable', async () => {
    const s = steps(1, () => new RangeError('bug'));
    const outcome = await processRecord(encodeOrder(order), s.value);
    assert.deepEqual(outcome.kind === 'dead-letter' && [outcome.attempts, outcome.reason], [1, 'non-retryable']);
    assert.deepEqual(s.slept, []);
  });

  it('leaves a record whose decoder cannot say yet (a registry not answering) to be tried again, not dead-lettered', async () => {
    const s = steps(0);
    const waiting = new Error('schema registry did not answer');
    await assert.rejects(async () => processRecord(encodeOrder(order), { ...s.value, decoder: { decode: () => Promise.reject(waiting) } }), waiting);
    assert.deepEqual(s.attempts, []);
  });

  it('decides without a promise when nothing waits: a first attempt that succeeds, or an undecodable value', () => {
    const ok = processRecord(encodeOrder(order), steps(0).value);
    assert.ok(!(ok instanceof Promise));
    assert.equal(ok.kind, 'processed');
    const bad = processRecord(Buffer.from('garbage'), steps(0).value);
    assert.ok(!(bad instanceof Promise));
    assert.equal(bad.kind, 'dead-letter');
    // A retry waits out its backoff: that one is a promise.
    assert.ok(processRecord(encodeOrder(order), steps(1).value) instanceof Promise);
  });

  it('throws at once what a decoder throws that is no verdict on the record', () => {
    const broken = new Error('registry refused: 401');
    assert.throws(() => processRecord(encodeOrder(order), { ...steps(0).value, decoder: { decode: () => { throw broken; } } }), broken);
  });
});
