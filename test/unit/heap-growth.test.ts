import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/heap-growth.js';

describe('heap growth', () => {
  it('sets V8\'s heap growing percent unless the user\'s node options do', () => {
    assert.equal(heapGrowthFlag('', []), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    assert.equal(heapGrowthFlag('--max-old-space-size=512', ['--enable-source-maps']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    assert.equal(heapGrowthFlag('--heap-growing-percent=100', []), undefined, 'NODE_OPTIONS wins');
    assert.equal(heapGrowthFlag('', ['--heap_growing_percent=20']), undefined, 'a node flag wins, in either spelling');
  });
});
