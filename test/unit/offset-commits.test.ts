import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { parseConsumeOptions } from '../../src/config/flags.js';
import { Dispatch } from '../../src/consume/dispatch.js';
import { dispatchNeeds, type ConsumeParts } from '../../src/consume/mode.js';
import { MetadataFit, offsetCommits } from '../../src/consume/offset-commits.js';
import { Tally } from '../../src/consume/tally.js';
import { DoneOffsets } from '../../src/kafka/consumer/reader.js';
import type { SourceRecord } from '../../src/kafka/record.js';
import type { KafkaSession } from '../../src/kafka/session.js';
import { decodeCommitMetadata } from '../../src/processing/commit-metadata.js';
import { FlightGate } from '../../src/processing/flight.js';
import { PartitionTotals } from '../../src/processing/partition-totals.js';
import type { Outcome } from '../../src/processing/process-record.js';
import { bareAvro } from '../../src/registry/value-format.js';

const session = { fail: () => assert.fail('no record fails here') } as unknown as KafkaSession;
const TOO_LARGE = Object.assign(new Error('Broker: Offset metadata string too large'), { code: 12 });

function partsFor(): ConsumeParts {
  const stop = new AbortController().signal;
  const options = parseConsumeOptions({ failRate: '0', maxInFlight: '10' }, {});
  const totals = new PartitionTotals(false);
  totals.assign([0]);
  const events = { processed: () => {}, retrying: () => {}, deadLettered: () => {} };
  return { options, session, events, totals, tally: new Tally(events), gate: new FlightGate(options.maxInFlight, stop), stop, done: new DoneOffsets(), decoder: bareAvro, membership: { protocol: 'classic', instanceId: undefined } };
}

function records(count: number): SourceRecord[] {
  const value = encodeOrder({ orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 });
  return Array.from({ length: count }, (_, offset) => ({ topic: 'orders', partition: 0, offset: String(offset), timestamp: '0', key: Buffer.from(`k${offset}`), value, headers: {} }));
}

// Offset 0 is slow (a retry backing off); 1-4 finish at once.
async function slowFront(): Promise<{ dispatch: Dispatch<Outcome>; finishFirst: () => void }> {
  let finishFirst = (): void => {};
  const first = new Promise<Outcome | undefined>((resolve) => { finishFirst = () => resolve({ kind: 'processed', order: { orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 }, attempts: 1 }); });
  const dispatch = new Dispatch<Outcome>(dispatchNeeds(partsFor()), (record, outcome) => (record.offset === '0' ? first : outcome));
  await dispatch.accept(records(5));
  await tick();
  return { dispatch, finishFirst };
}

const named = (metadata: string, next: number): number[] | undefined => {
  const decoded = decodeCommitMetadata(next, metadata);
  return decoded.kind === 'ours' ? decoded.state.doneAbove : undefined;
};

describe('offset commits on a broker whose offset.metadata.max.bytes is small (issue 25, point 7)', () => {
  it('fall back to the front only, then the aggregate alone, each step said once', async () => {
    const warnings: string[] = [];
    const fit = new MetadataFit((line) => warnings.push(line), 'orders');
    const { dispatch, finishFirst } = await slowFront();
    const aggregate = { totalCents: 100, count: 1 };
    const full = offsetCommits(dispatch, undefined, ({ plan }) => ({ aggregate, doneAbove: plan.doneAbove }), fit);
    assert.deepEqual(full.map(({ plan, metadata }) => [plan.next, named(metadata, plan.next)]), [[0, [1, 2, 3, 4]]]);
    // The broker refuses it: the next commits name nothing above the first in flight.
    fit.refused(new Error('another failure'));
    assert.deepEqual(warnings, [], 'only OFFSET_METADATA_TOO_LARGE steps down');
    fit.refused(TOO_LARGE);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /offset\.metadata\.max\.bytes.*only the finished run at the front/);
    assert.deepEqual(offsetCommits(dispatch, undefined, ({ plan }) => ({ aggregate, doneAbove: plan.doneAbove }), fit), [], 'nothing at the front finished yet');
    finishFirst();
    await tick();
    const front = offsetCommits(dispatch, undefined, ({ plan }) => ({ aggregate, doneAbove: plan.doneAbove }), fit);
    assert.deepEqual(front.map(({ plan, metadata }) => [plan.next, named(metadata, plan.next)]), [[5, []]]);
    fit.refused(TOO_LARGE);
    fit.refused(TOO_LARGE);
    assert.equal(warnings.length, 2, 'one more line for the last step, none after');
    assert.match(warnings[1] ?? '', /the aggregate alone/);
    const alone = offsetCommits(dispatch, undefined, ({ plan }) => ({ aggregate, doneAbove: plan.doneAbove }), fit);
    assert.deepEqual(alone.map(({ plan, metadata }) => [plan.next, metadata]), [[5, 'o1;2s;1;;']]);
  });

  it('the aggregate alone never drops offsets an exact aggregate counts; without one (at-least-once) it may', async () => {
    const fit = new MetadataFit(() => {}, 'orders');
    fit.refused(TOO_LARGE);
    fit.refused(TOO_LARGE);
    const parts = partsFor();
    const dispatch = new Dispatch<Outcome>(dispatchNeeds(parts), (_record, outcome) => outcome);
    const lease = parts.totals.lease(0);
    assert.ok(lease);
    // The last commit before this assignment named 3 as done; 0-1 are read and finish.
    dispatch.skip(lease, [3]);
    await dispatch.accept(records(2));
    assert.deepEqual(offsetCommits(dispatch, undefined, ({ plan }) => ({ aggregate: { totalCents: 300, count: 3 }, doneAbove: plan.doneAbove }), fit), [],
      'exactly-once: the aggregate counts 3, so a commit at 2 must name it: it waits for 3 to be read');
    const atLeastOnce = offsetCommits(dispatch, undefined, ({ plan }) => ({ doneAbove: plan.doneAbove }), fit);
    assert.deepEqual(atLeastOnce.map(({ plan, metadata }) => [plan.next, metadata]), [[2, 'o1;;;;']], 'at-least-once: 3 is run again after a restart, which it allows');
  });
});
