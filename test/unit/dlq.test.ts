import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourceRecord } from '../../src/kafka/record.js';
import { DLQ_HEADER, deadLetter, readDeadLetter, replayCount } from '../../src/processing/dlq.js';

const record: SourceRecord = {
  topic: 'orders', partition: 2, offset: '41', timestamp: '1700000000000',
  key: Buffer.from('o-1'), value: Buffer.from([0, 1, 2, 255]), headers: { trace: Buffer.from('abc') },
};
const failedAt = new Date('2026-01-02T03:04:05.000Z');

describe('dead letters', () => {
  it('keep key, value bytes and original headers, and add the failure context', () => {
    const letter = deadLetter(record, { group: 'g', attempts: 3, reason: 'retries-exhausted', errorMessage: 'boom', failedAt });
    assert.equal(letter.key, record.key);
    assert.ok(letter.value?.equals(Buffer.from([0, 1, 2, 255])));
    assert.deepEqual(letter.headers, {
      trace: Buffer.from('abc'),
      [DLQ_HEADER.originalTopic]: 'orders',
      [DLQ_HEADER.originalPartition]: '2',
      [DLQ_HEADER.originalOffset]: '41',
      [DLQ_HEADER.originalTimestamp]: '1700000000000',
      [DLQ_HEADER.group]: 'g',
      [DLQ_HEADER.attempts]: '3',
      [DLQ_HEADER.reason]: 'retries-exhausted',
      [DLQ_HEADER.errorMessage]: 'boom',
      [DLQ_HEADER.failedAt]: '2026-01-02T03:04:05.000Z',
    });
  });

  it('are read back from headers as a broker returns them (Buffers)', () => {
    const letter = deadLetter(record, { group: 'g', attempts: 1, reason: 'undecodable', errorMessage: 'bad bytes', failedAt });
    const asReceived = Object.fromEntries(Object.entries(letter.headers).map(([name, value]) => [name, Buffer.from(String(value))]));
    assert.deepEqual(readDeadLetter(asReceived), {
      originalTopic: 'orders', originalPartition: 2, originalOffset: '41', originalTimestamp: '1700000000000',
      group: 'g', attempts: 1, reason: 'undecodable', errorMessage: 'bad bytes', failedAt: '2026-01-02T03:04:05.000Z',
    });
  });

  it('read a missing or malformed header as null, never as 0 (defect 4)', () => {
    assert.deepEqual(readDeadLetter({ [DLQ_HEADER.reason]: 'undecodable', [DLQ_HEADER.attempts]: '', [DLQ_HEADER.originalPartition]: '1e3' }), {
      originalTopic: null, originalPartition: null, originalOffset: null, originalTimestamp: null,
      group: null, attempts: null, reason: 'undecodable', errorMessage: null, failedAt: null,
    });
    assert.equal(readDeadLetter({ [DLQ_HEADER.attempts]: ['1', Buffer.from('4')] }).attempts, 4);
    assert.equal(replayCount({ 'dlq.replay.count': 'x' }), 0);
  });

  it('replace stale dlq headers of a record that was dead-lettered before', () => {
    const again = { ...record, headers: { [DLQ_HEADER.attempts]: '9' } };
    const letter = deadLetter(again, { group: 'g', attempts: 2, reason: 'retries-exhausted', errorMessage: 'x', failedAt });
    assert.equal(letter.headers[DLQ_HEADER.attempts], '2');
  });
});

describe('replaying dead letters', () => {
  it('restores key, value and original headers, drops the dead-letter context and counts the replay', async () => {
    const { replayOf, replayCount, REPLAY_COUNT_HEADER } = await import('../../src/processing/dlq.js');
    const letter = deadLetter(record, { group: 'g', attempts: 3, reason: 'retries-exhausted', errorMessage: 'x', failedAt });
    const replay = replayOf(letter);
    assert.equal(replay.key, record.key);
    assert.equal(replay.value, record.value);
    assert.deepEqual(replay.headers, { trace: Buffer.from('abc'), [REPLAY_COUNT_HEADER]: '1' });
    const again = replayOf({ ...letter, headers: { ...letter.headers, [REPLAY_COUNT_HEADER]: Buffer.from('2') } });
    assert.equal(again.headers[REPLAY_COUNT_HEADER], '3');
    assert.equal(replayCount({}), 0);
    assert.equal(replayCount({ [REPLAY_COUNT_HEADER]: 'junk' }), 0);
  });
});

describe('empty values', () => {
  it('stay empty rather than becoming null, and null stays null', async () => {
    const { sameValue } = await import('../../src/processing/dlq.js');
    const empty = deadLetter({ ...record, value: Buffer.alloc(0) }, { group: 'g', attempts: 1, reason: 'undecodable', errorMessage: 'x', failedAt });
    assert.equal(empty.value?.length, 0);
    // A view into real memory: the client sends it as an empty value, not as null.
    assert.ok(empty.value !== null && empty.value.buffer.byteLength > 0);
    assert.equal(sameValue(null), null);
  });
});
