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

// Offers `count` records once: how many were taken in at once, and how often a commit was asked for.
function reading(dispatch: Dispatch<Outcome>, count: number): { accepted: number | undefined; asked: number } {
  const seen: { accepted: number | undefined; asked: number } = { accepted: undefined, asked: 0 };
  dispatch.onFilling = () => { seen.asked++; };
  void dispatch.accept(records(count)).then((accepted) => { seen.accepted = accepted; });
  return seen;
}

// An outcome that comes only once `finish` is called: a record backing off, say, which holds its partition's front.
function heldBack(): { outcome: Promise<Outcome | undefined>; finish: () => void } {
  let finish = (): void => {};
  const outcome = new Promise<Outcome | undefined>((resolve) => { finish = () => resolve({ kind: 'processed', order: { orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 }, attempts: 1 }); });
  return { outcome, finish };
}

// Records `from`.. of partition 0, as a reader offers again what was not taken.
function rest(from: number, count: number): SourceRecord[] {
  return records(from + count).slice(from);
}

describe('dispatching records', () => {
  it('takes nothing in while the output\'s reader is far behind, and takes the records once it caught up (issue 27: 121 MB of lines piled up in a pipe)', async () => {
    let unwritten = 9_000_000;
    const parts = partsFor(new AbortController().signal);
    const warnings: string[] = [];
    const said = { ...session, logger: { warn: (line: string) => warnings.push(line) } } as unknown as KafkaSession;
    const dispatch = new Dispatch<Outcome>(dispatchNeeds({ ...parts, session: said, events: { ...parts.events, unwritten: () => unwritten } }), (_record, outcome) => outcome);
    assert.equal(await dispatch.accept(records(5)), 0, 'nothing is taken while 9 MB of lines wait for the reader');
    assert.equal(await dispatch.accept(records(5)), 0, 'nor when offered again');
    assert.deepEqual(warnings, ['stdout\'s reader is more than 8 MB of lines behind: no order is taken in until it reads them'], 'said once, as the wait begins');
    unwritten = 0;
    assert.equal(await dispatch.accept(records(5)), 5, 'all of them once it read them');
  });

  it('holds at most 20,000 records read and not committed: accept takes what fits at once, never waits, and takes the rest after a commit', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const read = reading(dispatch, 20_005);
    await tick();
    assert.equal(read.accepted, 20_000, 'accept returns at once with what fits: the reader keeps polling');
    assert.equal(read.asked, 2, 'a commit is asked for at half the hold and again when it is found full');
    assert.equal(dispatch.hasRoom(), false);
    assert.equal(await dispatch.accept(rest(20_000, 5)), 0, 'offered again while full: nothing taken, no wait');
    assert.equal(read.asked, 2, 'not at every offer');
    const finished = frontOf(dispatch);
    assert.equal(finished?.plan.fresh.length, 20_000);
    assert.ok(finished);
    dispatch.committed(finished);
    assert.equal(dispatch.hasRoom(), true);
    assert.equal(await dispatch.accept(rest(20_000, 5)), 5);
    await dispatch.idle();
    assert.deepEqual(frontOf(dispatch)?.plan.fresh.map(({ offset }) => String(offset)), ['20000', '20001', '20002', '20003', '20004']);
  });

  it('asks for a commit once as the hold reaches half full, and again only after a commit took it below a quarter (issue 27: waiting for the 1 s commit with a full hold paused partitions 45 times per 1,000,000 orders)', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const read = reading(dispatch, 9_999);
    await tick();
    assert.equal(read.asked, 0, 'below half: the 1 s commit will do');
    assert.equal(await dispatch.accept(rest(9_999, 1)), 1);
    assert.equal(read.asked, 1, 'at half: asked');
    assert.equal(await dispatch.accept(rest(10_000, 100)), 100);
    assert.equal(read.asked, 1, 'once per filling, not per record');
    const finished = frontOf(dispatch);
    assert.ok(finished);
    dispatch.committed(finished);
    assert.equal(await dispatch.accept(rest(10_100, 9_999)), 9_999);
    assert.equal(read.asked, 1, 'the commit emptied the hold: below half again');
    assert.equal(await dispatch.accept(rest(20_099, 1)), 1);
    assert.equal(read.asked, 2, 'half full again: asked again');
  });

  it('does not ask again while a blocked front keeps the hold between a quarter and half full (a commit at every batch otherwise)', async () => {
    const parts = partsFor(new AbortController().signal);
    parts.totals.assign([1]);
    const { outcome: first, finish: finishFirst } = heldBack();
    // Offset 0 backs off: the 6,000 records behind it finish but stay held until it does.
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => (record.partition === 0 && record.offset === '0' ? first : outcome));
    const read = reading(dispatch, 6_000);
    await tick();
    assert.equal(read.asked, 0);
    const other = (from: number, count: number): SourceRecord[] => rest(from, count).map((record) => ({ ...record, partition: 1 }));
    assert.equal(await dispatch.accept(other(0, 4_000)), 4_000);
    assert.equal(read.asked, 1, 'half full: asked');
    await tick();
    const freed = dispatch.plans([1], false)[0];
    assert.ok(freed);
    dispatch.committed(freed);
    assert.equal(await dispatch.accept(other(4_000, 4_000)), 4_000, 'back at half with partition 0 still blocked');
    assert.equal(read.asked, 1, 'not asked again: the hold never went below a quarter');
    finishFirst();
    await dispatch.idle();
  });

  it('asks again for a commit when the record that blocked the front finishes while the hold is full', async () => {
    const parts = partsFor(new AbortController().signal);
    const { outcome: first, finish: finishFirst } = heldBack();
    // Offset 0 is slow (say a retry backing off): nothing behind it may be committed yet.
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => (record.offset === '0' ? first : outcome));
    const read = reading(dispatch, 20_001);
    await tick();
    assert.equal(read.accepted, 20_000, 'the reader is not held');
    assert.equal(read.asked, 2);
    assert.equal(frontOf(dispatch), undefined, 'a commit could make no room yet');
    finishFirst();
    await tick();
    assert.equal(read.asked, 3, 'now a commit can: it is asked for at once, not at the next tick');
    const finished = frontOf(dispatch);
    assert.equal(finished?.plan.fresh.length, 20_000);
    assert.ok(finished);
    dispatch.committed(finished);
    assert.equal(await dispatch.accept(rest(20_000, 1)), 1);
  });

  it('takes nothing at Ctrl-C', async () => {
    const stop = new AbortController();
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(partsFor(stop.signal)), (_record, outcome) => outcome);
    stop.abort();
    assert.equal(await dispatch.accept(records(5)), 0);
  });

  it('frees the room of revoked partitions', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    assert.equal(await dispatch.accept(records(20_001)), 20_000);
    assert.equal(dispatch.hasRoom(), false);
    parts.totals.revoke([0]);
    dispatch.forget([0]);
    assert.equal(dispatch.hasRoom(), true, 'the partition is gone, and its room with it');
    assert.equal(await dispatch.accept(rest(20_000, 1)), 0, 'its last record is not taken in');
  });

  it('takes nothing more of a partition once its revoke began, even when a commit then frees room (issue 18, defect 2)', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    assert.equal(await dispatch.accept(records(20_001)), 20_000);
    // The revoke starts; its commit frees room while the partition still has its lease.
    dispatch.close([0]);
    const finished = frontOf(dispatch);
    assert.equal(finished?.plan.fresh.length, 20_000);
    assert.ok(finished);
    dispatch.committed(finished);
    assert.equal(await dispatch.accept(rest(20_000, 1)), 0, 'the waiting record of the closing partition is not taken in');
    assert.equal(frontOf(dispatch), undefined, 'and no state was made again from the old lease');
  });

  it('takes in records beyond --max-in-flight without waiting: they wait for a slot, first come first served (issue 25, point 1)', async () => {
    const parts = partsFor(new AbortController().signal);
    const release: (() => void)[] = [];
    const started: string[] = [];
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => {
      started.push(record.offset);
      return new Promise<Outcome>((resolve) => release.push(() => resolve(outcome)));
    });
    // --max-in-flight is 10, every record of its own key.
    assert.equal(await dispatch.accept(records(25)), 25, 'all taken in at once');
    await tick();
    assert.equal(started.length, 10, 'ten run');
    assert.deepEqual(parts.gate.status(), { inFlight: 10, backingOff: 0 });
    release.shift()?.();
    await tick();
    await tick();
    assert.deepEqual(started.slice(10), ['10'], 'the slot goes to the oldest record waiting');
    while (release.length > 0) {
      release.shift()?.();
      await tick();
      await tick();
    }
    await dispatch.idle();
    assert.deepEqual(started, records(25).map(({ offset }) => offset));
    assert.equal(frontOf(dispatch)?.plan.next, 25);
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
    assert.deepEqual(frontOf(dispatch)?.plan.fresh.map(({ offset }) => String(offset)), ['0'], 'nothing past the failed record is committable');
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

  it('names the restored finished offsets not read yet in every commit until they are read (issue 25, point 2)', async () => {
    const parts = partsFor(new AbortController().signal);
    const { outcome: first, finish: finishFirst } = heldBack();
    // Offset 0 backs off for long; the last commit before this assignment named 1, 2, 5 and 6 as done.
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => (record.offset === '0' ? first : outcome));
    const lease = parts.totals.lease(0);
    assert.ok(lease);
    dispatch.skip(lease, [1, 2, 5, 6]);
    // The skip set spans two batches: the first is 0-3, and 3 finishes.
    assert.equal(await dispatch.accept(records(4)), 4);
    await tick();
    const between = dispatch.plans([0], true)[0];
    assert.equal(between?.plan.next, 0);
    assert.deepEqual(between?.plan.doneAbove, [1, 2, 3, 5, 6], 'the skipped offsets not read yet are still named: a restart must not run them again');
    assert.ok(between);
    dispatch.committed(between);
    finishFirst();
    await tick();
    // Everything read is done, and the next offset is a restored one: the commit passes it rather than lose it.
    const front = frontOf(dispatch);
    assert.ok(front);
    assert.deepEqual(doneBy(front), [0, 1, 2, 3, 5, 6], 'done, as the commit says: below its offset or named above it');
    dispatch.committed(front);
    assert.equal(await dispatch.accept(rest(4, 4)), 4);
    await dispatch.idle();
    const last = frontOf(dispatch);
    assert.deepEqual(last?.plan.fresh.map(({ offset }) => offset), [4, 7]);
    assert.equal(last?.plan.next, 8);
    assert.deepEqual(last?.plan.doneAbove, []);
  });

  it('commits a front of records passed only, so the offset and the end move (issue 25, point 3)', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const lease = parts.totals.lease(0);
    assert.ok(lease);
    dispatch.skip(lease, [1, 2, 3]);
    assert.equal(await dispatch.accept(records(1)), 1);
    const first = frontOf(dispatch);
    assert.ok(first);
    assert.equal(first.plan.next, 4, 'the restored offsets right after it are passed');
    dispatch.committed(first);
    // The next batch holds only records the last commit named as done.
    assert.equal(await dispatch.accept(rest(1, 3)), 3);
    assert.equal(dispatch.allCommitted(), false, 'they leave the hold only by a commit');
    const passed = frontOf(dispatch);
    assert.ok(passed, 'a front of passed records is a commit to make');
    assert.deepEqual(passed.plan.fresh, []);
    assert.equal(passed.plan.next, 4);
    dispatch.committed(passed);
    assert.equal(dispatch.allCommitted(), true);
  });

  it('refuses a restore under a lease that is no longer the partition\'s (issue 25, point 4)', async () => {
    const parts = partsFor(new AbortController().signal);
    const ran: string[] = [];
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (record, outcome) => {
      ran.push(record.offset);
      return outcome;
    });
    const old = parts.totals.lease(0);
    assert.ok(old);
    parts.totals.revoke([0]);
    parts.totals.assign([0]);
    const current = parts.totals.lease(0);
    assert.ok(current);
    dispatch.skip(current, [2]);
    dispatch.skip(old, [1]);
    await dispatch.accept(records(3));
    await dispatch.idle();
    assert.deepEqual(ran, ['0', '1'], 'the newer assignment\'s skip set stands');
  });
});

// The offsets a commit says are done: those below its offset, and those it names above it.
function doneBy({ plan }: PlannedCommit<Outcome>): number[] {
  return [...Array.from({ length: plan.next }, (_, offset) => offset), ...plan.doneAbove];
}
