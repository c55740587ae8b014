import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { encodeOrder } from '../../src/avro/codec.js';
import { parseConsumeOptions } from '../../src/config.js';
import { Dispatch } from '../../src/consume/dispatch.js';
import type { ConsumeParts } from '../../src/consume/mode.js';
import { Tally } from '../../src/consume/tally.js';
import { DoneOffsets } from '../../src/kafka/reader.js';
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
  return { options, session, events, totals, tally: new Tally(events), gate: new FlightGate(options.maxInFlight, stop), stop, done: new DoneOffsets(), decoder: bareAvro };
}

function records(count: number): SourceRecord[] {
  const value = encodeOrder({ orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 });
  return Array.from({ length: count }, (_, offset) => ({ topic: 'orders', partition: 0, offset: String(offset), timestamp: '0', key: Buffer.from(`k${offset}`), value, headers: {} }));
}

describe('dispatching records', () => {
  it('holds at most 20,000 records read and not committed: reading waits for a commit, then goes on', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(parts, (_record, outcome) => outcome);
    let full = 0;
    dispatch.onFull = () => { full++; };
    let accepted: number | undefined;
    void dispatch.accept(records(20_005)).then((count) => { accepted = count; });
    await tick();
    assert.equal(accepted, undefined, 'the reader waits');
    assert.ok(full > 0, 'and asks for a commit');
    const finished = dispatch.finished().get(0);
    assert.equal(finished?.finished.length, 20_000);
    dispatch.committed(0, finished.lease, 20_000);
    await tick();
    assert.equal(accepted, 20_005);
    assert.deepEqual(dispatch.finished().get(0)?.finished.map(({ record }) => record.offset), ['20000', '20001', '20002', '20003', '20004']);
  });

  it('lets a reader waiting for room go at Ctrl-C, taking nothing more', async () => {
    const stop = new AbortController();
    const dispatch = new Dispatch<Outcome>(partsFor(stop.signal), (_record, outcome) => outcome);
    const accepting = dispatch.accept(records(20_001));
    await tick();
    stop.abort();
    assert.equal(await accepting, 20_000);
  });

  it('frees the room of revoked partitions', async () => {
    const parts = partsFor(new AbortController().signal);
    const dispatch = new Dispatch<Outcome>(parts, (_record, outcome) => outcome);
    const accepting = dispatch.accept(records(20_001));
    await tick();
    parts.totals.revoke([0]);
    dispatch.forget([0]);
    // The partition is gone: its last record is not taken in, and the reader is not stuck.
    assert.equal(await accepting, 20_000);
  });
});
