import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Committer } from '../../src/consume/committer.js';
import { silentLogger } from '../../src/logger.js';

const UNKNOWN_MEMBER = Object.assign(new Error('Broker: Unknown member'), { code: 25 });

describe('the committer', () => {
  it('stops trying at the end once the group put the consumer out, instead of for ever (issue 25, point 1)', async () => {
    const warnings: string[] = [];
    let tries = 0;
    const committer = new Committer(async () => {
      tries++;
      throw UNKNOWN_MEMBER;
    }, 60_000, { ...silentLogger, warn: (line: string) => warnings.push(line) });
    await committer.close(() => false, new AbortController().signal);
    assert.equal(tries, 1);
    assert.match(warnings[0] ?? '', /put this consumer out/);
    assert.match(warnings.at(-1) ?? '', /left to the partitions' next owner/);
  });

  it('says a commit refused for an old generation could be a rebalance, not only a consumer put out (KIP-848 moves the epoch as partitions are handed over)', async () => {
    const warnings: string[] = [];
    const committer = new Committer(async () => { throw Object.assign(new Error('Broker: Specified group generation id is not valid'), { code: 22 }); }, 60_000, { ...silentLogger, warn: (line: string) => warnings.push(line) });
    await committer.close(() => false, new AbortController().signal);
    assert.match(warnings[0] ?? '', /^commit refused under the group's previous generation \(a rebalance moved on, or the group put this consumer out\)/);
    assert.match(warnings.at(-1) ?? '', /left to the partitions' next owner/);
  });

  it('says a commit failing again and again once, not at every try', async () => {
    const warnings: string[] = [];
    const committer = new Committer(async () => { throw new Error('Broker: Coordinator not available'); }, 60_000, { ...silentLogger, warn: (line: string) => warnings.push(line) });
    for (let i = 0; i < 20; i++) await committer.now();
    const stop = new AbortController();
    stop.abort();
    await committer.close(() => true, stop.signal);
    assert.deepEqual(warnings, ['commit failed, trying again: Broker: Coordinator not available']);
  });
});
