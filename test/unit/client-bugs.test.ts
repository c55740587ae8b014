import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/kafka/client-bugs.js';
import { transientCause } from '../../src/kafka/transient.js';

describe('the client\'s KafkaJS error mapping (upstream bug in @confluentinc/kafka-javascript 1.10.1)', () => {
  it('maps COORDINATOR_NOT_AVAILABLE (15) to an error object, not a TypeError that kills the process', () => {
    const require = createRequire(import.meta.url);
    const common = require('@confluentinc/kafka-javascript/lib/kafkajs/_common.js') as { createKafkaJsErrorFromLibRdKafkaError(error: unknown): Error & { code: number } };
    const mapped = common.createKafkaJsErrorFromLibRdKafkaError(Object.assign(new Error('Broker: Coordinator not available'), { code: 15 }));
    assert.ok(mapped instanceof Error);
    assert.equal(mapped.code, 15);
    assert.equal(mapped.name, 'KafkaJSGroupCoordinatorNotAvailableError');
    // And a step asks again: the coordinator is moving.
    assert.equal(transientCause(mapped), 'coordinator');
  });
});
