import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { parseConsumeOptions } from '../../src/config/flags.js';
import { Dispatch, type PlannedCommit } from '../../src/consume/dispatch.js';
import { dispatchNeeds, type ConsumeParts } from '../../src/consume/mode.js';
import { Tally } from '../../src/consume/tally.js';
import { InternalError } from '../../src/errors.js';
import { DoneOffsets } from '../../src/kafka/consumer/reader.js';
import type { SourceRecord } from '../../src/kafka/record.js';
import type { KafkaSession } from '../../src/kafka/session.js';
import { FlightGate } from '../../src/processing/flight.js';
import { PartitionTotals } from '../../src/processing/partition-totals.js';
import type { Outcome } from '../../src/processing/process-record.js';
import { bareAvro } from '../../src/registry/value-format.js';

// Dispatch reports to the session only a failed record, which these tests do not make.
const session = { fail: () => assert.fail('no record fails here'), logger: { warn: () => assert.fail('nothing is left unfinished here') } } as unknown as KafkaSession;

function partsFor(stop: AbortSignal): ConsumeParts {
  const options = parseConsumeOptions({ failRate: '0', maxInFlight: '10' }, {});
  const totals = new PartitionTotals(false);
  totals.assign([0]);
  const events = { processed: () => {}, retrying: () => {}, deadLettered: () => {} };
  return { options, session, events, totals, tally: new Tally(events), gate: new FlightGate(options.maxInFlight, stop), stop, done: new DoneOffsets(), decoder: bareAvro, membership: { protocol: 'classic', instanceId: undefined } };
}

// The finished run at the front of partition 0, as a commit would take it.
function frontOf(dispatch: Dispatch<Outcome>): PlannedCommit<Outcome> | undefined {
  return dispatch.plans([0], false)[0];
}

function records(count: number, keyOf = (offset: number): string => `k${offset}`): SourceRecord[] {
  const value = encodeOrder({ orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 });
  return Array.from({ length: count }, (_, offset) => ({ topic: 'orders', partition: 0, offset: String(offset), timestamp: '0', key: Buffer.from(keyOf(offset)), value, headers: {} }));
}

// Reads `count` records in the background: how many were taken in once the reader returns, and how often it asked for a commit.
function reading(dispatch: Dispatch<Outcome>, count: number): { accepted: number | undefined; full: number } {
  const seen: { accepted: number | undefined; full: number } = { accepted: undefined, full: 0 };
  dispatch.onFull = () => { seen.full++; };
  void dispatch.accept(records(count)).then((accepted) => { seen.accepted = accepted; });
  return seen;
}

describe('dispatching records', () => {
  it('holds at most 20,000 records read and not committed: reading waits for a commit, then goes on', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const read = reading(dispatch, 20_005);
    await tick();
    assert.equal(read.accepted, undefined, 'the reader waits');
    assert.ok(read.full > 0, 'and asks for a commit');
    const finished = frontOf(dispatch);
    assert.equal(finished?.plan.fresh.length, 20_000);
    assert.ok(finished);
    dispatch.committed(finished);
    await tick();
    assert.equal(read.accepted, 20_005);
    assert.deepEqual(frontOf(dispatch)?.plan.fresh.map(({ result: { record } }) => record.offset), ['20000', '20001', '20002', '20003', '20004']);
  });

  it('asks again for a commit when the record that blocked the front finishes while reading waits', async () => {
    const parts = partsFor(new AbortController().signal);
    let finishFirst = (): void => {};
    const first = new Promise<Outcome | undefined>((resolve) => { finishFirst = () => resolve({ kind: 'processed', order: { orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 }, attempts: 1 }); });
    // Offset 0 is slow (say a retry backing off): nothing behind it may be committed yet.
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => (record.offset === '0' ? first : outcome));
    const read = reading(dispatch, 20_001);
    await tick();
    assert.equal(read.accepted, undefined, 'the reader waits for room');
    assert.equal(read.full, 1);
    assert.equal(frontOf(dispatch), undefined, 'a commit could make no room yet');
    finishFirst();
    await tick();
    assert.equal(read.full, 2, 'now a commit can: it is asked for at once, not at the next tick');
    const finished = frontOf(dispatch);
    assert.equal(finished?.plan.fresh.length, 20_000);
    assert.ok(finished);
    dispatch.committed(finished);
    await tick();
    assert.equal(read.accepted, 20_001);
  });

  it('lets a reader waiting for room go at Ctrl-C, taking nothing more', async () => {
    const stop = new AbortController();
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(partsFor(stop.signal)), (_record, outcome) => outcome);
    const accepting = dispatch.accept(records(20_001));
    await tick();
    stop.abort();
    assert.equal(await accepting, 20_000);
  });

  it('frees the room of revoked partitions', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const accepting = dispatch.accept(records(20_001));
    await tick();
    parts.totals.revoke([0]);
    dispatch.forget([0]);
    // The partition is gone: its last record is not taken in, and the reader is not stuck.
    assert.equal(await accepting, 20_000);
  });

  it('takes nothing more of a partition once its revoke began, even when a commit then frees room (issue 18, defect 2)', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const accepting = dispatch.accept(records(20_001));
    await tick();
    // The revoke starts; its commit frees room while the partition still has its lease.
    dispatch.close([0]);
    const finished = frontOf(dispatch);
    assert.equal(finished?.plan.fresh.length, 20_000);
    assert.ok(finished);
    dispatch.committed(finished);
    assert.equal(await accepting, 20_000, 'the waiting record of the closing partition is not taken in');
    assert.equal(frontOf(dispatch), undefined, 'and no state was made again from the old lease');
  });

  it('lets records of other keys run while one hot key waits: records queued behind their key hold no slot (issue 18, defect 7)', async () => {
    const parts = partsFor(new AbortController().signal);
    const started: string[] = [];
    // Offset 0 of the hot key never ends (say it backs off for long); its key's later records wait behind it.
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => {
      started.push(record.offset);
      return record.offset === '0' ? new Promise<Outcome | undefined>(() => {}) : outcome;
    });
    // --max-in-flight is 10: offsets 0-14 share the hot key, 15 has its own.
    const accepted = await dispatch.accept(records(16, (offset) => (offset < 15 ? 'hot' : 'cold')));
    assert.equal(accepted, 16);
    await tick();
    assert.ok(started.includes('15'), `the cold key's record ran (started: ${started.join(',')})`);
    assert.deepEqual(parts.gate.status(), { inFlight: 1, backingOff: 0 }, 'only the running hot record holds a slot');
  });

  it('stops the command with one line when a record fails unexpectedly, instead of leaving it pending (issue 18, defect 6)', async () => {
    const failures: unknown[] = [];
    const parts = { ...partsFor(new AbortController().signal), session: { fail: (error: unknown) => failures.push(error) } as unknown as KafkaSession };
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => {
      if (record.offset === '1') throw new TypeError('a bug');
      return outcome;
    });
    await dispatch.accept(records(3));
    await dispatch.idle();
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof InternalError);
    assert.match((failures[0] as Error).message, /^orders\/0@1 failed unexpectedly: a bug$/);
    assert.deepEqual(frontOf(dispatch)?.plan.fresh.map(({ result: { record } }) => record.offset), ['0'], 'nothing past the failed record is committable');
  });

  it('passes the records the last commit named as done above its offset: they are not run again after a restart (issue 18)', async () => {
    const parts = partsFor(new AbortController().signal);
    const ran: string[] = [];
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => {
      ran.push(record.offset);
      return outcome;
    });
    const lease = parts.totals.lease(0);
    assert.ok(lease);
    dispatch.skip(lease, [1, 3]);
    assert.equal(await dispatch.accept(records(5)), 5);
    await dispatch.idle();
    assert.deepEqual(ran, ['0', '2', '4']);
    const front = frontOf(dispatch);
    assert.deepEqual(front?.plan.fresh.map(({ offset }) => offset), [0, 2, 4]);
    assert.equal(front?.plan.next, 5);
  });
});
