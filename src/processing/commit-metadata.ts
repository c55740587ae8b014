import { InternalError } from '../errors.js';
import type { Aggregate } from './aggregate.js';

/*
 * The metadata string of one partition's offset commit, for committed offset `next`:
 *
 *   o1;<totalCents>;<count>;<done>;
 *
 * numbers in base 36 (totalCents may carry a '-'), both empty where there is no exact aggregate (at-least-once);
 * the closing ';' makes every truncation foreign; <done> one of
 *   ''                          nothing above `next` is finished
 *   r<gap>.<run>.<gap>.<run>…   run lengths from `next` on: not finished, finished, … (each >= 1, ending on a finished run)
 *   b<span>.<bits>              bit i set = offset next + 1 + i finished, for i < span; bytes LSB first, base64url unpadded
 *
 * e.g. next 100, { totalCents: -1250, count: 3 }, doneAbove [102, 103, 107]: RLE `o1;-yq;3;r2.2.3.1;`,
 * bitset `o1;-yq;3;b7.Rg;`; the encoder writes the shorter (here the bitset), the runs on a tie.
 */

/** What a commit's metadata carries for one partition. */
export interface CommitState {
  /** Absent where the committer keeps no exact aggregate (at-least-once): only its progress is said. */
  aggregate?: Aggregate;
  /** Offsets above the committed one that are already finished, ascending, each > committed offset. */
  doneAbove: number[];
}

export type DecodedCommitMetadata = { kind: 'none' } | { kind: 'foreign' } | { kind: 'ours'; state: CommitState };

/** Bytes of metadata we allow ourselves per partition: under the broker's default offset.metadata.max.bytes (4096). */
export const METADATA_BUDGET_BYTES = 4000;

/**
 * Most finished offsets above the committed one that one metadata string may stand for: a run-length
 * string of a few bytes can stand for billions, and decoding must not be made to build them.
 */
export const MAX_DONE_ABOVE = 1_000_000;

// A new layout gets a new prefix: an older reader then sees it as foreign and falls back, never misreads it.
const PREFIX = 'o1;';
const FIELD = ';';
const RUNS = 'r';
const BITS = 'b';
const SEPARATOR = '.';
const NONE: DecodedCommitMetadata = { kind: 'none' };
const FOREIGN: DecodedCommitMetadata = { kind: 'foreign' };
const BASE36 = /^-?[0-9a-z]{1,11}$/;
// 36^1 … 36^10, each exact: a safe integer has at most 11 base-36 digits.
const POWERS_OF_36: number[] = [];
for (let power = 36; POWERS_OF_36.length < 10; power *= 36) POWERS_OF_36.push(power);

/**
 * The metadata string for committed offset `next`; `doneAbove` is dropped (and `fits: false` returned)
 * when it would not fit in the budget: the caller then commits only the finished prefix and warns once.
 * That string still carries `state.aggregate`, which counts the orders above `next` too: on `fits: false`
 * the caller must encode again with the aggregate of the offsets below `next` alone, or a
 * restart counts those orders twice. Throws InternalError for a state that breaks its own rules (a bug).
 */
export function encodeCommitMetadata(next: number, state: CommitState, budgetBytes = METADATA_BUDGET_BYTES): { metadata: string; fits: boolean } {
  checkState(next, state);
  const { aggregate } = state;
  const head = aggregate === undefined ? `${PREFIX}${FIELD}${FIELD}` : `${PREFIX}${aggregate.totalCents.toString(36)}${FIELD}${aggregate.count.toString(36)}${FIELD}`;
  if (head.length + FIELD.length > budgetBytes) throw new InternalError(`a commit metadata budget of ${budgetBytes} bytes cannot hold even the aggregate (${head.length + FIELD.length} bytes)`);
  const { doneAbove } = state;
  const last = doneAbove[doneAbove.length - 1];
  if (last === undefined) return { metadata: head + FIELD, fits: true };
  const dropped = { metadata: head + FIELD, fits: false };
  if (doneAbove.length > MAX_DONE_ABOVE) return dropped;
  const room = budgetBytes - head.length - FIELD.length;
  // The bitset's size is known from its span alone: one over a wide span is never allocated.
  const span = last - next;
  const bitsBytes = BITS.length + base36Length(span) + SEPARATOR.length + base64urlLength(Math.ceil(span / 8));
  // Runs are counted only as far as they could still be written: a doneAbove far too big costs little more than its check.
  const limit = Math.min(room, bitsBytes);
  let runsBytes = RUNS.length - SEPARATOR.length;
  eachRun(next, doneAbove, (gap, run) => {
    runsBytes += 2 * SEPARATOR.length + base36Length(gap) + base36Length(run);
    return runsBytes <= limit;
  });
  let done: string;
  if (runsBytes <= limit) {
    const parts: string[] = [];
    eachRun(next, doneAbove, (gap, run) => {
      parts.push(gap.toString(36), run.toString(36));
      return true;
    });
    done = RUNS + parts.join(SEPARATOR);
  } else if (bitsBytes <= room) {
    done = BITS + span.toString(36) + SEPARATOR + bitset(next, doneAbove, span);
  } else {
    return dropped;
  }
  return { metadata: head + done + FIELD, fits: true };
}

/**
 * Reads what encodeCommitMetadata wrote for committed offset `next`: 'none' for no metadata (null,
 * undefined, empty), 'foreign' for anything else that is not a well-formed string of ours (another
 * tool's, another version's, a corrupt one, or one read with an invalid `next`). Never throws.
 */
export function decodeCommitMetadata(next: number, metadata: string | null | undefined): DecodedCommitMetadata {
  if (metadata === null || metadata === undefined || metadata === '') return NONE;
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX) || !Number.isSafeInteger(next) || next < 0) return FOREIGN;
  const [total, count, done, end, ...rest] = metadata.slice(PREFIX.length).split(FIELD);
  if (done === undefined || end !== '' || rest.length > 0) return FOREIGN;
  const exact = total !== '' || count !== '';
  const totalCents = parseBase36(total);
  const countValue = parseBase36(count);
  if (exact && (totalCents === undefined || countValue === undefined || countValue < 0)) return FOREIGN;
  const doneAbove = done === '' ? []
    : done.startsWith(RUNS) ? decodeRuns(next, done.slice(RUNS.length))
      : done.startsWith(BITS) ? decodeBits(next, done.slice(BITS.length))
        : undefined;
  if (doneAbove === undefined) return FOREIGN;
  if (!exact || totalCents === undefined || countValue === undefined) return { kind: 'ours', state: { doneAbove } };
  return { kind: 'ours', state: { aggregate: { totalCents, count: countValue }, doneAbove } };
}

function checkState(next: number, state: CommitState): void {
  if (!Number.isSafeInteger(next) || next < 0) throw new InternalError(`a committed offset must be a non-negative safe integer, got ${next}`);
  const { totalCents, count } = state.aggregate ?? { totalCents: 0, count: 0 };
  if (!Number.isSafeInteger(totalCents) || !Number.isSafeInteger(count) || count < 0) {
    throw new InternalError(`an aggregate must hold safe integers and a count >= 0, got ${totalCents} cents over ${count}`);
  }
  let previous = next;
  for (const offset of state.doneAbove) {
    if (!Number.isSafeInteger(offset) || offset <= previous) throw new InternalError(`doneAbove must ascend above committed offset ${next}: ${offset} after ${previous}`);
    previous = offset;
  }
}

/** Calls `visit` with each pair of run lengths from `next` on, (not finished, finished), until it returns false; `doneAbove` is not empty. */
function eachRun(next: number, doneAbove: readonly number[], visit: (gap: number, run: number) => boolean): void {
  let gapFrom = next;
  let runFrom = doneAbove[0] ?? next;
  let runTo = runFrom;
  // One step past the end: the undefined there closes the last run.
  for (let index = 1; index <= doneAbove.length; index++) {
    const offset = doneAbove[index];
    if (offset === runTo + 1) {
      runTo = offset;
      continue;
    }
    if (!visit(runFrom - gapFrom, runTo - runFrom + 1) || offset === undefined) return;
    gapFrom = runTo + 1;
    runFrom = offset;
    runTo = offset;
  }
}

/** Only called once the bitset is known to fit the budget, so `span` is a few tens of thousands at most. */
function bitset(next: number, doneAbove: readonly number[], span: number): string {
  const bytes = Buffer.alloc(Math.ceil(span / 8));
  for (const offset of doneAbove) {
    const bit = offset - next - 1;
    bytes[bit >>> 3] = (bytes[bit >>> 3] ?? 0) | (1 << (bit & 7));
  }
  return bytes.toString('base64url');
}

function decodeRuns(next: number, text: string): number[] | undefined {
  const runs = text.split(SEPARATOR);
  const doneAbove: number[] = [];
  let offset = next;
  for (let index = 0; index < runs.length; index += 2) {
    // Pairs of (not finished, finished): a string ending on a not-finished run finds no run here.
    const gap = parseBase36(runs[index]);
    const run = parseBase36(runs[index + 1]);
    if (gap === undefined || run === undefined || gap < 1 || run < 1) return undefined;
    // The last offset of the run stays safe; a difference is exact where a sum past 2^53 would round back into range.
    if (run - 1 > Number.MAX_SAFE_INTEGER - offset - gap) return undefined;
    if (run > MAX_DONE_ABOVE - doneAbove.length) return undefined;
    offset += gap;
    for (const end = offset + run; offset < end; offset++) doneAbove.push(offset);
  }
  return doneAbove;
}

function decodeBits(next: number, text: string): number[] | undefined {
  const dot = text.indexOf(SEPARATOR);
  if (dot < 0) return undefined;
  const span = parseBase36(text.slice(0, dot));
  const bits = text.slice(dot + 1);
  if (span === undefined || span > Number.MAX_SAFE_INTEGER - next) return undefined;
  const byteCount = Math.ceil(span / 8);
  const bytes = Buffer.from(bits, 'base64url');
  // Buffer skips what is not base64url instead of failing: only a string it writes back the same is ours
  // (no stray characters, no padding, no bits set past the last byte).
  if (bytes.length !== byteCount || bytes.toString('base64url') !== bits) return undefined;
  const doneAbove: number[] = [];
  for (let index = 0; index < byteCount; index++) {
    const byte = bytes[index] ?? 0;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((byte & (1 << bit)) !== 0) doneAbove.push(next + 1 + index * 8 + bit);
  }
  // The span ends on a finished offset (so it is >= 1), and no bit is set past it.
  if (doneAbove[doneAbove.length - 1] !== next + span || doneAbove.length > MAX_DONE_ABOVE) return undefined;
  return doneAbove;
}

/** A safe integer written by Number#toString(36), else undefined: no leading zeros, no '-0', nothing inexact. */
function parseBase36(text: string | undefined): number | undefined {
  if (text === undefined || !BASE36.test(text)) return undefined;
  const value = Number.parseInt(text, 36);
  return Number.isSafeInteger(value) && value.toString(36) === text ? value : undefined;
}

function base36Length(value: number): number {
  let digits = 1;
  for (const power of POWERS_OF_36) {
    if (value < power) break;
    digits++;
  }
  return digits;
}

/** Characters of `bytes` bytes in unpadded base64url. */
function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}
