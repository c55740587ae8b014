import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/heap-growth.js';

describe('heap growth', () => {
  it('sets V8\'s heap growing percent unless node\'s own command line does', () => {
    assert.equal(heapGrowthFlag([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    assert.equal(heapGrowthFlag(['--enable-source-maps', '--max-old-space-size=512']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    assert.equal(heapGrowthFlag(['--heap-growing-percent=100']), undefined, 'a node flag wins');
    assert.equal(heapGrowthFlag(['--heap_growing_percent=20']), undefined, 'in either spelling');
  });
});
