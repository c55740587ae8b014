import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InternalError } from '../../src/errors.js';
import { seededRandom } from '../../src/orders/generate.js';
import { MAX_DONE_ABOVE, METADATA_BUDGET_BYTES, decodeCommitMetadata, encodeCommitMetadata, type CommitState } from '../../src/processing/commit-metadata.js';

const MAX = Number.MAX_SAFE_INTEGER;
const aggregate = { totalCents: 123_456, count: 7 };

/** Encodes, checks the string is printable ASCII within the budget, and that it reads back as `state`. */
function roundTrip(next: number, state: CommitState, budgetBytes = METADATA_BUDGET_BYTES): string {
  const { metadata, fits } = encodeCommitMetadata(next, state, budgetBytes);
  assert.equal(fits, true, `expected ${state.doneAbove.length} offsets to fit in ${budgetBytes} bytes`);
  assert.match(metadata, /^[\x20-\x7e]*$/);
  assert.ok(metadata.length <= budgetBytes);
  assert.deepEqual(decodeCommitMetadata(next, metadata), { kind: 'ours', state });
  return metadata;
}

/** Which encoding of doneAbove a metadata string used: '' for none, 'r' run lengths, 'b' bitset. */
function encodingOf(metadata: string): string {
  return metadata.split(';')[3]?.charAt(0) ?? '?';
}

function range(from: number, to: number, keep: (offset: number) => boolean = () => true): number[] {
  const offsets: number[] = [];
  for (let offset = from; offset <= to; offset++) if (keep(offset)) offsets.push(offset);
  return offsets;
}

describe('commit metadata', () => {
  it('writes the documented format, choosing the shorter encoding', () => {
    assert.equal(roundTrip(100, { aggregate: { totalCents: -1250, count: 3 }, doneAbove: [102, 103, 107] }), 'o1;-yq;3;b7.Rg;');
    assert.equal(roundTrip(100, { aggregate: { totalCents: -1250, count: 3 }, doneAbove: [102, 103, 5_000] }), 'o1;-yq;3;r2.2.3s0.1;');
    assert.equal(roundTrip(0, { aggregate, doneAbove: [] }), 'o1;2n9c;7;;');
  });

  it('round-trips an empty doneAbove and a few scattered offsets', () => {
    roundTrip(0, { aggregate: { totalCents: 0, count: 0 }, doneAbove: [] });
    roundTrip(41, { aggregate, doneAbove: [] });
    roundTrip(41, { aggregate, doneAbove: [42] });
    roundTrip(41, { aggregate, doneAbove: [43, 47, 48, 90, 1_000] });
  });

  it('round-trips a long dense run in a few bytes of run lengths', () => {
    const metadata = roundTrip(500, { aggregate, doneAbove: range(502, 200_501) });
    assert.equal(encodingOf(metadata), 'r');
    assert.ok(metadata.length < 30, metadata);
  });

  it('uses run lengths where the finished offsets are sparse', () => {
    const metadata = roundTrip(7, { aggregate, doneAbove: [12, 1_000, 1_001, 50_000, 3_000_000] });
    assert.equal(encodingOf(metadata), 'r');
  });

  it('uses the bitset where the finished offsets are dense with holes', () => {
    const metadata = roundTrip(1_000, { aggregate, doneAbove: range(1_001, 4_000, (offset) => offset % 3 !== 0) });
    assert.equal(encodingOf(metadata), 'b');
    // 3,000 offsets at 6 a character, where the runs would take about 4 characters for every 3 offsets.
    assert.ok(metadata.length < 520, `${metadata.length} bytes`);
  });

  it('round-trips offsets up to Number.MAX_SAFE_INTEGER', () => {
    roundTrip(MAX - 1, { aggregate, doneAbove: [MAX] });
    roundTrip(MAX - 1_000, { aggregate, doneAbove: [MAX - 998, MAX - 5, MAX] });
    assert.equal(encodingOf(roundTrip(MAX - 3_000, { aggregate, doneAbove: range(MAX - 2_999, MAX, (offset) => offset % 5 !== 0) })), 'b');
    assert.equal(encodingOf(roundTrip(0, { aggregate, doneAbove: [1, MAX] })), 'r');
  });

  it('round-trips negative and extreme aggregates', () => {
    roundTrip(3, { aggregate: { totalCents: -1, count: 1 }, doneAbove: [5] });
    roundTrip(3, { aggregate: { totalCents: -MAX, count: MAX }, doneAbove: [] });
    roundTrip(3, { aggregate: { totalCents: MAX, count: 0 }, doneAbove: [4, 6] });
  });

  it('refuses a state that breaks its own rules, as a bug', () => {
    for (const [next, state] of [
      [5, { aggregate, doneAbove: [5] }],
      [5, { aggregate, doneAbove: [7, 6] }],
      [5, { aggregate, doneAbove: [7, 7] }],
      [5, { aggregate, doneAbove: [6.5] }],
      [5, { aggregate: { totalCents: 1.5, count: 1 }, doneAbove: [] }],
      [5, { aggregate: { totalCents: 1, count: -1 }, doneAbove: [] }],
      [-1, { aggregate, doneAbove: [] }],
      [MAX + 1, { aggregate, doneAbove: [] }],
    ] as const) {
      assert.throws(() => encodeCommitMetadata(next, { aggregate: state.aggregate, doneAbove: [...state.doneAbove] }), InternalError);
    }
    assert.throws(() => encodeCommitMetadata(0, { aggregate, doneAbove: [] }, 10), InternalError);
  });
});

describe('the metadata budget', () => {
  it('drops doneAbove that does not fit in 4,000 bytes, keeping the aggregate', () => {
    const random = seededRandom(7);
    const doneAbove: number[] = [];
    // 2,000 offsets with gaps up to a million: too wide for a bitset, too many runs for 4,000 bytes.
    for (let offset = 10; doneAbove.length < 2_000; offset += 2 + Math.floor(random() * 1_000_000)) doneAbove.push(offset);
    const { metadata, fits } = encodeCommitMetadata(9, { aggregate, doneAbove });
    assert.equal(fits, false);
    assert.ok(metadata.length <= METADATA_BUDGET_BYTES);
    assert.deepEqual(decodeCommitMetadata(9, metadata), { kind: 'ours', state: { aggregate, doneAbove: [] } });
  });

  it('fits a string exactly as long as the budget, and not one byte more', () => {
    const state = { aggregate, doneAbove: [43, 47, 48, 90, 1_000] };
    const { metadata } = encodeCommitMetadata(41, state);
    assert.deepEqual(encodeCommitMetadata(41, state, metadata.length), { metadata, fits: true });
    assert.deepEqual(encodeCommitMetadata(41, state, metadata.length - 1), { metadata: 'o1;2n9c;7;;', fits: false });
    const dense = { aggregate, doneAbove: range(42, 3_041, (offset) => offset % 2 === 0) };
    const bits = encodeCommitMetadata(41, dense).metadata;
    assert.equal(encodingOf(bits), 'b');
    assert.equal(encodeCommitMetadata(41, dense, bits.length).fits, true);
    assert.equal(encodeCommitMetadata(41, dense, bits.length - 1).fits, false);
  });

  it(`carries at most ${MAX_DONE_ABOVE} finished offsets, however short their string`, () => {
    const most = range(2, MAX_DONE_ABOVE + 1);
    assert.equal(roundTrip(0, { aggregate, doneAbove: most }), `o1;2n9c;7;r2.${MAX_DONE_ABOVE.toString(36)};`);
    most.push(MAX_DONE_ABOVE + 2);
    assert.equal(encodeCommitMetadata(0, { aggregate, doneAbove: most }).fits, false);
    assert.deepEqual(decodeCommitMetadata(0, `o1;2n9c;7;r2.${(MAX_DONE_ABOVE + 1).toString(36)};`), { kind: 'foreign' });
    assert.deepEqual(decodeCommitMetadata(0, `o1;2n9c;7;r1.${(MAX - 10).toString(36)};`), { kind: 'foreign' });
  });

  it('holds 6,667 records of which a random 2.7 % are not done', () => {
    const random = seededRandom(2_7);
    const next = 48_213_907;
    // `next` is by definition not done; 179 more of the 6,666 after it make 180, 2.7 % of 6,667.
    const notDone = new Set<number>();
    while (notDone.size < 179) notDone.add(next + 1 + Math.floor(random() * 6_666));
    const doneAbove = range(next + 1, next + 6_666, (offset) => !notDone.has(offset));
    const metadata = roundTrip(next, { aggregate: { totalCents: 48_913_250, count: 6_487 }, doneAbove });
    assert.ok(metadata.length < METADATA_BUDGET_BYTES / 2, `${metadata.length} bytes`);
  });
});

describe('reading commit metadata', () => {
  it('tells no metadata from metadata that is not ours', () => {
    for (const absent of ['', null, undefined]) assert.deepEqual(decodeCommitMetadata(5, absent), { kind: 'none' });
    for (const foreign of ['hello', ' ', 'o2;1;1;;', 'O1;1;1;;', 'pc:eJwLy0nMTS0GAA', '{"offset":5}', 'o1']) {
      assert.deepEqual(decodeCommitMetadata(5, foreign), { kind: 'foreign' }, foreign);
    }
  });

  it('calls every truncation of a string of ours foreign', () => {
    for (const whole of ['o1;-yq;3;b7.Rg;', 'o1;-yq;3;r2.2.3s0.1;', 'o1;2n9c;7;;']) {
      assert.equal(decodeCommitMetadata(100, whole).kind, 'ours');
      for (let length = 1; length < whole.length; length++) assert.deepEqual(decodeCommitMetadata(100, whole.slice(0, length)), { kind: 'foreign' }, whole.slice(0, length));
    }
  });

  it('round-trips progress without an aggregate (at-least-once), which no reader of aggregates mistakes for one', () => {
    const { metadata, fits } = encodeCommitMetadata(10, { doneAbove: [12, 13] });
    assert.equal(fits, true);
    assert.equal(metadata.startsWith('o1;;;'), true, metadata);
    assert.deepEqual(decodeCommitMetadata(10, metadata), { kind: 'ours', state: { doneAbove: [12, 13] } });
    assert.deepEqual(decodeCommitMetadata(10, 'o1;;;;'), { kind: 'ours', state: { doneAbove: [] } });
  });

  it('calls a malformed aggregate foreign', () => {
    for (const bad of ['o1;1x!;1;;', 'o1;01;1;;', 'o1;-0;1;;', 'o1;1;-1;;', 'o1;A;1;;', 'o1;zzzzzzzzzzz;1;;', 'o1;;1;;', 'o1;1;;;', 'o1;1;1;;;', 'o1;1.5;1;;', 'o1;1;1;x1.1;']) {
      assert.deepEqual(decodeCommitMetadata(5, bad), { kind: 'foreign' }, bad);
    }
  });

  it('calls run lengths foreign that reach the committed offset, do not ascend, or do not parse', () => {
    // A gap of 0 would make `next` itself finished; a run of 0 or a trailing gap is never written.
    for (const bad of ['r0.1', 'r1.0', 'r1.1.0.1', 'r1.-1', 'r1.1.1', 'r1', 'r', 'r1..1', 'r1.1.', 'r01.1', 'r1.1é', 'r1.$', `r1.${MAX.toString(36)}`]) {
      assert.deepEqual(decodeCommitMetadata(5, `o1;1;1;${bad};`), { kind: 'foreign' }, bad);
    }
    assert.deepEqual(decodeCommitMetadata(MAX - 2, 'o1;1;1;r2.1;'), { kind: 'ours', state: { aggregate: { totalCents: 1, count: 1 }, doneAbove: [MAX] } });
    assert.deepEqual(decodeCommitMetadata(MAX - 2, 'o1;1;1;r3.1;'), { kind: 'foreign' });
    assert.deepEqual(decodeCommitMetadata(MAX - 2, 'o1;1;1;r2.2;'), { kind: 'foreign' });
  });

  it('calls a bitset foreign whose length does not match or that does not parse', () => {
    assert.equal(decodeCommitMetadata(100, 'o1;1;1;b7.Rg;').kind, 'ours');
    // 'Rh' leaves bits set past the byte, 'b8' needs bit 8 set, 'b6' has bit 7 set past the span.
    for (const bad of ['b7.Rh', 'b8.Rg', 'b6.Rg', 'b7.Rg==', 'b7.RgA', 'b7.R', 'b7.R!', 'b7.R+', 'b7.', 'b0.', 'b.Rg', 'bRg', 'b7.AA', 'b-7.Rg']) {
      assert.deepEqual(decodeCommitMetadata(100, `o1;1;1;${bad};`), { kind: 'foreign' }, bad);
    }
    assert.deepEqual(decodeCommitMetadata(MAX - 7, 'o1;1;1;b7.Rg;'), { kind: 'ours', state: { aggregate: { totalCents: 1, count: 1 }, doneAbove: [MAX - 5, MAX - 4, MAX] } });
    assert.deepEqual(decodeCommitMetadata(MAX - 6, 'o1;1;1;b7.Rg;'), { kind: 'foreign' });
  });

  it('calls metadata read with an offset that cannot be committed foreign', () => {
    for (const next of [-1, 1.5, MAX + 1, Number.NaN]) assert.deepEqual(decodeCommitMetadata(next, 'o1;1;1;;'), { kind: 'foreign' });
  });
});

describe('commit metadata over random states', () => {
  it('round-trips 400 states from a seeded PRNG, or keeps only the aggregate when they do not fit', () => {
    const random = seededRandom(20_261_127);
    const integer = (below: number) => Math.floor(random() * below);
    const outcomes = { r: 0, b: 0, '': 0, dropped: 0 };
    for (let round = 0; round < 400; round++) {
      const next = random() < 0.2 ? MAX - integer(100_000) : integer(1e12);
      const aggregate = { totalCents: Math.round((random() - 0.5) * 2 * MAX), count: random() < 0.1 ? MAX : integer(1e9) };
      // How many finished offsets, how likely each is finished, and how wide the gaps between them may be.
      const size = integer([0, 10, 1_000, 10_000][round % 4] ?? 0);
      const density = random();
      const gapMost = random() < 0.3 ? 1_000 : 1;
      const doneAbove: number[] = [];
      for (let offset = next + 1; doneAbove.length < size && offset <= MAX; offset += 1 + integer(gapMost)) if (random() < density) doneAbove.push(offset);
      const { metadata, fits } = encodeCommitMetadata(next, { aggregate, doneAbove });
      assert.match(metadata, /^[\x20-\x7e]*$/);
      assert.ok(metadata.length <= METADATA_BUDGET_BYTES);
      assert.deepEqual(decodeCommitMetadata(next, metadata), { kind: 'ours', state: { aggregate, doneAbove: fits ? doneAbove : [] } });
      if (fits) outcomes[encodingOf(metadata) as 'r' | 'b' | '']++;
      else outcomes.dropped++;
    }
    // Each path was taken, so the test says something about each.
    for (const [outcome, count] of Object.entries(outcomes)) assert.ok(count >= 10, `${outcome}: ${count} of 400`);
  });
});
