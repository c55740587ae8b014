import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LibraryLog } from '../../src/kafka/library-log.js';
import type { Logger } from '../../src/logger.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as unknown as Logger;

describe("librdkafka's log", () => {
  it('keeps the reason of a fatal error, which the error itself does not carry', () => {
    const log = new LibraryLog(['127.0.0.1:9092'], quiet, () => assert.fail('not a failure of its own'));
    assert.equal(log.fatalReason, undefined);
    log.seen('[thrd:main]: Fatal error: Local: Fatal error');
    assert.equal(log.fatalReason, undefined, 'nothing more than the error says');
    log.seen('FATAL [thrd:main]: Fatal error: Broker: The instance ID is still used by another member in the consumer group: ConsumerGroupHeartbeat failed');
    assert.match(log.fatalReason ?? '', /^Broker: The instance ID is still used by another member in the consumer group/);
  });
});
