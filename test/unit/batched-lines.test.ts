import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BatchedLines } from '../../src/output/batched-lines.js';

describe('batched lines', () => {
  it('writes every line once, in order: a full batch at once, the rest on the next turn or a flush', async () => {
    const writes: string[] = [];
    const lines = new BatchedLines((text) => writes.push(text), 3);
    for (const line of ['a', 'b', 'c', 'd']) lines.add(line);
    assert.deepEqual(writes, ['a\nb\nc']);
    await nextTurn();
    assert.deepEqual(writes, ['a\nb\nc', 'd']);
    lines.add('e');
    lines.flush();
    lines.flush();
    assert.deepEqual(writes, ['a\nb\nc', 'd', 'e']);
  });
});
