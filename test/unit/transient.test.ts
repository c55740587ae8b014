import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/kafka/client-bugs.js';
import { describeMissing, transientCause } from '../../src/kafka/transient.js';

const coded = (code: number, message = `code ${code}`): Error => Object.assign(new Error(message), { code });

describe('transient broker errors', () => {
  it('are told by code, and name what is missing', () => {
    assert.equal(transientCause(coded(16)), 'coordinator');
    assert.equal(transientCause(coded(15)), 'coordinator');
    assert.equal(transientCause(coded(14)), 'coordinator');
    assert.equal(transientCause(coded(5)), 'leader');
    assert.equal(transientCause(coded(19)), 'replicas');
    assert.equal(transientCause(coded(20)), 'replicas');
    assert.equal(transientCause(coded(7)), 'broker');
    assert.equal(transientCause(coded(-195)), 'broker');
    assert.equal(transientCause(coded(29)), undefined);
    assert.equal(transientCause('text'), undefined);
    assert.match(describeMissing('replicas') ?? '', /NOT_ENOUGH_REPLICAS/);
    assert.equal(describeMissing('coordinator', 'transaction'), 'the transaction coordinator');
  });

  it('an aggregate is transient only when every part is, and names the most specific part', () => {
    const aggregate = (...errors: Error[]): Error => Object.assign(new Error('Topic creation errors'), { errors });
    assert.equal(transientCause(aggregate(coded(-185), coded(5))), 'leader');
    assert.equal(transientCause(aggregate(coded(-185), coded(29))), undefined);
  });
});

describe('the client\'s KafkaJS error mapping (upstream bug in @confluentinc/kafka-javascript 1.10.1)', () => {
  it('maps COORDINATOR_NOT_AVAILABLE (15) to an error object, not a TypeError', () => {
    const require = createRequire(import.meta.url);
    const common = require('@confluentinc/kafka-javascript/lib/kafkajs/_common.js') as { createKafkaJsErrorFromLibRdKafkaError(error: unknown): Error & { code: number } };
    const mapped = common.createKafkaJsErrorFromLibRdKafkaError(coded(15, 'Broker: Coordinator not available'));
    assert.ok(mapped instanceof Error);
    assert.equal(mapped.code, 15);
    assert.equal(mapped.name, 'KafkaJSGroupCoordinatorNotAvailableError');
    assert.equal(transientCause(mapped), 'coordinator');
  });
});
